// OCSP settings and status in the store (digest §3.1-3.3, seed 003): the stored settings (defaults until the
// first PUT), the proxy certificate they derive responder_url from, the cached status, and the capability check
// of digest §3.1 (406 ocsp_unsupported_by_capability) that every OCSP endpoint makes first. The write is
// compare-and-swap on the settings and on the proxy certificate the URL was derived from.
import type { ApiDeps } from '../api-deps.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import { certificateRecordKey, parseCertificateRecord } from '../../store/certificate-records.js';
import { certificateFingerprint, parseCertificateChain } from '../../domain/pem.js';
import { applyOcspUpdate, ocspConfigView, ocspResponderUrlOfCertificate, ocspSettingsOrDefaults, type OcspConfig, type OcspSettings, type OcspUpdate } from '../../domain/ocsp-settings.js';
import { ocspStatusView, type OcspStatusRecord, type OcspStatusView, type OcspTestOutcome } from '../../domain/ocsp-status.js';

interface OcspContext {
  settings: OcspSettings;
  /** modRevision of the settings key, 0 when never written (compare-and-swap for PUT). */
  settingsRevision: number;
  /** modRevision of the proxy certificate key: responder_url is derived from it. */
  certificateRevision: number;
  responderUrl: string;
  /** SHA-256 of the proxy leaf certificate ('' when none). */
  fingerprint: string;
}

/** GET /v1/ocsp: the ocsp object; responder_url is read from the proxy certificate's AIA. */
export async function getOcsp(deps: ApiDeps): Promise<OcspConfig> {
  await assertOcspCapability(deps);
  const context = await readOcspContext(deps);
  return ocspConfigView(context.settings, context.responderUrl);
}

/**
 * PUT /v1/ocsp: a partial update merged into the stored settings, the full object returned. Nothing is written
 * on any failure, nor when nothing changed.
 */
export async function putOcsp(deps: ApiDeps, body: OcspUpdate): Promise<OcspConfig> {
  await assertOcspCapability(deps);
  const context = await readOcspContext(deps);
  const result = applyOcspUpdate(context.settings, body, context.responderUrl);
  if (!result.ok) throw new ApiError(result.error_code, result.description);
  const unchanged = context.settingsRevision !== 0 && JSON.stringify(result.settings) === JSON.stringify(context.settings);
  if (!unchanged) {
    const written = await deps.store.txn({
      compare: [
        { key: keys.ocspSettings, target: 'mod', op: '==', value: context.settingsRevision },
        { key: certificateRecordKey('proxy'), target: 'mod', op: '==', value: context.certificateRevision },
      ],
      success: [{ type: 'put', key: keys.ocspSettings, value: JSON.stringify(result.settings) }],
    });
    if (!written.succeeded) throw new ApiError('config_edit_conflict', 'The OCSP settings or the proxy certificate changed concurrently; retry');
  }
  return ocspConfigView(result.settings, context.responderUrl);
}

/** GET /v1/ocsp/status: the cached status of the proxy certificate (UNKNOWN when nothing verified is cached). */
export async function getOcspStatus(deps: ApiDeps): Promise<OcspStatusView> {
  await assertOcspCapability(deps);
  const [context, recordKv] = await Promise.all([readOcspContext(deps), deps.store.get(keys.ocspStatus)]);
  const record = recordKv === undefined ? undefined : (JSON.parse(recordKv.value) as OcspStatusRecord);
  return ocspStatusView(record, { fingerprint: context.fingerprint, responderUrl: context.responderUrl });
}

/** POST /v1/ocsp/test: queries the responder now (src/ocsp, through deps.ocsp); the route maps a failure. */
export async function testOcsp(deps: ApiDeps): Promise<OcspTestOutcome> {
  await assertOcspCapability(deps);
  return deps.ocsp.testNow();
}

async function readOcspContext(deps: ApiDeps): Promise<OcspContext> {
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
async function assertOcspCapability(deps: ApiDeps): Promise<void> {
  const { kvs } = await deps.store.list(keys.nodePrefix);
  const lacking = kvs
    .map((kv) => JSON.parse(kv.value) as { uid?: string; capabilities?: unknown })
    .filter((node) => Array.isArray(node.capabilities) && !node.capabilities.includes('ocsp'))
    .map((node) => String(node.uid ?? '?'));
  if (lacking.length > 0) {
    throw new ApiError('ocsp_unsupported_by_capability', `Not all nodes support OCSP: node(s) ${lacking.join(', ')} do not advertise the capability`);
  }
}
