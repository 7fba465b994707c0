// PUT /v1/bdbs/{uid}/{action} (digest §7.1, permission update_bdb_with_action), for an active database only
// (409 busy otherwise):
// - flush: queues a request in the store for the node that runs the database (src/domain/database-actions.ts),
//   which runs FLUSHALL on its redis-server; the answer waits up to --apply-timeout-ms for the node's result.
//   A request no node claimed in time is withdrawn (409 nodes_not_updated, nothing flushed); a flush that failed
//   or was claimed but not confirmed in time is 500 action_failed.
// - reset_admin_pass: a new random authentication_redis_pass (the default user's password), written like
//   PUT /v1/bdbs/{uid} does; the answer waits until the node has applied it. The body shows the password only to
//   callers holding view_redis_pass, as GET does.
// An unknown action is 404 not_found (the path names no resource), checked before the database is read.
// RS answers with an action_uid to poll; certplane answers when the action is done, with the bdb object.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { BDB_ACTIONS, isBdbAction } from '../../../domain/database-actions.js';
import { runBdbAction } from '../../services/bdb-actions.js';
import { parseUidParam } from '../uid-param.js';

const ActionParams = Type.Object({ uid: Type.String({ maxLength: 12 }), action: Type.String({ maxLength: 64 }) });

export const bdbAction = defineRoute({
  method: 'PUT',
  url: '/v1/bdbs/:uid/:action',
  permission: 'update_bdb_with_action',
  errors: ['not_found', 'busy', 'config_edit_conflict', 'nodes_not_updated', 'action_failed'],
  schema: { params: ActionParams },
  handler: async ({ deps, caller, params }) => {
    const uid = parseUidParam(params.uid);
    const action = params.action;
    if (!isBdbAction(action)) {
      throw new ApiError('not_found', `Unknown database action '${action}'; known actions: ${BDB_ACTIONS.join(', ')}`);
    }
    return runBdbAction(deps, caller, uid, action);
  },
});
