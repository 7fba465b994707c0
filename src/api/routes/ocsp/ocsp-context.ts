// What the OCSP routes share: the stored settings (defaults until the first PUT), the proxy certificate they
// derive responder_url from, and the capability check of digest §3.1 (406 ocsp_unsupported_by_capability).
import type { ApiDeps } from '../../api-deps.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { certificateRecordKey, parseCertificateRecord } from '../../../store/certificate-records.js';
import { certificateFingerprint, parseCertificateChain } from '../../../domain/pem.js';
import { ocspResponderUrlOfCertificate, ocspSettingsOrDefaults, type OcspSettings } from '../../../domain/ocsp-settings.js';

export interface OcspRouteContext {
  settings: OcspSettings;
  /** modRevision of the settings key, 0 when never written (compare-and-swap for PUT). */
  settingsRevision: number;
  /** modRevision of the proxy certificate key: responder_url is derived from it. */
  certificateRevision: number;
  responderUrl: string;
  /** SHA-256 of the proxy leaf certificate ('' when none). */
  fingerprint: string;
}

export async function readOcspRouteContext(deps: ApiDeps): Promise<OcspRouteContext> {
  const [settingsKv, certificateKv] = await Promise.all([deps.store.get(keys.ocspSettings), deps.store.get(certificateRecordKey('proxy'))]);
  const chain = certificateKv === undefined ? undefined : parseCertificateChain(parseCertificateRecord(certificateKv.value).certificate);
  const leaf = chain?.ok === true ? chain.value[0] : undefined;
  return {
    settings: ocspSettingsOrDefaults(settingsKv === undefined ? undefined : (JSON.parse(settingsKv.value) as Partial<OcspSettings>)),
    settingsRevision: settingsKv?.modRevision ?? 0,
    certificateRevision: certificateKv?.modRevision ?? 0,
    responderUrl: leaf === undefined ? '' : ocspResponderUrlOfCertificate(leaf),
    fingerprint: leaf === undefined ? '' : certificateFingerprint(leaf),
  };
}

/**
 * Every certplane node supports OCSP, so this only refuses when a live node record explicitly advertises a
 * `capabilities` list without "ocsp" (room for mixed-version clusters; no node writes such a list today).
 */
export async function assertOcspCapability(deps: ApiDeps): Promise<void> {
  const { kvs } = await deps.store.list(keys.nodePrefix);
  const lacking = kvs
    .map((kv) => JSON.parse(kv.value) as { uid?: string; capabilities?: unknown })
    .filter((node) => Array.isArray(node.capabilities) && !node.capabilities.includes('ocsp'))
    .map((node) => String(node.uid ?? '?'));
  if (lacking.length > 0) {
    throw new ApiError(406, 'ocsp_unsupported_by_capability', `Not all nodes support OCSP: node(s) ${lacking.join(', ')} do not advertise the capability`);
  }
}
