// Reading what the CRL extension needs from the store (src/domain/crl-document.ts owns the rules): the stored
// CRL document with its revision (for compare-and-swap), and the PEM of every trust anchor for client
// certificates — the cluster's mtls_trusted_ca and each database's authentication_ssl_client_certs — that a
// CRL's issuer must be one of.
import type { ClusterStore } from './cluster-store.js';
import { keys } from './keys.js';
import { certificateRecordKey, parseCertificateRecord } from './certificate-records.js';

export interface StoredCrlDocument {
  /** The JSON document, undefined when none was ever written (the defaults apply). */
  value: unknown;
  /** 0 when absent (a compare on version 0 guards its creation). */
  modRevision: number;
}

export async function readCrlDocument(store: ClusterStore): Promise<StoredCrlDocument> {
  const kv = await store.get(keys.crls);
  return kv === undefined ? { value: undefined, modRevision: 0 } : { value: JSON.parse(kv.value) as unknown, modRevision: kv.modRevision };
}

/** The stored text and revision only: a reader that keeps the parsed form parses again only on a new revision. */
export async function readCrlDocumentText(store: ClusterStore): Promise<{ text: string | undefined; modRevision: number }> {
  const kv = await store.get(keys.crls);
  return kv === undefined ? { text: undefined, modRevision: 0 } : { text: kv.value, modRevision: kv.modRevision };
}

/** The PEM text of every client-certificate trust anchor (bundles, several certificates each). */
export async function readClientTrustAnchorPems(store: ClusterStore): Promise<string[]> {
  const [trusted, bdbs] = await Promise.all([store.get(certificateRecordKey('mtls_trusted_ca')), store.list(keys.bdbPrefix)]);
  const pems: string[] = [];
  if (trusted !== undefined) pems.push(parseCertificateRecord(trusted.value).certificate);
  for (const kv of bdbs.kvs) {
    const record = JSON.parse(kv.value) as { authentication_ssl_client_certs?: Array<{ client_cert?: string }> };
    for (const entry of record.authentication_ssl_client_certs ?? []) if (typeof entry.client_cert === 'string') pems.push(entry.client_cert);
  }
  return pems;
}
