// The certificate record: what the cluster keeps for one installed certificate, under keys.certificate(name).
// One type for both sides: the REST API writes it (PUT /v1/cluster/certificates, update_cert, DELETE), every
// node agent applies it (files, then TLS listeners), the expiry checker, OCSP and the login paths read it.
// This module owns its JSON form and its keys: code outside it reads, writes, guards and watches certificate
// records through the functions below, never by building keys.certificate itself. The events a change of a
// record writes go through the event log (src/store/event-log.ts), in the same transaction.
import type { ClusterStore, Compare, TxnOp } from './cluster-store.js';
import { keys } from './keys.js';

export interface CertificateRecord {
  /** PEM: the certificate, then its chain (leaf first). */
  certificate: string;
  /** PEM private key; absent for certificates installed without one (mtls_trusted_ca, sso_issuer…). */
  key?: string;
}

/** A record as read, with the store revision of its last change (for compare-and-swap). */
export interface CertificateRecordVersion {
  record: CertificateRecord;
  modRevision: number;
}

/** The prefix to watch for changes of any certificate record. */
export const CERTIFICATE_RECORD_PREFIX = keys.certificatePrefix;

/** The key of one record, for a watch or a compare on one certificate (e.g. OCSP on `proxy`). */
export function certificateRecordKey(name: string): string {
  return keys.certificate(name);
}

/** The record in its stored JSON form (a record without a key has no `key` field). */
export function parseCertificateRecord(value: string): CertificateRecord {
  const { certificate, key } = JSON.parse(value) as CertificateRecord;
  return key === undefined ? { certificate } : { certificate, key };
}

export function serializeCertificateRecord(record: CertificateRecord): string {
  return JSON.stringify(record.key === undefined ? { certificate: record.certificate } : { certificate: record.certificate, key: record.key });
}

/** Same certificate and same key (both absent counts as the same). */
export function isSameCertificateRecord(a: CertificateRecord | undefined, b: CertificateRecord | undefined): boolean {
  return a?.certificate === b?.certificate && a?.key === b?.key;
}

/** Every record by certificate name, and the store revision of the listing. */
export async function listCertificateRecords(store: ClusterStore): Promise<{ records: Map<string, CertificateRecordVersion>; revision: number }> {
  const { kvs, revision } = await store.list(keys.certificatePrefix);
  const records = new Map(kvs.map((kv) => [kv.key.slice(keys.certificatePrefix.length), { record: parseCertificateRecord(kv.value), modRevision: kv.modRevision }]));
  return { records, revision };
}

export async function readCertificateRecord(store: ClusterStore, name: string): Promise<CertificateRecordVersion | undefined> {
  const kv = await store.get(keys.certificate(name));
  return kv === undefined ? undefined : { record: parseCertificateRecord(kv.value), modRevision: kv.modRevision };
}

export function putCertificateRecordOp(name: string, record: CertificateRecord): TxnOp {
  return { type: 'put', key: keys.certificate(name), value: serializeCertificateRecord(record) };
}

export function deleteCertificateRecordOp(name: string): TxnOp {
  return { type: 'delete', key: keys.certificate(name) };
}

/** The compare that holds only while the record is as read (absent stays absent). */
export function certificateRecordUnchanged(name: string, read: { modRevision: number } | undefined): Compare {
  return read === undefined
    ? { key: keys.certificate(name), target: 'version', op: '==', value: 0 }
    : { key: keys.certificate(name), target: 'mod', op: '==', value: read.modRevision };
}
