// What each node records in the store after reconciling: the store revision whose certificates and cluster
// document it now serves (certificates_revision, named before it covered the document too), or the revision it
// failed to apply and why. Written by the node agent, read by the API (src/api/state/apply-contract.ts).
export interface AppliedRecord {
  node_uid: string;
  certificates_revision: number;
  applied_at: string;
  /** Set when the last attempt failed: the revision it could not apply and why. */
  failed_revision: number | null;
  error: string | null;
}

/**
 * Where one cluster member stands with a change (the one definition of "applied", DESIGN.md "Data flows one
 * way"): a member whose lease lapsed is `down` and has not applied anything, whatever it recorded before; a
 * live member has `applied` once its recorded revision reaches the change, `failed` when it recorded a failure
 * at or after it, else it is still `pending`. Only `applied` counts; `pending` is the only state worth waiting
 * for. Members are the nodes that joined and were not removed (keys.nodeInfo).
 */
export type MemberApplyState = 'applied' | 'pending' | 'failed' | 'down';

export interface MemberProgress {
  /** The member's liveness key (keys.node) exists: its lease is alive. */
  live: boolean;
  /** The revision the member last recorded as applied (absent: nothing recorded yet). */
  appliedRevision: number | undefined;
  failedRevision?: number | null;
  error?: string | null;
}

export function memberApplyState(member: MemberProgress, revision: number): MemberApplyState {
  if (!member.live) return 'down';
  if (member.appliedRevision !== undefined && member.appliedRevision >= revision) return 'applied';
  if (member.error != null && (member.failedRevision ?? 0) >= revision) return 'failed';
  return 'pending';
}
