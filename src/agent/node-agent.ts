// The node agent: reconciles this node with the desired certificates in the store (watch → write files →
// reload TLS listeners → record the applied revision in the store, which the API waits for).
//
// States and transitions (a ReconcileLoop runs the passes):
//   stopped --start()--> reconciling --done--> watching --change--> reconciling
//   reconciling --error--> backoff --timer--> reconciling
//   start() fails on its first pass (it throws; nothing is retried)
//   any --close()--> closed
// Reconciling is level-triggered: it reads the whole certificate prefix, so missed or merged events are harmless.
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterStore, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import type { Clock } from '../lib/clock.js';
import { type CertificateFiles, type CertificateSet, type InstalledCertificate } from './certificate-files.js';
import type { TlsContextRegistry } from './tls-context-registry.js';
import type { AppliedRecord } from '../domain/node-status.js';
import { ReconcileLoop, type ReconcileLoopState } from './reconcile-loop.js';
import { followPrefix } from '../store/follow-prefix.js';
import type { KeyEncryptionKey } from './key-encryption.js';

export type NodeAgentState = ReconcileLoopState;

export type { AppliedRecord } from '../domain/node-status.js';

export interface NodeAgentDeps {
  store: ClusterStore;
  nodeId: string;
  files: CertificateFiles;
  tls: TlsContextRegistry;
  clock: Clock;
  log: FastifyBaseLogger;
  retryDelayMs?: number;
  /** This node's key-encryption key, for encrypt_pkeys (key files encrypted at rest). */
  keyEncryption?: KeyEncryptionKey;
  /** Listeners in other processes (the data plane) apply a change asynchronously: awaited after the reload; throws = not applied. */
  listenersSettled?: () => Promise<void>;
}

export class NodeAgent {
  private watch: Watch | undefined;
  private appliedRevision = 0;
  private readonly loop: ReconcileLoop<number>;

  constructor(private readonly deps: NodeAgentDeps) {
    this.loop = new ReconcileLoop({
      pass: () => this.reconcileOnce(),
      onError: (error) => this.deps.log.error({ err: error }, 'node agent could not apply certificates; retrying'),
      retryDelayMs: deps.retryDelayMs ?? 2000,
    });
  }

  get state(): NodeAgentState {
    return this.loop.state;
  }

  /** Applies the current desired state (throws if it cannot), then follows changes. */
  async start(): Promise<void> {
    const revision = await this.loop.runFirst();
    await this.deps.files.removeStaleGenerations();
    // Level-triggered, so lost watch history (a compaction while this node was stopped) only needs a fresh pass.
    this.watch = await followPrefix({
      store: this.deps.store,
      prefix: keys.certificatePrefix,
      fromRevision: revision,
      onEvents: () => this.loop.request(),
      resync: async () => {
        const { revision: now } = await this.deps.store.list(keys.certificatePrefix);
        this.loop.request();
        return now;
      },
      onTrouble: (error, what) => this.deps.log.warn({ err: error }, `node agent: certificate ${what}; re-reading the certificates`),
      retryDelayMs: this.deps.retryDelayMs ?? 2000,
    });
    // encrypt_pkeys lives in the cluster document: turning it on or off rewrites the key files (other changes
    // of the document are none of the agent's business and cause no pass, hence no applied-record write).
    this.settingsWatch = await followPrefix({
      store: this.deps.store,
      prefix: keys.cluster,
      fromRevision: revision,
      onEvents: (events) => {
        const last = events.filter((e) => e.key === keys.cluster && e.type === 'put').at(-1);
        if (last !== undefined && encryptsKeys(last.value) !== this.encryptKeys) this.loop.request();
      },
      resync: async () => {
        const { revision: now } = await this.deps.store.list(keys.cluster);
        this.loop.request();
        return now;
      },
      onTrouble: (error, what) => this.deps.log.warn({ err: error }, `node agent: cluster settings ${what}; re-reading them`),
      retryDelayMs: this.deps.retryDelayMs ?? 2000,
    });
  }

  async close(): Promise<void> {
    const stopped = this.loop.close();
    await this.watch?.close();
    await this.settingsWatch?.close();
    await stopped;
  }

  private settingsWatch: Watch | undefined;
  /** encrypt_pkeys as the last pass read it. */
  private encryptKeys = false;

  /**
   * The certificates and encrypt_pkeys as of one store revision: the cluster document read after the listing
   * is the one at the listing's revision when it was last modified at or before it (else list again).
   */
  private async readDesired(): Promise<{ desired: CertificateSet; revision: number; encryptKeys: boolean }> {
    for (;;) {
      const { kvs, revision } = await this.deps.store.list(keys.certificatePrefix);
      const cluster = await this.deps.store.get(keys.cluster);
      if (cluster !== undefined && cluster.modRevision > revision) continue;
      const desired: CertificateSet = {};
      for (const kv of kvs) {
        desired[kv.key.slice(keys.certificatePrefix.length)] = JSON.parse(kv.value) as InstalledCertificate;
      }
      this.encryptKeys = cluster !== undefined && encryptsKeys(cluster.value);
      return { desired, revision, encryptKeys: this.encryptKeys };
    }
  }

  private async reconcileOnce(): Promise<number> {
    const { desired, revision, encryptKeys } = await this.readDesired();
    try {
      const protection = encryptKeys ? await this.keyProtection() : undefined;
      if (!(await this.deps.files.matches(desired, protection))) await this.deps.files.write(revision, desired, protection);
      this.reloadListeners(desired);
      await this.deps.listenersSettled?.();
    } catch (error) {
      await this.report({ failed_revision: revision, error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    this.appliedRevision = revision;
    await this.report({ failed_revision: null, error: null });
    return revision;
  }

  private reloadListeners(desired: CertificateSet): void {
    const names = new Set([...Object.keys(desired), ...this.knownNames]);
    for (const name of names) {
      const next = desired[name];
      const previous = this.deps.tls.get(name);
      if (next?.certificate === previous?.certificate && next?.key === previous?.key) continue;
      this.deps.tls.apply(name, next);
      this.deps.log.info({ certificate: name, removed: next === undefined }, 'certificate applied on this node');
    }
    this.knownNames = new Set(Object.keys(desired));
  }

  private knownNames = new Set<string>();

  private async keyProtection(): Promise<{ passphrase: string }> {
    if (this.deps.keyEncryption === undefined) throw new Error('encrypt_pkeys is on but this node has no key-encryption key');
    return this.deps.keyEncryption.protection();
  }

  private async report(outcome: Pick<AppliedRecord, 'failed_revision' | 'error'>): Promise<void> {
    const record: AppliedRecord = {
      node_uid: this.deps.nodeId,
      certificates_revision: this.appliedRevision,
      applied_at: this.deps.clock.now().toISOString(),
      ...outcome,
    };
    await this.deps.store.txn({
      success: [{ type: 'put', key: keys.nodeApplied(this.deps.nodeId), value: JSON.stringify(record) }],
    });
  }
}

function encryptsKeys(clusterDocument: string): boolean {
  return (JSON.parse(clusterDocument) as { encrypt_pkeys?: boolean }).encrypt_pkeys === true;
}
