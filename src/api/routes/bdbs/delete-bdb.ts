// DELETE /v1/bdbs/{uid} (digest §7.1): removes the database from the desired state; its node stops the
// redis-server, closes the endpoint and removes the data. Answers with the bdb in status delete-pending.
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { bdbResponse, parseBdbUid, readBdb } from './bdb-context.js';
import { BdbUidParams } from './bdb-schemas.js';

export const deleteBdb = defineRoute({
  method: 'DELETE',
  url: '/v1/bdbs/:uid',
  permission: 'delete_bdb',
  schema: { params: BdbUidParams },
  handler: async ({ deps, caller, params }) => {
    const { record, modRevision } = await readBdb(deps, parseBdbUid(params.uid));
    const result = await deps.store.txn({
      compare: [{ key: keys.bdb(record.uid), target: 'mod', op: '==', value: modRevision }],
      success: [
        { type: 'delete', key: keys.bdb(record.uid) },
        { type: 'delete', key: keys.bdbPortIndex(record.port) },
        { type: 'delete', key: keys.bdbNameIndex(record.name) },
      ],
    });
    if (!result.succeeded) throw new ApiError(409, 'config_edit_conflict', `Database ${record.uid} was changed concurrently; retry`);
    return bdbResponse(deps, caller, record, undefined, 'delete-pending');
  },
});
