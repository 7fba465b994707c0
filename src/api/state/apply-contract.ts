// The apply contract: when the API may answer a change that nodes must act on (DESIGN.md "Data flows one way").
// Every such change answers through confirmApplied(), the only place the rule is written:
//
//   Changes covered: certificate records (PUT /v1/cluster/certificates, PUT /v1/cluster/update_cert, DELETE
//   /v1/cluster/certificates/{name}) and every write of the cluster document (PUT /v1/cluster), which each node
//   serves from its own watched copy: the TLS policy of its control listeners (min_control_TLS_version,
//   control_cipher_suites, pq_key_exchange), the login settings checked per request (mtls_*,
//   control_plane_basic_authentication), the session settings, encrypt_pkeys (key files rewritten). Any field
//   change waits, so no per-field list can drift. Not covered: PUT /v1/cluster/policy (lockout settings are read
//   from the store per request: no node holds a copy), PUT /v1/ocsp (only the leader's poller acts on it; nodes
//   staple what it caches in the store), and database changes, which wait for the one node that owns the
//   database (key-waiter.ts waitForMemberKey, same memberApplyState); the database endpoints' own TLS settings
//   (min_data_TLS_version, data ciphers) are applied by each node's database reconciler, which reports per
//   database, not in the member's applied record.
//
//   "Applied" (domain/node-status memberApplyState, the one definition): a member has applied a change at store
//   revision R once its node agent recorded applied revision >= R (keys.nodeApplied) — it recorded it after a
//   pass that read every certificate record and the cluster document at or after R, wrote the files, rebuilt
//   every listener that uses them, and saw its settings view apply the document (src/agent/node-agent.ts).
//   A member that recorded a failure at or after R has failed it.
//
//   Which members count: every node that joined and was not removed (keys.nodeInfo). A live member (lease
//   alive) is waited for, for at most --apply-timeout-ms (ApiDeps.applyTimeoutMs). A member whose lease lapsed
//   is down: it has not applied the change and waiting cannot change that, so it is not waited for — the
//   answer comes as soon as no live member is still pending (not at the timeout), names it, and is never 200.
//   It stops counting only when an operator removes it (POST /v1/nodes/{uid}/actions/remove).
//
//   The answer: 200 once every member applied. Otherwise 409 nodes_not_updated (500 node_apply_failed where the
//   route says a member that failed is a server error: DELETE of a certificate) whose description names every member that
//   has not applied it and why (down / did not confirm within the timeout / its error), with their uids in
//   `nodes`. The change stays stored either way (it was committed before the wait): live members serve it,
//   the others converge when they come back, and a retry of the same request answers 200 once they have.
import type { ClusterStore } from '../../store/cluster-store.js';
import { ApiError } from '../../lib/api-error.js';
import { waitForNodesToApply, type ApplyOutcome } from './apply-waiter.js';

export interface ApplyContractDeps {
  store: ClusterStore;
  /** How long to wait for live members before answering 409 (--apply-timeout-ms). */
  applyTimeoutMs: number;
}

/** What a member that tried and failed makes of the answer: 409 nodes_not_updated, or 500 node_apply_failed where
 *  the route says a failure is a server error (DELETE of a certificate). Down or late members are always 409. */
export type NotUpdatedCode = 'nodes_not_updated' | 'node_apply_failed';

/** Waits until every member applied the change committed at `revision`; throws the contract's error otherwise. */
export async function confirmApplied(deps: ApplyContractDeps, revision: number, codeWhenFailed: NotUpdatedCode = 'nodes_not_updated'): Promise<void> {
  const outcome = await waitForNodesToApply(deps.store, revision, deps.applyTimeoutMs);
  if (outcome.ok) return;
  throw notUpdatedError(outcome, deps.applyTimeoutMs, outcome.failed.length > 0 ? codeWhenFailed : 'nodes_not_updated');
}

/** The 409 nodes_not_updated (500 node_apply_failed for deletes) that names every member that has not applied a change, and why. */
export function notUpdatedError(outcome: Exclude<ApplyOutcome, { ok: true }>, timeoutMs: number, code: NotUpdatedCode): ApiError {
  const reasons = [
    ...outcome.down.map((uid) => ({ uid, why: 'down: its lease lapsed' })),
    ...outcome.pending.map((uid) => ({ uid, why: `did not confirm within ${timeoutMs} ms` })),
    ...outcome.failed.map((f) => ({ uid: f.node_uid, why: f.error })),
  ].sort((a, b) => Number(a.uid) - Number(b.uid));
  return new ApiError(
    code,
    `Not all nodes have been updated: ${reasons.map((r) => `${r.uid} (${r.why})`).join(', ')}. The change is stored; live nodes serve it and the others converge when they come back. Retry to confirm, or remove a node that will not come back (POST /v1/nodes/{uid}/actions/remove).`,
    { nodes: reasons.map((r) => r.uid) },
  );
}
