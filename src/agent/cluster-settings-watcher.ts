// Keeps this node's view of the cluster document (TLS versions, mTLS settings…) current by watching the
// store, and tells listeners when it changes so new connections get the new settings without a restart.
// whenApplied() tells the node agent when a document revision is applied here (view updated, every listener
// rebuilt), so the agent's applied record covers the cluster document too (src/api/state/apply-contract.ts).
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterStore, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { followPrefix } from '../store/follow-prefix.js';
import type { ClusterDocument, ClusterSettingsView } from '../domain/cluster-settings.js';

export class ClusterSettingsWatcher implements ClusterSettingsView {
  private settings: ClusterDocument | undefined;
  private revision = 0;
  private waiters: Array<{ revision: number; resolve: () => void }> = [];
  /** The revision whose update a listener could not apply, and why (cleared by the next clean update). */
  private failure: { revision: number; error: string } | undefined;
  private watch: Watch | undefined;
  private readonly listeners = new Set<(settings: ClusterDocument) => void>();

  constructor(
    private readonly store: ClusterStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    // Watch from the store revision of the read, not the document's modRevision: a document last changed
    // before a compaction would otherwise start a watch on history that is gone.
    const read = await this.read();
    this.settings = read.settings;
    this.revision = read.modRevision;
    this.watch = await followPrefix({
      store: this.store,
      prefix: keys.cluster,
      fromRevision: read.revision,
      onEvents: (events) => {
        const last = events.filter((e) => e.key === keys.cluster && e.type === 'put').at(-1);
        if (last !== undefined) this.update(JSON.parse(last.value) as ClusterDocument, last.revision);
      },
      // Lost watch history (compaction while this node was stopped): re-read the document and resume.
      resync: async () => {
        const again = await this.read();
        if (again.modRevision !== this.revision) this.update(again.settings, again.modRevision);
        return again.revision;
      },
      onTrouble: (error, what) => this.log.warn({ err: error }, `cluster settings ${what}; re-reading the cluster document`),
    });
  }

  private async read(): Promise<{ settings: ClusterDocument; modRevision: number; revision: number }> {
    const { kvs, revision } = await this.store.list(keys.cluster);
    const kv = kvs.find((k) => k.key === keys.cluster);
    if (kv === undefined) throw new Error('the cluster document is missing from the store');
    return { settings: JSON.parse(kv.value) as ClusterDocument, modRevision: kv.modRevision, revision };
  }

  private update(settings: ClusterDocument, revision: number): void {
    this.settings = settings;
    this.revision = revision;
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.revision > this.revision) return true;
      waiter.resolve();
      return false;
    });
    let failure: { revision: number; error: string } | undefined;
    for (const listener of this.listeners) {
      try {
        listener(settings);
      } catch (error) {
        failure = { revision, error: error instanceof Error ? error.message : String(error) };
        this.log.error({ err: error }, 'could not apply new cluster settings to a listener');
      }
    }
    this.failure = failure;
  }

  /**
   * Resolves once this node has applied the cluster document as of `revision` (its modRevision): the view holds
   * it and every listener was rebuilt with it. Rejects when a listener refused it, or when the view has not
   * reached it within `timeoutMs` (the node agent then records the failure and retries).
   */
  async whenApplied(revision: number, timeoutMs = 5000): Promise<void> {
    if (this.revision < revision) {
      await this.waitForRevision(revision, timeoutMs);
      if (this.revision < revision) throw new Error(`the cluster settings at revision ${revision} did not reach this node within ${timeoutMs} ms`);
    }
    if (this.failure !== undefined && this.failure.revision === this.revision) {
      throw new Error(`a listener could not apply the cluster settings: ${this.failure.error}`);
    }
  }

  current(): ClusterDocument {
    if (this.settings === undefined) throw new Error('ClusterSettingsWatcher has not started');
    return this.settings;
  }

  private waitForRevision(revision: number, timeoutMs: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push({ revision, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  onChange(listener: (settings: ClusterDocument) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.watch?.close();
    this.listeners.clear();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }
}
