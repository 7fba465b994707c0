// Certificates in the store (digest §2.3-2.6): reading them, and applying changes cluster-wide: one store
// transaction (certificates + audit events), then the apply contract (src/api/state/apply-contract.ts): every
// member has written the files and reloaded its listeners.
import { X509Certificate } from 'node:crypto';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import type { Compare, TxnOp } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import {
  certificateRecordKey,
  certificateRecordUnchanged,
  deleteCertificateRecordOp,
  listCertificateRecords,
  putCertificateRecordOp,
  type CertificateRecord,
  type CertificateRecordVersion,
} from '../../store/certificate-records.js';
import { ApiError } from '../../lib/api-error.js';
import { auditEventOp, type AuditEvent, type TrustWarningEvent } from '../state/audit-log.js';
import { confirmApplied } from '../state/apply-contract.js';
import type { ValidCertificate } from '../../domain/certificate-validation.js';
import { validateCertificateItems } from '../../domain/certificate-validation.js';
import { certificateFingerprint } from '../../domain/pem.js';
import { getJson } from '../../store/cluster-store.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import { GUARDED_CERTIFICATE_NAMES, identityLoss } from '../../domain/certificate-identity.js';
import { parseCertificateChain } from '../../domain/pem.js';
import { putAcmeManualMarkerOp, readAcmeSettings } from '../../store/acme-records.js';

/** The part of ApiDeps a cluster-wide certificate change uses (the ACME renewer installs outside a request). */
export type CertificateChangeDeps = Pick<ApiDeps, 'store' | 'clock' | 'applyTimeoutMs'>;

export async function readInstalledCertificates(deps: ApiDeps): Promise<Map<string, CertificateRecord>> {
  const { records } = await listCertificateRecords(deps.store);
  return new Map([...records].map(([name, { record }]) => [name, record]));
}

/** Validates every item first; throws the status of the first failing item with every item's error listed. */
export function validateOrThrow(deps: CertificateChangeDeps, items: Array<{ name: string; certificate: string; key?: string }>): ValidCertificate[] {
  const result = validateCertificateItems(items, deps.clock.now());
  if (result.ok) return result.certificates;
  const first = result.errors[0]!;
  throw new ApiError(first.error_code, first.description, {
    errors: result.errors.map(({ name, error_code, description }) => ({ name, error_code, description })),
  });
}

/** The warnings of accepted items, for the response body (`warnings`, a field RS clients ignore). */
export function warningsOf(certificates: readonly ValidCertificate[]): { warnings?: string[] } {
  const warnings = certificates.flatMap((cert) => cert.warnings ?? []);
  return warnings.length === 0 ? {} : { warnings };
}

/** PUT /v1/cluster/certificates and /v1/cluster/update_cert: validate every item, then replace them on all nodes. */
export async function installCertificates(
  deps: CertificateChangeDeps,
  caller: Caller,
  items: Array<{ name: string; certificate: string; key?: string }>,
  log?: AuditLogger,
  options: InstallOptions = {},
): Promise<{ warnings?: string[] }> {
  const valid = validateOrThrow(deps, items);
  const guard = options.allowIdentityChange === true ? undefined : await identityGuard(deps);
  const ops = options.source === 'acme' ? [] : await acmeSwitchOffOps(deps, caller, valid);
  await replaceCertificates(deps, caller, valid, log, guard === undefined ? { ops } : { guard, ops });
  return warningsOf(valid);
}

export interface InstallOptions {
  /** Issue 15.3 (certplane extension): replace api/cm/proxy even when names or the root change. */
  allowIdentityChange?: boolean;
  /** Who installs: a hand upload (the default) switches ACME off for the names it replaces (issue 15.2). */
  source?: 'upload' | 'acme';
}

/** The markers that switch ACME off for the ACME-managed names a hand upload replaces (same transaction). */
async function acmeSwitchOffOps(deps: CertificateChangeDeps, caller: Caller, certificates: readonly ValidCertificate[]): Promise<TxnOp[]> {
  const { settings } = await readAcmeSettings<{ names: string[] }>(deps.store);
  const managed = new Set(settings.names ?? []);
  const time = deps.clock.now().toISOString();
  return certificates.filter((cert) => managed.has(cert.name)).map((cert) => putAcmeManualMarkerOp(cert.name, { time, user_email: caller.email }));
}

