// DELETE /v1/bdbs/{uid} (digest §7.1): removes the database from the desired state; its node stops the
// redis-server, closes the endpoint and removes the data. Answers with the bdb in status delete-pending.
// bdb_deleted is logged in the same transaction.
import { defineRoute } from '../../route.js';
import * as bdbs from '../../services/bdbs.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const deleteBdb = defineRoute({
  method: 'DELETE',
  url: '/v1/bdbs/:uid',
  permission: 'delete_bdb',
  errors: ['not_found', 'config_edit_conflict'],
  schema: { params: UidParams },
  handler: async ({ deps, caller, params }) => bdbs.deleteBdb(deps, caller, parseUidParam(params.uid)),
});
