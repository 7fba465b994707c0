// Who this node is in the cluster and that it is alive: its uid (allocated from the store on the first start
// against a shared store, then kept in <data-dir>/node-id), its permanent record (keys.nodeInfo, shown by
// GET /v1/nodes even while the node is down) and its liveness key (keys.node, attached to a lease: it vanishes
// when the node stops keeping the lease alive). A lapsed lease is replaced and the node re-registers.
//
// Registration states and transitions:
//   registering --txn ok--> registered --lease lost--> registering (again after retryDelayMs while the store is down;
//                                                         a pass of the loop engine, lib/loop.ts)
//   registering --the uid was removed (tombstone)--> removed (onRemoved: the node shuts down, never rejoins)
//   any --close()--> closed (lease revoked: the liveness key goes at once)
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { ConstantBackoff, handleType, retry } from 'cockatiel';
import { type ClusterStore, type Lease, StoreUnavailableError } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import type { Clock } from '../lib/clock.js';
import { writeFileDurably } from '../agent/atomic-file.js';
import { rsSoftwareVersion, type NodeInfoRecord, type NodeLiveRecord, type RemovedNodeRecord } from '../domain/nodes.js';
import { CERTPLANE_VERSION } from '../lib/version.js';
import { Loop } from '../lib/loop.js';

/**
 * The uid of this node. The embedded (SQLite) store has one node: uid 1. On a shared store the first start
 * takes the next value of the node_uid counter (compare-and-swap, so concurrent starts get distinct uids) and
 * keeps it in <data-dir>/node-id; later starts reuse it.
 */
export async function resolveNodeId(store: ClusterStore, dataDir: string, shared: boolean): Promise<string> {
  const file = path.join(dataDir, 'node-id');
  const existing = await readFile(file, 'utf8').then((text) => text.trim(), () => undefined);
  if (existing !== undefined && existing !== '') {
    // An operator removed this node (POST /v1/nodes/{uid}/actions/remove): it must not rejoin silently.
    await assertNotRemoved(store, existing, dataDir);
    // A store that was wiped (or another cluster) must not hand this uid to a new node.
    if (shared) await advanceCounterTo(store, Number(existing));
    return existing;
  }
  const nodeId = shared ? String(await allocateNodeUid(store)) : '1';
  await writeFileDurably(file, `${nodeId}\n`, 0o600);
  return nodeId;
}

/** This node's uid was removed from the cluster: it refuses to start (or, running, shuts down) and says why. */
export class NodeRemovedError extends Error {
  override name = 'NodeRemovedError';
  constructor(
    readonly nodeId: string,
    record: RemovedNodeRecord | undefined,
    dataDir?: string,
  ) {
    const when = record === undefined ? '' : ` at ${record.removed_at} by ${record.removed_by}`;
    super(
      `node ${nodeId} was removed from the cluster${when} (POST /v1/nodes/${nodeId}/actions/remove) and will not rejoin ` +
        `with its old data dir${dataDir === undefined ? '' : ` (${dataDir})`}; to add this machine again, start it with an empty --data-dir: it joins as a new node`,
    );
  }
}

async function assertNotRemoved(store: ClusterStore, nodeId: string, dataDir?: string): Promise<void> {
  const tombstone = await store.get(keys.removedNode(nodeId));
  if (tombstone !== undefined) throw new NodeRemovedError(nodeId, JSON.parse(tombstone.value) as RemovedNodeRecord, dataDir);
}

async function allocateNodeUid(store: ClusterStore): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const counter = await store.get(keys.counter('node_uid'));
    const next = (counter === undefined ? 0 : Number(counter.value)) + 1;
    const result = await store.txn({
      compare: [{ key: keys.counter('node_uid'), target: 'version', op: '==', value: counter?.version ?? 0 }],
      success: [{ type: 'put', key: keys.counter('node_uid'), value: String(next) }],
    });
    if (result.succeeded) return next;
  }
  throw new Error('could not allocate a node uid: too many concurrent joins');
}

async function advanceCounterTo(store: ClusterStore, uid: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const counter = await store.get(keys.counter('node_uid'));
    if (counter !== undefined && Number(counter.value) >= uid) return;
    const result = await store.txn({
      compare: [{ key: keys.counter('node_uid'), target: 'version', op: '==', value: counter?.version ?? 0 }],
      success: [{ type: 'put', key: keys.counter('node_uid'), value: String(uid) }],
    });
    if (result.succeeded) return;
  }
}

export interface NodeRegistrationDeps {
  store: ClusterStore;
  nodeId: string;
  name: string;
  address: string;
  apiPort: number;
  leaseTtlSeconds: number;
  clock: Clock;
  log: FastifyBaseLogger;
  retryDelayMs?: number;
  softwareVersion?: string;
  /** Called once when the store says this node was removed while it ran: the owner shuts the node down. */
  onRemoved?: (error: NodeRemovedError) => void;
}

export type NodeRegistrationState = 'registering' | 'registered' | 'removed' | 'closed';

