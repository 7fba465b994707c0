// The ACME records of the cluster store (issue 15.2): settings, account, per-name status, hand-upload markers
// and pending http-01 answers. This module owns their keys and JSON form (src/store/keys.ts names them).
import type { ClusterStore, Compare, TxnOp } from './cluster-store.js';
import { keys } from './keys.js';
// The documents' shapes and defaults are src/domain/acme.ts (the store imports no domain module): readers here
// return the stored fields, callers merge them over the defaults.

/** The ACME account: its key (PKCS#8 PEM, never returned by the API), the directory it belongs to, its URL. */
export interface AcmeAccountRecord {
  directory_url: string;
  key: string;
  url?: string;
}

export const ACME_PREFIX = keys.acmePrefix;

export async function readAcmeSettings<T extends object>(store: ClusterStore): Promise<{ settings: Partial<T>; modRevision: number }> {
  const kv = await store.get(keys.acmeSettings);
  if (kv === undefined) return { settings: {}, modRevision: 0 };
  return { settings: JSON.parse(kv.value) as Partial<T>, modRevision: kv.modRevision };
}

/** The compare that holds while the settings are as read (absent stays absent). */
export function acmeSettingsUnchanged(modRevision: number): Compare {
  return modRevision === 0
    ? { key: keys.acmeSettings, target: 'version', op: '==', value: 0 }
    : { key: keys.acmeSettings, target: 'mod', op: '==', value: modRevision };
}

export function putAcmeSettingsOp(settings: object): TxnOp {
  return { type: 'put', key: keys.acmeSettings, value: JSON.stringify(settings) };
}

export async function readAcmeStatus<T extends object>(store: ClusterStore, name: string): Promise<Partial<T>> {
  const kv = await store.get(keys.acmeStatus(name));
  return kv === undefined ? {} : (JSON.parse(kv.value) as Partial<T>);
}

export function putAcmeStatusOp(name: string, status: object): TxnOp {
  return { type: 'put', key: keys.acmeStatus(name), value: JSON.stringify(status) };
}

export async function readAcmeManualMarkers<T>(store: ClusterStore): Promise<Map<string, T>> {
  const { kvs } = await store.list(keys.acmeManualPrefix);
  return new Map(kvs.map((kv) => [kv.key.slice(keys.acmeManualPrefix.length), JSON.parse(kv.value) as T]));
}

export function putAcmeManualMarkerOp(name: string, marker: object): TxnOp {
  return { type: 'put', key: keys.acmeManual(name), value: JSON.stringify(marker) };
}

export function deleteAcmeManualMarkerOp(name: string): TxnOp {
  return { type: 'delete', key: keys.acmeManual(name) };
}

export async function readAcmeAccount(store: ClusterStore): Promise<AcmeAccountRecord | undefined> {
  const kv = await store.get(keys.acmeAccount);
  return kv === undefined ? undefined : (JSON.parse(kv.value) as AcmeAccountRecord);
}

export function putAcmeAccountOp(account: AcmeAccountRecord): TxnOp {
  return { type: 'put', key: keys.acmeAccount, value: JSON.stringify(account) };
}

/** The key authorization a node answers for an http-01 token (RFC 8555 §8.3), or undefined. */
export async function readHttpChallenge(store: ClusterStore, token: string): Promise<string | undefined> {
  return (await store.get(keys.acmeChallenge(token)))?.value;
}

export function putHttpChallengeOp(token: string, keyAuthorization: string): TxnOp {
  return { type: 'put', key: keys.acmeChallenge(token), value: keyAuthorization };
}

export function deleteHttpChallengeOp(token: string): TxnOp {
  return { type: 'delete', key: keys.acmeChallenge(token) };
}
