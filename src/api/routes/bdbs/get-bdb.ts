// GET /v1/bdbs/{uid} (digest §7.1): 404 for an unknown uid.
import { defineRoute } from '../../route.js';
import { bdbResponse, parseBdbUid, readBdb } from './bdb-context.js';
import { BdbUidParams } from './bdb-schemas.js';

export const getBdb = defineRoute({
  method: 'GET',
  url: '/v1/bdbs/:uid',
  permission: 'view_bdb_info',
  schema: { params: BdbUidParams },
  handler: async ({ deps, caller, params }) => {
    const { record, modRevision } = await readBdb(deps, parseBdbUid(params.uid));
    return bdbResponse(deps, caller, record, modRevision);
  },
});
