// GET /v1/bdbs (digest §7.1): every database, with the status its node reports.
import { defineRoute } from '../../route.js';
import { keys } from '../../../store/keys.js';
import type { BdbRecord } from '../../../domain/databases.js';
import { bdbResponse } from './bdb-context.js';

export const listBdbs = defineRoute({
  method: 'GET',
  url: '/v1/bdbs',
  permission: 'view_all_bdbs_info',
  schema: {},
  handler: async ({ deps, caller }) => {
    const { kvs } = await deps.store.list(keys.bdbPrefix);
    return Promise.all(kvs.map((kv) => bdbResponse(deps, caller, JSON.parse(kv.value) as BdbRecord, kv.modRevision)));
  },
});
