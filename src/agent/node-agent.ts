// The node agent: reconciles this node with the desired certificates and cluster settings in the store (watch →
// write files → reload TLS listeners → wait for the settings view to apply the cluster document → record the
// applied revision in the store, which the API waits for: src/api/state/apply-contract.ts).
//
// States and transitions (the loop engine, lib/loop.ts, runs the passes; `state` is the engine's):
//   idle --start()--> running --done--> idle (watching) --change--> running
//   running --error--> backoff --timer--> running
//   start() fails on its first pass (it throws; nothing is retried)
//   any --close()--> closed
// Reconciling is level-triggered: it reads the whole certificate prefix, so missed or merged events are harmless.
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterStore } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import type { Clock } from '../lib/clock.js';
import { type CertificateFiles, type CertificateSet } from './certificate-files.js';
import type { TlsContextRegistry } from './tls-context-registry.js';
import type { AppliedCertificates } from './applied-certificates.js';
import { CERTIFICATE_RECORD_PREFIX, isSameCertificateRecord, listCertificateRecords, type CertificateRecord } from '../store/certificate-records.js';
import type { AppliedRecord } from '../domain/node-status.js';
import { Loop, type LoopState } from '../lib/loop.js';
import { followPrefix, followPrefixesWaking } from '../store/follow-prefix.js';
import type { KeyEncryptionKey } from './key-encryption.js';

export type NodeAgentState = LoopState;

export type { AppliedRecord } from '../domain/node-status.js';

export interface NodeAgentDeps {
  store: ClusterStore;
  nodeId: string;
  files: CertificateFiles;
  /** What this node serves: the agent records each certificate here once applied (it is the only writer). */
  applied: AppliedCertificates;
  /** Rebuilds the TLS contexts of the listeners that use a certificate the agent applied. */
  tls: TlsContextRegistry;
  clock: Clock;
  log: FastifyBaseLogger;
  retryDelayMs?: number;
  /** This node's key-encryption key, for encrypt_pkeys (key files encrypted at rest). */
  keyEncryption?: KeyEncryptionKey;
  /** This node's view of the cluster document (ClusterSettingsWatcher): a pass records a revision as applied
   *  only once the document as of that revision is applied here. Without it the record covers certificates only. */
  settings?: SettingsApplication;
  /** Listeners in other processes (the data plane) apply a change asynchronously: awaited after the reload; throws = not applied. */
  listenersSettled?: () => Promise<void>;
  /** Applies the CRL document (keys.crls, certplane extension; undefined when absent) to this node's listeners;
   *  throws = not applied. A change of the document is a pass, like a certificate change. */
  revocation?: (document: unknown) => Promise<void>;
}

/** Resolves once the cluster document at this modRevision is applied on this node; rejects if it cannot be. */
export interface SettingsApplication {
  whenApplied(revision: number): Promise<void>;
}

export class NodeAgent {
  private appliedRevision = 0;
  private readonly loop: Loop<number>;

  constructor(private readonly deps: NodeAgentDeps) {
    this.loop = new Loop({
      pass: () => this.reconcileOnce(),
      onError: (error) => this.deps.log.error({ err: error }, 'node agent could not apply certificates; retrying'),
      backoff: deps.retryDelayMs ?? 2000,
    });
  }

  get state(): NodeAgentState {
    return this.loop.state;
  }