export class NodeRegistration {
  state: NodeRegistrationState = 'registering';
  private lease: Lease | undefined;
  private readonly startedAt: string;
  /** Registers again after the lease lapsed, retrying while the store is down. */
  private readonly reregistering: Loop;

  constructor(private readonly deps: NodeRegistrationDeps) {
    this.startedAt = deps.clock.now().toISOString();
    this.reregistering = new Loop({
      pass: () => this.registerAgain(),
      onError: (error) => {
        if (!(error instanceof StoreUnavailableError)) this.deps.log.error({ err: error }, 'node registration failed');
      },
      backoff: deps.retryDelayMs ?? 1000,
    });
  }

  /** Registers once (throws if the store is unreachable); afterwards re-registers by itself whenever the lease lapses. */
  async start(): Promise<void> {
    await this.register();
  }

  async close(): Promise<void> {
    this.state = 'closed';
    await this.reregistering.close();
    await this.lease?.revoke().catch(() => undefined);
  }

  private async register(): Promise<void> {
    const { store, nodeId } = this.deps;
    const lease = await store.grantLease(this.deps.leaseTtlSeconds);
    const info: NodeInfoRecord = {
      uid: nodeId,
      name: this.deps.name,
      addr: this.deps.address,
      cnm_https_port: this.deps.apiPort,
      architecture: os.arch() === 'x64' ? 'x86_64' : os.arch() === 'arm64' ? 'aarch64' : os.arch(),
      os_version: await readOsVersion(),
      cores: os.availableParallelism(),
      total_memory: os.totalmem(),
      software_version: rsSoftwareVersion(this.deps.softwareVersion ?? CERTPLANE_VERSION),
      certplane_version: this.deps.softwareVersion ?? CERTPLANE_VERSION,
      joined_at: (await this.joinedAt()) ?? this.startedAt,
    };
    const live: NodeLiveRecord = { uid: nodeId, name: this.deps.name, addr: this.deps.address, cnm_https_port: this.deps.apiPort, status: 'active', started_at: this.startedAt };
    let registered: boolean;
    try {
      // Guarded: a removed uid never writes its record (or liveness) back.
      ({ succeeded: registered } = await store.txn({
        compare: [{ key: keys.removedNode(nodeId), target: 'version', op: '==', value: 0 }],
        success: [
          { type: 'put', key: keys.nodeInfo(nodeId), value: JSON.stringify(info) },
          { type: 'put', key: keys.node(nodeId), value: JSON.stringify(live), lease: lease.id },
        ],
      }));
    } catch (error) {
      await lease.revoke().catch(() => undefined);
      throw error;
    }
    if (!registered) {
      await lease.revoke().catch(() => undefined);
      const removed = await store.get(keys.removedNode(nodeId)).catch(() => undefined);
      throw new NodeRemovedError(nodeId, removed === undefined ? undefined : (JSON.parse(removed.value) as RemovedNodeRecord));
    }
    if (this.state === 'closed') {
      await lease.revoke().catch(() => undefined);
      return;
    }
    this.lease = lease;
    this.state = 'registered';
    lease.onLost?.((error) => this.handleLost(lease, error));
  }

  private async joinedAt(): Promise<string | undefined> {
    const kv = await this.deps.store.get(keys.nodeInfo(this.deps.nodeId));
    return kv === undefined ? undefined : (JSON.parse(kv.value) as NodeInfoRecord).joined_at;
  }

  private handleLost(lease: Lease, error: Error): void {
    if (this.state === 'closed' || this.lease !== lease) return;
    this.state = 'registering';
    this.deps.log.warn({ err: error }, 'node lease lapsed: registering again');
    this.reregistering.wake();
  }

  private async registerAgain(): Promise<void> {
    try {
      await this.register();
    } catch (error) {
      if (!(error instanceof NodeRemovedError)) throw error;
      this.state = 'removed';
      this.deps.log.error({ node: this.deps.nodeId }, error.message);
      this.deps.onRemoved?.(error);
      return;
    }
    this.deps.log.info({ node: this.deps.nodeId }, 'node registered again');
  }
}

/**
 * Waits until the store answers (a node started while etcd is down keeps trying rather than exiting), logging
 * now and then. Errors other than StoreUnavailableError are thrown at once.
 */
export async function waitForStore(store: ClusterStore, log: FastifyBaseLogger, retryDelayMs = 500): Promise<void> {
  const untilItAnswers = retry(handleType(StoreUnavailableError), { backoff: new ConstantBackoff(retryDelayMs) });
  untilItAnswers.onRetry(({ attempt, ...failure }) => {
    if ((attempt - 1) % 20 === 0) log.warn({ err: 'error' in failure ? failure.error : undefined }, 'waiting for the cluster store');
  });
  await untilItAnswers.execute(() => store.get(keys.cluster));
}

/** The distribution's name and version as RS shows it ("Ubuntu 22.04.5 LTS"), else the kernel. */
async function readOsVersion(): Promise<string> {
  const release = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
  return pretty ?? `${os.type()} ${os.release()}`;
}
