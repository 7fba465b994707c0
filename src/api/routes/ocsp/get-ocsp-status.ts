// GET /v1/ocsp/status (digest §3.3): the cached status of the proxy certificate — cert_status, responder_url,
// produced_at, this_update, next_update, revocation_time (RFC 1123) — plus certplane's diagnostics of the last
// query (last_query_time, last_query_error, consecutive_failures). UNKNOWN when nothing verified is cached.
import { defineRoute } from '../../route.js';
import * as ocsp from '../../services/ocsp.js';

export const getOcspStatus = defineRoute({
  method: 'GET',
  url: '/v1/ocsp/status',
  permission: 'view_ocsp_status',
  errors: ['ocsp_unsupported_by_capability'],
  schema: {},
  handler: async ({ deps }) => ocsp.getOcspStatus(deps),
});
