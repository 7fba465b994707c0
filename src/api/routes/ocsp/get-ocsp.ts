// GET /v1/ocsp (digest §3.1, seed 003): the ocsp object; responder_url is read from the proxy certificate's AIA.
import { defineRoute } from '../../route.js';
import * as ocsp from '../../services/ocsp.js';

export const getOcsp = defineRoute({
  method: 'GET',
  url: '/v1/ocsp',
  permission: 'view_ocsp_config',
  errors: ['ocsp_unsupported_by_capability'],
  schema: {},
  handler: async ({ deps }) => ocsp.getOcsp(deps),
});
