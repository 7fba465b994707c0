// OCSP stapling for TLS listeners: a staple source that keeps the cached, verified OCSP response of the proxy
// certificate in memory (from the store, followed by a watch, so every node staples what the poller cached),
// and attachOcspStapling, which answers Node's 'OCSPRequest' hook with it. The response is stapled only for
// the certificate it is about (matched by serial), while OCSP is enabled and before its nextUpdate; otherwise
// the handshake goes on without a staple.
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import type { ClusterStore, Watch, WatchEvent } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { followPrefix } from '../store/follow-prefix.js';
import type { Clock } from '../lib/clock.js';
import { ocspSettingsOrDefaults, type OcspSettings } from '../domain/ocsp-settings.js';
import { isStapleUsable, normalizeSerial, type OcspStatusRecord } from '../domain/ocsp-status.js';
import type { OcspLog } from './ocsp-poller.js';

export interface StapleSource {
  /** The DER OCSPResponse to staple for the certificate with this serial (hex), or undefined. */
  getStaple(serialHex: string): Buffer | undefined;
  /** Called after the settings or the cached response changed (not when a response merely ages out). */
  onChange(listener: () => void): () => void;
  /** The OCSP settings and the cached status record as this node last saw them (metrics; no store read). */
  current(): { settings: OcspSettings; record: OcspStatusRecord | undefined };
  close(): Promise<void>;
}

export async function createStapleSource(deps: { store: ClusterStore; clock: Clock }): Promise<StapleSource> {
  let settings: OcspSettings = ocspSettingsOrDefaults(undefined);
  let record: OcspStatusRecord | undefined;
  let der: Buffer | undefined;
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };
  const setRecord = (value: string | undefined): void => {
    record = value === undefined ? undefined : (JSON.parse(value) as OcspStatusRecord);
    der = record?.response?.der ? Buffer.from(record.response.der, 'base64') : undefined;
  };
  const readAll = async (): Promise<number> => {
    const { kvs, revision } = await deps.store.list(keys.ocspPrefix);
    settings = ocspSettingsOrDefaults(undefined);
    setRecord(undefined);
    for (const kv of kvs) {
      if (kv.key === keys.ocspSettings) settings = ocspSettingsOrDefaults(JSON.parse(kv.value) as Partial<OcspSettings>);
      if (kv.key === keys.ocspStatus) setRecord(kv.value);
    }
    return revision;
  };
  const revision = await readAll();
  const watch: Watch = await followPrefix({
    store: deps.store,
    prefix: keys.ocspPrefix,
    fromRevision: revision,
    onEvents: (events: WatchEvent[]) => {
      for (const event of events) {
        const value = event.type === 'put' ? event.value : undefined;
        if (event.key === keys.ocspSettings) settings = ocspSettingsOrDefaults(value === undefined ? undefined : (JSON.parse(value) as Partial<OcspSettings>));
        if (event.key === keys.ocspStatus) setRecord(value);
      }
      changed();
    },
    // Lost watch history (compaction): re-read the settings and the cached response.
    resync: async () => {
      const now = await readAll();
      changed();
      return now;
    },
  });
  return {
    getStaple(serialHex: string): Buffer | undefined {
      if (!settings.ocsp_functionality || der === undefined) return undefined;
      return isStapleUsable(record, serialHex, deps.clock.now()) ? der : undefined;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    current: () => ({ settings, record }),
    close: () => watch.close(),
  };
}

/**
 * certificate (DER, as Node's 'OCSPRequest' hook gives it) → the staple for it, or undefined. Never throws: a
 * stapling problem must not fail the handshake. The serial of the last certificate is cached (the hook runs
 * on every handshake that asks for a status, almost always with the same certificate).
 */
export function createStapleLookup(source: Pick<StapleSource, 'getStaple'>, log?: OcspLog): (certificate: Buffer) => Buffer | undefined {
  let lastCertificate: Buffer | undefined;
  let lastSerial = '';
  return (certificate) => {
    try {
      if (lastCertificate === undefined || !certificate.equals(lastCertificate)) {
        lastSerial = normalizeSerial(new X509Certificate(certificate).serialNumber);
        lastCertificate = Buffer.from(certificate);
      }
      return source.getStaple(lastSerial);
    } catch (error) {
      log?.warn({ err: error }, 'OCSP stapling skipped');
      return undefined;
    }
  };
}

/**
 * Staples the source's response into handshakes of `server` whose client asks for it (status_request). Must be
 * called before the server sees connections: Node enables the hook per socket when the socket is created.
 * Returns a function that detaches the hook.
 */
export function attachOcspStapling(server: tls.Server, source: Pick<StapleSource, 'getStaple'>, log?: OcspLog): () => void {
  const lookup = createStapleLookup(source, log);
  const onOcspRequest = (certificate: Buffer, _issuer: Buffer | null, callback: (error: Error | null, response?: Buffer | null) => void): void => {
    callback(null, lookup(certificate) ?? null);
  };
  server.on('OCSPRequest', onOcspRequest as never);
  return () => {
    server.off('OCSPRequest', onOcspRequest as never);
  };
}
