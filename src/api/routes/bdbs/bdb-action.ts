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
import { randomBytes, randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import type { ApiDeps } from '../../api-deps.js';
import type { Caller } from '../../auth/caller.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { getJson } from '../../../store/cluster-store.js';
import { applyBdbUpdate, type BdbAppliedStatus, type BdbRecord } from '../../../domain/databases.js';
import { BDB_ACTIONS, isBdbAction, type BdbActionRequest, type BdbActionResult } from '../../../domain/database-actions.js';
import { updateEntity } from '../../state/entity-writes.js';
import { waitForKey } from '../../state/key-waiter.js';
import { bdbEntity, bdbResponse, bdbRulesContext, bdbStatus, readBdb, unwrapBdbRule } from './bdb-context.js';
import { parseUidParam } from '../uid-param.js';
import { changedFields, entityChangeOp } from '../../state/entity-events.js';

const ActionParams = Type.Object({ uid: Type.String({ maxLength: 12 }), action: Type.String({ maxLength: 64 }) });

export const bdbAction = defineRoute({
  method: 'PUT',
  url: '/v1/bdbs/:uid/:action',
  permission: 'update_bdb_with_action',
  schema: { params: ActionParams },
  handler: async ({ deps, caller, params }) => {
    const uid = parseUidParam(params.uid);
    const action = params.action;
    if (!isBdbAction(action)) {
      throw new ApiError(404, 'not_found', `Unknown database action '${action}'; known actions: ${BDB_ACTIONS.join(', ')}`);
    }
    const { record, modRevision } = await readBdb(deps, uid);
    const status = bdbStatus(modRevision, await getJson<BdbAppliedStatus>(deps.store, keys.bdbStatus(uid)));
    if (status !== 'active') throw new ApiError(409, 'busy', `Database ${uid} is ${status}, not active; retry when it is active`);
    return action === 'flush' ? flush(deps, caller, record, modRevision) : resetAdminPass(deps, caller, record, modRevision);
  },
});

async function flush(deps: ApiDeps, caller: Caller, record: BdbRecord, modRevision: number): Promise<unknown> {
  const request: BdbActionRequest = {
    request_id: randomUUID(),
    action: 'flush',
    uid: record.uid,
    node_uid: record.node_uid,
    requested_at: deps.clock.now().toISOString(),
  };
  const requestKey = keys.bdbAction(record.uid);
  const queued = await deps.store.txn({
    compare: [{ key: requestKey, target: 'version', op: '==', value: 0 }],
    success: [{ type: 'put', key: requestKey, value: JSON.stringify(request) }],
  });
  if (!queued.succeeded) throw new ApiError(409, 'busy', `Another action is queued on database ${record.uid}; retry`);

  const resultOf = (mine: (r: BdbActionResult) => boolean) => (value: BdbActionResult | undefined) =>
    value !== undefined && value.request_id === request.request_id && mine(value) ? value : undefined;
  const finished = (r: BdbActionResult): boolean => r.state !== 'running';
  let result = await waitForKey(deps.store, keys.bdbActionResult(record.uid), resultOf(finished), deps.applyTimeoutMs);
  if (result === undefined) {
    // Nobody claimed it in time: withdraw it, unless the node claims it at this very moment (then wait for it).
    const withdrawn = await deps.store.txn({
      compare: [{ key: requestKey, target: 'mod', op: '==', value: queued.revision }],
      success: [{ type: 'delete', key: requestKey }],
    });
    if (withdrawn.succeeded) {
      throw new ApiError(409, 'nodes_not_updated', `Node ${record.node_uid} did not take the flush of database ${record.uid} within ${deps.applyTimeoutMs} ms; the request was withdrawn and nothing was flushed`);
    }
    result = await waitForKey(deps.store, keys.bdbActionResult(record.uid), resultOf(finished), deps.applyTimeoutMs);
    if (result === undefined) {
      throw new ApiError(500, 'action_failed', `Node ${record.node_uid} started the flush of database ${record.uid} but did not confirm it within ${deps.applyTimeoutMs} ms`);
    }
  }
  if (result.state === 'failed') throw new ApiError(500, 'action_failed', `The flush of database ${record.uid} failed on node ${record.node_uid}: ${result.error ?? 'unknown error'}`);
  return bdbResponse(deps, caller, record, modRevision, 'active');
}

async function resetAdminPass(deps: ApiDeps, caller: Caller, existing: BdbRecord, modRevision: number): Promise<unknown> {
  const next = unwrapBdbRule(applyBdbUpdate(existing, { authentication_redis_pass: randomBytes(24).toString('base64url') }, await bdbRulesContext(deps)));
  const event = entityChangeOp(deps.clock, caller, {
    type: 'bdb_updated',
    target_type: 'bdb',
    target_uid: existing.uid,
    target_name: existing.name,
    changed_fields: changedFields(existing, next),
  });
  const written = await updateEntity(deps.store, bdbEntity, { uid: existing.uid, modRevision, previous: existing, next, alsoWrite: [event] });
  if (!written.succeeded) throw new ApiError(409, 'config_edit_conflict', `Database ${existing.uid} was changed concurrently; retry`);
  const applied = await waitForKey(
    deps.store,
    keys.bdbStatus(existing.uid),
    (value: BdbAppliedStatus | undefined) => (value !== undefined && value.applied_mod_revision >= written.revision ? value : undefined),
    deps.applyTimeoutMs,
  );
  if (applied === undefined) {
    throw new ApiError(409, 'nodes_not_updated', `The new password of database ${existing.uid} is stored, but node ${existing.node_uid} has not applied it within ${deps.applyTimeoutMs} ms; GET /v1/bdbs/${existing.uid} shows it`);
  }
  if (applied.status !== 'active') {
    throw new ApiError(500, 'action_failed', `Node ${existing.node_uid} could not apply the new password of database ${existing.uid}: ${applied.error ?? 'unknown error'}`);
  }
  return bdbResponse(deps, caller, next, written.revision, 'active');
}
