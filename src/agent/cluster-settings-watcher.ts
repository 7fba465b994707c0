// Keeps this node's view of the cluster document (TLS versions, mTLS settings…) current by watching the
// store, and tells listeners when it changes so new connections get the new settings without a restart.
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterStore, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import type { ClusterDocument, ClusterSettingsView } from '../domain/cluster-settings.js';

export class ClusterSettingsWatcher implements ClusterSettingsView {
  private settings: ClusterDocument | undefined;
  private revision = 0;
  private waiters: Array<{ revision: number; resolve: () => void }> = [];
  private watch: Watch | undefined;
  private readonly listeners = new Set<(settings: ClusterDocument) => void>();

  constructor(
    private readonly store: ClusterStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    const kv = await this.store.get(keys.cluster);
    if (kv === undefined) throw new Error('the cluster document is missing from the store');
    this.settings = JSON.parse(kv.value) as ClusterDocument;
    this.revision = kv.modRevision;
    this.watch = await this.store.watchPrefix(keys.cluster, kv.modRevision, (events) => {
      const last = events.filter((e) => e.key === keys.cluster && e.type === 'put').at(-1);
      if (last === undefined) return;
      this.settings = JSON.parse(last.value) as ClusterDocument;
      this.revision = last.revision;
      this.waiters = this.waiters.filter((waiter) => {
        if (waiter.revision > this.revision) return true;
        waiter.resolve();
        return false;
      });
      for (const listener of this.listeners) {
        try {
          listener(this.settings);
        } catch (error) {
          this.log.error({ err: error }, 'could not apply new cluster settings to a listener');
        }
      }
    });
  }

  current(): ClusterDocument {
    if (this.settings === undefined) throw new Error('ClusterSettingsWatcher has not started');
    return this.settings;
  }

  waitForRevision(revision: number, timeoutMs = 5000): Promise<void> {
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
