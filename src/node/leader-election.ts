// Chooses the one node that runs cluster-wide background work (OCSP polling, expiry checks): a leader key
// (keys.leader(role)) created with a compare (version == 0) and attached to the candidate's lease. Followers
// watch the key and campaign again when it is deleted, which etcd does when the leader's lease expires (a dead
// leader is replaced within about one lease TTL) or when the leader resigns on close.
//
// States and transitions:
//   idle --start()--> campaigning --won--> leader --lease lost / key deleted--> campaigning
//   campaigning --lost--> follower --key deleted--> campaigning
//   campaigning --store unavailable--> backoff --timer--> campaigning
//   any --close()--> closed (a leader deletes its key so a follower takes over at once)
// A campaign is a pass of the loop engine (lib/loop.ts): a key change during a campaign runs one more after it.
// A partitioned leader learns that its lease lapsed only when its keep-alives give up, so for up to about one
// TTL two nodes may both believe they lead: work that writes to the store should fence itself with
// `fence()` (a compare that holds only while this node owns the key), and all such work must be idempotent.
import type { FastifyBaseLogger } from 'fastify';
import { type ClusterStore, type Compare, type Lease, type Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { Loop } from '../lib/loop.js';

export type LeaderElectionState = 'idle' | 'campaigning' | 'leader' | 'follower' | 'backoff' | 'closed';

export interface LeaderElectionDeps {
  store: ClusterStore;
  nodeId: string;
  /** What is being led; one key per role. */
  role: string;
  leaseTtlSeconds: number;
  log: FastifyBaseLogger;
  retryDelayMs?: number;
}

export class LeaderElection {
  state: LeaderElectionState = 'idle';
  private lease: Lease | undefined;
  private watch: Watch | undefined;
  private readonly campaigns: Loop;
  private readonly listeners = new Set<(isLeader: boolean) => void>();
  private readonly key: string;

  constructor(private readonly deps: LeaderElectionDeps) {
    this.key = keys.leader(deps.role);
    this.campaigns = new Loop({
      pass: () => this.runCampaign(),
      onError: (error) => {
        this.setState('backoff');
        this.deps.log.warn({ err: error }, 'leader election: store unavailable, retrying');
      },
      backoff: deps.retryDelayMs ?? 1000,
    });
  }

  isLeader(): boolean {
    return this.state === 'leader';
  }

  /** Called with true when this node becomes leader and false when it stops being leader. */
  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A compare for transactions that must only apply while this node leads. */
  fence(): Compare {
    return { key: this.key, target: 'value', op: '==', value: this.deps.nodeId };
  }

  /** Starts campaigning; resolves after the first attempt (leader or follower), never throws. */
  async start(): Promise<void> {
    this.campaigns.wake();
    await this.campaigns.settled();
  }

  async close(): Promise<void> {
    const wasLeader = this.state === 'leader';
    this.state = 'closed';
    await this.campaigns.close();
    await this.watch?.close().catch(() => undefined);
    if (wasLeader) {
      // Resign: delete the key only if it is still ours, so a follower need not wait for the lease to expire.
      await this.deps.store.txn({ compare: [this.fence()], success: [{ type: 'delete', key: this.key }] }).catch(() => undefined);
      this.emit(false);
    }
    await this.lease?.revoke().catch(() => undefined);
  }

  private async runCampaign(): Promise<void> {
    this.setState('campaigning');
    const { store, nodeId } = this.deps;
    await this.watch?.close().catch(() => undefined);
    this.watch = undefined;
    const lease = await this.currentLease();
    let result = await store.txn({
      compare: [{ key: this.key, target: 'version', op: '==', value: 0 }],
      success: [{ type: 'put', key: this.key, value: nodeId, lease: lease.id }],
    });
    if (!result.succeeded) {
      // Still ours from a previous process of this node (its lease not yet expired): take it over with ours.
      result = await store.txn({ compare: [this.fence()], success: [{ type: 'put', key: this.key, value: nodeId, lease: lease.id }] });
    }
    if (this.isClosed()) return;
    const won = result.succeeded;
    // Follow the key from the revision we acted at: a delete means the leadership is free (or no longer ours).
    this.watch = await store.watchPrefix(this.key, result.revision, (events) => {
      if (events.some((e) => e.key === this.key && (e.type === 'delete' || (won && e.value !== nodeId)))) this.lostKey();
    }, () => this.lostKey()); // lost watch history (compaction): campaign again, which re-reads the key
    if (this.isClosed()) {
      await this.watch.close().catch(() => undefined);
      return;
    }
    this.setState(won ? 'leader' : 'follower');
    if (!won) {
      // The holder may have vanished between our txn and the watch: check once.
      if ((await store.get(this.key)) === undefined) this.lostKey();
    }
  }

  private async currentLease(): Promise<Lease> {
    if (this.lease !== undefined) return this.lease;
    const lease = await this.deps.store.grantLease(this.deps.leaseTtlSeconds);
    this.lease = lease;
    lease.onLost?.((error) => {
      if (this.lease !== lease || this.isClosed()) return;
      this.lease = undefined;
      this.deps.log.warn({ err: error }, 'leader election: lease lapsed');
      this.lostKey();
    });
    return lease;
  }

  private lostKey(): void {
    if (this.isClosed()) return;
    if (this.state === 'leader') this.setState('campaigning');
    // A campaign under way is followed by another, so the new situation is seen.
    this.campaigns.wake();
  }

  private setState(next: LeaderElectionState): void {
    const wasLeader = this.state === 'leader';
    this.state = next;
    const isLeader = next === 'leader';
    if (wasLeader !== isLeader) {
      this.deps.log.info({ role: this.deps.role, node: this.deps.nodeId, leader: isLeader }, isLeader ? 'this node is now the leader' : 'this node is no longer the leader');
      this.emit(isLeader);
    }
  }

  private emit(isLeader: boolean): void {
    for (const listener of this.listeners) listener(isLeader);
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }
}