/** Additions to one replacement: a check of what it replaces, and more writes for the same transaction. */
export interface ReplaceExtras {
  guard?: ReplaceGuard;
  ops?: TxnOp[];
}

/** Checks the certificates about to replace the installed ones; throws to refuse the whole change. */
export type ReplaceGuard = (installed: ReadonlyMap<string, CertificateRecordVersion>, certificates: readonly ValidCertificate[]) => void;

/**
 * The identity-change guard (issue 15.3): refuses, with 409 identity_change and one entry per refused item in
 * `errors` (the per-item shape of validation errors, plus lost_names, lost_ips, old_root and new_root), a
 * replacement of api, cm or proxy that drops a name or IP the installed certificate covers or changes its root
 * (src/domain/certificate-identity.ts). Runs inside the write loop, against the records the write compares with.
 */
async function identityGuard(deps: CertificateChangeDeps): Promise<ReplaceGuard> {
  const clusterName = (await getJson<ClusterDocument>(deps.store, keys.cluster))?.name ?? '';
  return (installed, certificates) => {
    const errors: Array<Record<string, unknown>> = [];
    for (const cert of certificates) {
      if (!GUARDED_CERTIFICATE_NAMES.has(cert.name)) continue;
      const current = installed.get(cert.name);
      if (current === undefined) continue;
      const before = parseCertificateChain(current.record.certificate);
      const after = parseCertificateChain(cert.certificate);
      if (!before.ok || !after.ok) continue;
      const loss = identityLoss(cert.name, before.value, after.value, clusterName);
      if (loss === undefined) continue;
      const { description, ...lost } = loss;
      errors.push({ name: cert.name, error_code: 'identity_change', description, ...lost });
    }
    const first = errors[0];
    if (first !== undefined) throw new ApiError('identity_change', String(first.description), { errors });
  };
}

/**
 * DELETE /v1/cluster/certificates/{name} of an optional certificate (the route checked the name): refused for the
 * mTLS trust anchor while certificate authentication is on (DESIGN.md), since it would lock users out.
 */
export async function removeCertificate(deps: ApiDeps, caller: Caller, name: string, log?: AuditLogger): Promise<void> {
  if (name === 'mtls_trusted_ca') {
    const cluster = await getJson<ClusterDocument>(deps.store, keys.cluster);
    if (cluster?.mtls_certificate_authentication === true) {
      throw new ApiError('certificate_in_use', 'mtls_trusted_ca is in use: disable mtls_certificate_authentication first');
    }
  }
  const current = (await readInstalledCertificates(deps)).get(name);
  if (current === undefined) throw new ApiError('not_found', `The '${name}' certificate is not installed`);
  await deleteCertificate(deps, caller, name, current, log);
}

/** Where audit events are also written (the request logger): the issue wants them in the log too. */
export type AuditLogger = { info(obj: object, msg: string): void };

/** How often a change re-reads and retries when a concurrent change to the same certificates won the race. */
const MAX_WRITE_ATTEMPTS = 20;

