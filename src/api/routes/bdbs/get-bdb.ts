// GET /v1/bdbs/{uid} (digest §7.1): 404 for an unknown uid.
import { defineRoute } from '../../route.js';
import { bdbResponse, readBdb } from './bdb-context.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const getBdb = defineRoute({
  method: 'GET',
  url: '/v1/bdbs/:uid',
  permission: 'view_bdb_info',
  errors: ['not_found'],
  schema: { params: UidParams },
  handler: async ({ deps, caller, params }) => {
    const { record, modRevision } = await readBdb(deps, parseUidParam(params.uid));
    return bdbResponse(deps, caller, record, modRevision);
  },
});
