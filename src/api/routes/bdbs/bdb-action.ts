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
import { waitForMemberKey } from '../../state/key-waiter.js';
import type { MemberProgress } from '../../../domain/node-status.js';
import { bdbEntity, bdbResponse, bdbRulesContext, bdbStatus, readBdb, unwrapBdbRule } from './bdb-context.js';
import { parseUidParam } from '../uid-param.js';
import { changedFields, entityChangeOp } from '../../state/entity-events.js';

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
    const { record, modRevision } = await readBdb(deps, uid);
    const status = bdbStatus(modRevision, await getJson<BdbAppliedStatus>(deps.store, keys.bdbStatus(uid)));
    if (status !== 'active') throw new ApiError('busy', `Database ${uid} is ${status}, not active; retry when it is active`);
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
    success: [
      { type: 'put', key: requestKey, value: JSON.stringify(request) },
      // Who asked, with the request it queued (the node runs it; a withdrawn one gets a bdb_flush_withdrawn event).
      entityChangeOp(deps.clock, caller, { type: 'bdb_flush_requested', target_type: 'bdb', target_uid: record.uid, target_name: record.name }),
    ],
  });
  if (!queued.succeeded) throw new ApiError('busy', `Another action is queued on database ${record.uid}; retry`);

  // The owning node's answer, judged like every other wait (memberApplyState): done is applied, failed is failed,
  // and a node that is down has not applied it (answered at once, not at the timeout).
  const progress = (value: BdbActionResult | undefined): Omit<MemberProgress, 'live'> => {
    if (value === undefined || value.request_id !== request.request_id || value.state === 'running') return { appliedRevision: undefined };
    return value.state === 'done' ? { appliedRevision: 1 } : { appliedRevision: undefined, failedRevision: 1, error: value.error ?? 'unknown error' };
  };
  const waitForOwner = () => waitForMemberKey(deps.store, String(record.node_uid), keys.bdbActionResult(record.uid), progress, 1, deps.applyTimeoutMs);
  let answer = await waitForOwner();
  if (answer.state === 'pending' || answer.state === 'down') {
    // Nobody claimed it (in time, or the node is down): withdraw it, unless the node claims it at this very
    // moment (then wait for it).
    const withdrawn = await deps.store.txn({
      compare: [{ key: requestKey, target: 'mod', op: '==', value: queued.revision }],
      success: [
        { type: 'delete', key: requestKey },
        entityChangeOp(deps.clock, caller, { type: 'bdb_flush_withdrawn', target_type: 'bdb', target_uid: record.uid, target_name: record.name }),
      ],
    });
    if (withdrawn.succeeded) {
      const why = answer.state === 'down' ? 'is down (its lease lapsed)' : `did not take it within ${deps.applyTimeoutMs} ms`;
      throw new ApiError('nodes_not_updated', `Node ${record.node_uid} ${why}: the flush of database ${record.uid} was withdrawn and nothing was flushed`, { nodes: [String(record.node_uid)] });
    }
    answer = await waitForOwner();
    if (answer.state === 'pending' || answer.state === 'down') {
      throw new ApiError('action_failed', `Node ${record.node_uid} started the flush of database ${record.uid} but did not confirm it${answer.state === 'down' ? ' (it is down)' : ` within ${deps.applyTimeoutMs} ms`}`);
    }
  }
  if (answer.state === 'failed') throw new ApiError('action_failed', `The flush of database ${record.uid} failed on node ${record.node_uid}: ${answer.value?.error ?? 'unknown error'}`);
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
  if (!written.succeeded) throw new ApiError('config_edit_conflict', `Database ${existing.uid} was changed concurrently; retry`);
  const applied = await waitForMemberKey(
    deps.store,
    String(existing.node_uid),
    keys.bdbStatus(existing.uid),
    (value: BdbAppliedStatus | undefined): Omit<MemberProgress, 'live'> =>
      value === undefined
        ? { appliedRevision: undefined }
        : value.status === 'active'
          ? { appliedRevision: value.applied_mod_revision }
          : { appliedRevision: undefined, failedRevision: value.applied_mod_revision, error: value.error ?? 'unknown error' },
    written.revision,
    deps.applyTimeoutMs,
  );
  if (applied.state === 'pending' || applied.state === 'down') {
    const why = applied.state === 'down' ? 'is down (its lease lapsed) and has not applied it' : `has not applied it within ${deps.applyTimeoutMs} ms`;
    throw new ApiError('nodes_not_updated', `The new password of database ${existing.uid} is stored, but node ${existing.node_uid} ${why}; GET /v1/bdbs/${existing.uid} shows it`, { nodes: [String(existing.node_uid)] });
  }
  if (applied.state === 'failed') {
    throw new ApiError('action_failed', `Node ${existing.node_uid} could not apply the new password of database ${existing.uid}: ${applied.value?.error ?? 'unknown error'}`);
  }
  return bdbResponse(deps, caller, next, written.revision, 'active');
}
