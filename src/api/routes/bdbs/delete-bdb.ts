// DELETE /v1/bdbs/{uid} (digest §7.1): removes the database from the desired state; its node stops the
// redis-server, closes the endpoint and removes the data. Answers with the bdb in status delete-pending.
// bdb_deleted is logged in the same transaction.
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { deleteEntity } from '../../state/entity-writes.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { bdbEntity, bdbResponse, readBdb } from './bdb-context.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteBdb = defineRoute({
  method: 'DELETE',
  url: '/v1/bdbs/:uid',
  permission: 'delete_bdb',
  errors: ['not_found', 'config_edit_conflict'],
  schema: { params: UidParams },
  handler: async ({ deps, caller, params }) => {
    const { record, modRevision } = await readBdb(deps, parseUidParam(params.uid));
    const event = entityChangeOp(deps.clock, caller, { type: 'bdb_deleted', target_type: 'bdb', target_uid: record.uid, target_name: record.name });
    const result = await deleteEntity(deps.store, bdbEntity, record.uid, record, modRevision, [event]);
    if (!result.succeeded) throw new ApiError('config_edit_conflict', `Database ${record.uid} was changed concurrently; retry`);
    return bdbResponse(deps, caller, record, undefined, 'delete-pending');
  },
});
