// GET /v1/bdbs/{uid} (digest §7.1): 404 for an unknown uid.
import { defineRoute } from '../../route.js';
import * as bdbs from '../../services/bdbs.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const getBdb = defineRoute({
  method: 'GET',
  url: '/v1/bdbs/:uid',
  permission: 'view_bdb_info',
  errors: ['not_found'],
  schema: { params: UidParams },
  handler: async ({ deps, caller, params }) => bdbs.getBdb(deps, caller, parseUidParam(params.uid)),
});
