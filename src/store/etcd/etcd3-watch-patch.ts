// A guard around a bug of the etcd3 client (1.1.2): when etcd comes back after a restart and several watches are
// re-attached from revisions it has compacted meanwhile, the client's WatchManager can receive a response for a
// watch id it no longer knows and *throws* from its stream 'data' handler ("Failed to find watcher for
// IWatchResponse", or "Got a watch creation error, but found no pending watchers"). Thrown there, the error is
// uncaught and ends the whole node. A response for a watcher that is gone has nobody to go to: it is dropped.
// Every certplane watch follows its prefix with followPrefix (store/follow-prefix.ts), which re-reads and watches
// again when its watch ends, so nothing is lost by dropping it.
import { createRequire } from 'node:module';

interface WatchManagerPrototype {
  handleResponse: (this: unknown, res: unknown) => void;
  handleCreatedResponse: (this: unknown, res: unknown) => void;
  __certplaneGuarded?: boolean;
}

const UNKNOWN_WATCHER = /Failed to find watcher for IWatchResponse|found no pending watchers/;

export function guardEtcd3WatchManager(onDropped: (error: Error) => void): void {
  const require = createRequire(import.meta.url);
  const { WatchManager } = require('etcd3/lib/watch.js') as { WatchManager: { prototype: WatchManagerPrototype } };
  const proto = WatchManager.prototype;
  if (proto.__certplaneGuarded === true) return;
  proto.__certplaneGuarded = true;
  for (const method of ['handleResponse', 'handleCreatedResponse'] as const) {
    const original = proto[method];
    proto[method] = function guarded(this: unknown, res: unknown): void {
      try {
        original.call(this, res);
      } catch (error) {
        if (error instanceof Error && UNKNOWN_WATCHER.test(error.message)) {
          onDropped(error);
          return;
        }
        throw error;
      }
    };
  }
}