export async function replaceCertificates(deps: CertificateChangeDeps, caller: Caller, certificates: ValidCertificate[], log?: AuditLogger, extra: ReplaceExtras = {}): Promise<void> {
  // The audit record's "old" fingerprint is read in the same transaction as the write (issue 10.7): the write
  // is guarded by a compare on the mod revision of every certificate it replaces (version 0: still absent),
  // so two concurrent changes never both record the same previous certificate; the loser re-reads and retries.
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const installed: Map<string, CertificateRecordVersion> = (await listCertificateRecords(deps.store)).records;
    extra.guard?.(installed, certificates);
    const time = deps.clock.now().toISOString();
    const ops: TxnOp[] = [];
    const compare: Compare[] = [];
    const events: AuditEvent[] = [];
    const warnings: TrustWarningEvent[] = [];
    for (const cert of certificates) {
      ops.push(putCertificateRecordOp(cert.name, cert.key === undefined ? { certificate: cert.certificate } : { certificate: cert.certificate, key: cert.key }));
      const current = installed.get(cert.name);
      compare.push(certificateRecordUnchanged(cert.name, current));
      const previous = describe(current?.record);
      const event: AuditEvent = {
        time,
        type: 'certificate_updated',
        user_uid: caller.uid,
        user_email: caller.email,
        certificate_name: cert.name,
        old_fingerprint: previous.fingerprint,
        new_fingerprint: cert.fingerprint,
        old_not_after: previous.notAfter,
        new_not_after: cert.not_after,
      };
      events.push(event);
      ops.push(auditEventOp(event));
      if (cert.warnings !== undefined) {
        const warning: TrustWarningEvent = {
          time,
          type: 'trust_bundle_warning',
          severity: 'WARNING',
          user_uid: caller.uid,
          user_email: caller.email,
          certificate_name: cert.name,
          warnings: cert.warnings,
        };
        ops.push(auditEventOp(warning));
        warnings.push(warning);
      }
    }
    ops.push(...(extra.ops ?? []));
    const result = await deps.store.txn({ compare, success: ops });
    if (!result.succeeded) continue;
    for (const event of events) log?.info({ audit: event }, 'certificate changed');
    for (const warning of warnings) log?.info({ audit: warning }, 'certificate accepted with warnings');
    // A key that is replaced or dropped (a new certificate on the same key keeps it in use: nothing to forget).
    const retired = certificates.filter((cert) => {
      const previousKey = installed.get(cert.name)?.record.key;
      return previousKey !== undefined && previousKey !== cert.key;
    });
    try {
      await confirmApplied(deps, result.revision, 'nodes_not_updated');
    } finally {
      await forgetReplacedKeys(deps, retired.map((cert) => certificateRecordKey(cert.name)), result.revision);
    }
    return;
  }
  throw new ApiError('config_edit_conflict', 'The certificates were changed concurrently too often; retry');
}

export async function deleteCertificate(deps: ApiDeps, caller: Caller, name: string, current: CertificateRecord, log?: AuditLogger): Promise<void> {
  void current; // re-read below, inside the compare-guarded retry loop (issue 10.7)
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const installed = (await listCertificateRecords(deps.store)).records.get(name);
    if (installed === undefined) throw new ApiError('not_found', `The '${name}' certificate is not installed`);
    const previous = describe(installed.record);
    const event: AuditEvent = {
      time: deps.clock.now().toISOString(),
      type: 'certificate_deleted',
      user_uid: caller.uid,
      user_email: caller.email,
      certificate_name: name,
      old_fingerprint: previous.fingerprint,
      new_fingerprint: null,
      old_not_after: previous.notAfter,
      new_not_after: null,
    };
    const result = await deps.store.txn({
      compare: [certificateRecordUnchanged(name, installed)],
      success: [deleteCertificateRecordOp(name), auditEventOp(event)],
    });
    if (!result.succeeded) continue;
    log?.info({ audit: event }, 'certificate deleted');
    // Seed 001: a failure to remove the files on a node is a 500 for DELETE; a member that is down (or did not
    // confirm in time) has not applied it: 409, as for PUT (issue 10.3).
    try {
      await confirmApplied(deps, result.revision, 'node_apply_failed');
    } finally {
      await forgetReplacedKeys(deps, installed.record.key === undefined ? [] : [certificateRecordKey(name)], result.revision);
    }
    return;
  }
  throw new ApiError('config_edit_conflict', `The '${name}' certificate was changed concurrently too often; retry`);
}

/**
 * Issue 17.10: a private key no longer in use must not stay readable in the store's history. Once the change
 * is applied (every live node has it, so nobody needs the earlier values) or the wait has given up (a node
 * that was down re-reads the state when it is back), the store forgets the records' earlier values: etcd
 * compacts to `revision`, SQLite scrubs the change log and the file (ClusterStore.forgetHistory).
 */
async function forgetReplacedKeys(deps: CertificateChangeDeps, recordKeys: string[], revision: number): Promise<void> {
  if (recordKeys.length === 0) return;
  await deps.store.forgetHistory(recordKeys, revision);
}

function describe(stored: CertificateRecord | undefined): { fingerprint: string | null; notAfter: string | null } {
  if (stored === undefined) return { fingerprint: null, notAfter: null };
  const cert = new X509Certificate(stored.certificate);
  return { fingerprint: certificateFingerprint(cert), notAfter: new Date(cert.validTo).toISOString() };
}
