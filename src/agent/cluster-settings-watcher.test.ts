import { describe, expect, it } from 'vitest';
import { putValue } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { createLogger } from '../lib/logger.js';
import { ClusterSettingsWatcher } from './cluster-settings-watcher.js';
import { openTempStore } from '../../test/helpers/temp-store.js';

describe('ClusterSettingsWatcher.whenApplied', () => {
  it('resolves once every listener took the document, rejects while one refuses it, and rejects at the bound', async () => {
    const temp = await openTempStore('certplane-settings-');
    const { store } = temp;
    await putValue(store, keys.cluster, JSON.stringify({ control_cipher_suites: 'A' }));
    const watcher = new ClusterSettingsWatcher(store, createLogger('silent'));
    await watcher.start();
    try {
      let refuse = true;
      const seen: string[] = [];
      watcher.onChange((settings) => {
        if (refuse) throw new Error('bad context');
        seen.push(String((settings as unknown as { control_cipher_suites: string }).control_cipher_suites));
      });
      const refused = await putValue(store, keys.cluster, JSON.stringify({ control_cipher_suites: 'B' }));
      await expect(watcher.whenApplied(refused)).rejects.toThrow('bad context');
      refuse = false;
      const accepted = await putValue(store, keys.cluster, JSON.stringify({ control_cipher_suites: 'C' }));
      await watcher.whenApplied(accepted);
      expect(seen).toEqual(['C']);
      await expect(watcher.whenApplied(accepted + 1000, 50)).rejects.toThrow('did not reach this node');
    } finally {
      await watcher.close();
      await temp.destroy();
    }
  });
});