  /** Applies the current desired state (throws if it cannot), then follows changes. */
  async start(): Promise<void> {
    const revision = await this.loop.runOnce();
    await this.deps.files.removeStaleGenerations();
    // Level-triggered, so lost watch history (a compaction while this node was stopped) only needs a fresh pass.
    await this.loop.follow((wake) =>
      followPrefixesWaking(this.deps.store, [CERTIFICATE_RECORD_PREFIX], wake, {
        fromRevision: revision,
        onTrouble: (error, what) => this.deps.log.warn({ err: error }, `node agent: certificate ${what}; re-reading the certificates`),
        retryDelayMs: this.deps.retryDelayMs ?? 2000,
      }),
    );
    // Every change of the CRL document (certplane extension) is a pass: PUT /v1/cluster/crls waits for it.
    if (this.deps.revocation !== undefined) {
      await this.loop.follow((wake) =>
        followPrefix({
          store: this.deps.store,
          prefix: keys.crls,
          fromRevision: revision,
          onEvents: (events) => {
            if (events.some((e) => e.key === keys.crls)) wake();
          },
          resync: async () => {
            const { revision: now } = await this.deps.store.list(keys.crls);
            wake();
            return now;
          },
          onTrouble: (error, what) => this.deps.log.warn({ err: error }, `node agent: CRLs ${what}; re-reading them`),
          retryDelayMs: this.deps.retryDelayMs ?? 2000,
        }),
      );
    }
    // Every change of the cluster document is a pass: the applied record then says the node applies it (its
    // settings view and listeners have it; encrypt_pkeys turned on or off also rewrites the key files), which
    // PUT /v1/cluster waits for on every member like a certificate change.
    await this.loop.follow((wake) =>
      followPrefix({
        store: this.deps.store,
        prefix: keys.cluster,
        fromRevision: revision,
        onEvents: (events) => {
          if (events.some((e) => e.key === keys.cluster && e.type === 'put')) wake();
        },
        resync: async () => {
          const { revision: now } = await this.deps.store.list(keys.cluster);
          wake();
          return now;
        },
        onTrouble: (error, what) => this.deps.log.warn({ err: error }, `node agent: cluster settings ${what}; re-reading them`),
        retryDelayMs: this.deps.retryDelayMs ?? 2000,
      }),
    );
  }

  /** Stops following the store; resolves when a pass under way has ended. */
  async close(): Promise<void> {
    await this.loop.close();
  }


  /**
   * The certificates, encrypt_pkeys and the cluster document's modRevision as of one store revision: the
   * cluster document read after the listing is the one at the listing's revision when it was last modified at
   * or before it (else list again).
   */
  private async readDesired(): Promise<{ desired: CertificateSet; revision: number; encryptKeys: boolean; clusterRevision: number; crls: unknown }> {
    for (;;) {
      const { records, revision } = await listCertificateRecords(this.deps.store);
      const cluster = await this.deps.store.get(keys.cluster);
      if (cluster !== undefined && cluster.modRevision > revision) continue;
      const crlKv = this.deps.revocation === undefined ? undefined : await this.deps.store.get(keys.crls);
      if (crlKv !== undefined && crlKv.modRevision > revision) continue;
      const crls: unknown = crlKv === undefined ? undefined : JSON.parse(crlKv.value);
      const desired: CertificateSet = {};
      for (const [name, { record }] of records) desired[name] = record;
      const encryptKeys = cluster !== undefined && encryptsKeys(cluster.value);
      return { desired, revision, encryptKeys, clusterRevision: cluster?.modRevision ?? 0, crls };
    }
  }

  private async reconcileOnce(): Promise<number> {
    const { desired, revision, encryptKeys, clusterRevision, crls } = await this.readDesired();
    try {
      const protection = encryptKeys ? await this.keyProtection() : undefined;
      if (!(await this.deps.files.matches(desired, protection))) await this.deps.files.write(revision, desired, protection);
      this.reloadListeners(desired);
      if (clusterRevision > 0) await this.deps.settings?.whenApplied(clusterRevision);
      await this.deps.listenersSettled?.();
      await this.deps.revocation?.(crls);
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
      if (isSameCertificateRecord(next, this.deps.applied.get(name))) continue;
      this.applyCertificate(name, next);
      this.deps.log.info({ certificate: name, removed: next === undefined }, 'certificate applied on this node');
    }
    this.knownNames = new Set(Object.keys(desired));
  }

  private knownNames = new Set<string>();

  /** Serves `next` under `name` from now on: recorded as applied, then every listener that uses it is rebuilt;
   *  if a listener rejects it, the previous record is restored and the error propagates (the pass fails). */
  private applyCertificate(name: string, next: CertificateRecord | undefined): void {
    const previous = this.deps.applied.get(name);
    this.deps.applied.set(name, next);
    try {
      this.deps.tls.reloadUsers(name);
    } catch (error) {
      this.deps.applied.set(name, previous);
      throw error;
    }
  }

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
