// The cluster's members as the API's waits see them: every node that joined and was not removed
// (keys.nodeInfo), whether its lease is alive (keys.node) and what it recorded as applied (keys.nodeApplied).
// Read together, at one revision bound, so a wait can watch all three prefixes from there.
import type { ClusterStore } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import type { AppliedRecord } from '../../domain/node-status.js';

export interface MemberSnapshot {
  uid: string;
  live: boolean;
  applied: AppliedRecord | undefined;
}

/** The prefixes whose changes can change a wait's answer (membership, liveness, applied records). */
export const MEMBER_PREFIXES: readonly string[] = [keys.nodeInfoPrefix, keys.nodePrefix, keys.nodeAppliedPrefix];

export async function readMembers(store: ClusterStore): Promise<{ members: MemberSnapshot[]; revision: number }> {
  const [infos, lives, applied] = await Promise.all([store.list(keys.nodeInfoPrefix), store.list(keys.nodePrefix), store.list(keys.nodeAppliedPrefix)]);
  const live = new Set(lives.kvs.map((kv) => kv.key.slice(keys.nodePrefix.length)));
  const records = new Map(applied.kvs.map((kv) => [kv.key.slice(keys.nodeAppliedPrefix.length), JSON.parse(kv.value) as AppliedRecord]));
  const members = infos.kvs.map((kv) => {
    const uid = kv.key.slice(keys.nodeInfoPrefix.length);
    return { uid, live: live.has(uid), applied: records.get(uid) };
  });
  // Watching from the oldest of the three reads misses nothing (a change seen twice only re-observes).
  return { members, revision: Math.min(infos.revision, lives.revision, applied.revision) };
}
