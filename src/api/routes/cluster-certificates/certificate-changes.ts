// Applying certificate changes cluster-wide: one store transaction (certificates + audit events), then
// wait until every live node has written the files and reloaded its listeners.
import { X509Certificate } from 'node:crypto';
import type { ApiDeps } from '../../api-deps.js';
import type { Caller } from '../../auth/caller.js';
import type { TxnOp } from '../../../store/cluster-store.js';
import { keys } from '../../../store/keys.js';
import { ApiError } from '../../../lib/api-error.js';
import { auditEventOp, type AuditEvent } from '../../state/audit-log.js';
import { waitForNodesToApply } from '../../state/apply-waiter.js';
import type { ValidCertificate } from '../../../domain/certificate-validation.js';
import { validateCertificateItems } from '../../../domain/certificate-validation.js';
import { certificateFingerprint } from '../../../domain/pem.js';

export interface StoredCertificate {
  certificate: string;
  key?: string;
}

export async function readInstalledCertificates(deps: ApiDeps): Promise<Map<string, StoredCertificate>> {
  const { kvs } = await deps.store.list(keys.certificatePrefix);
  return new Map(kvs.map((kv) => [kv.key.slice(keys.certificatePrefix.length), JSON.parse(kv.value) as StoredCertificate]));
}

/** Validates every item first; throws the status of the first failing item with every item's error listed. */
export function validateOrThrow(deps: ApiDeps, items: Array<{ name: string; certificate: string; key?: string }>): ValidCertificate[] {
  const result = validateCertificateItems(items, deps.clock.now());
  if (result.ok) return result.certificates;
  const first = result.errors[0]!;
  throw new ApiError(first.status, first.error_code, first.description, {
    errors: result.errors.map(({ name, error_code, description }) => ({ name, error_code, description })),
  });
}

/** Where audit events are also written (the request logger): the issue wants them in the log too. */
export type AuditLogger = { info(obj: object, msg: string): void };

export async function replaceCertificates(deps: ApiDeps, caller: Caller, certificates: ValidCertificate[], log?: AuditLogger): Promise<void> {
  const installed = await readInstalledCertificates(deps);
  const time = deps.clock.now().toISOString();
  const ops: TxnOp[] = [];
  const events: AuditEvent[] = [];
  for (const cert of certificates) {
    const stored: StoredCertificate = cert.key === undefined ? { certificate: cert.certificate } : { certificate: cert.certificate, key: cert.key };
    ops.push({ type: 'put', key: keys.certificate(cert.name), value: JSON.stringify(stored) });
    const previous = describe(installed.get(cert.name));
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
  }
  const { revision } = await deps.store.txn({ success: ops });
  for (const event of events) log?.info({ audit: event }, 'certificate changed');
  // A key that is replaced or dropped (a new certificate on the same key keeps it in use: nothing to forget).
  const retired = certificates.filter((cert) => {
    const previousKey = installed.get(cert.name)?.key;
    return previousKey !== undefined && previousKey !== cert.key;
  });
  try {
    await confirmApplied(deps, revision, 409);
  } finally {
    await forgetReplacedKeys(deps, retired.map((cert) => keys.certificate(cert.name)), revision);
  }
}

export async function deleteCertificate(deps: ApiDeps, caller: Caller, name: string, current: StoredCertificate, log?: AuditLogger): Promise<void> {
  const previous = describe(current);
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
  const { revision } = await deps.store.txn({ success: [{ type: 'delete', key: keys.certificate(name) }, auditEventOp(event)] });
  log?.info({ audit: event }, 'certificate deleted');
  // Seed 001: a failure to remove the files on a node is a 500 for DELETE.
  try {
    await confirmApplied(deps, revision, 500);
  } finally {
    await forgetReplacedKeys(deps, current.key === undefined ? [] : [keys.certificate(name)], revision);
  }
}

/**
 * Issue 17.10: a private key no longer in use must not stay readable in the store's history. Once the change
 * is applied (every live node has it, so nobody needs the earlier values) or the wait has given up (a node
 * that was down re-reads the state when it is back), the store forgets the records' earlier values: etcd
 * compacts to `revision`, SQLite scrubs the change log and the file (ClusterStore.forgetHistory).
 */
async function forgetReplacedKeys(deps: ApiDeps, recordKeys: string[], revision: number): Promise<void> {
  if (recordKeys.length === 0) return;
  await deps.store.forgetHistory(recordKeys, revision);
}

export async function confirmApplied(deps: ApiDeps, revision: number, statusWhenNot: 409 | 500): Promise<void> {
  const outcome = await waitForNodesToApply(deps.store, revision, deps.applyTimeoutMs);
  if (outcome.ok) return;
  const failedText = outcome.failed.map((f) => `${f.node_uid} (${f.error})`);
  throw new ApiError(
    statusWhenNot,
    'nodes_not_updated',
    `Not all nodes have been updated: ${[...outcome.pending, ...failedText].join(', ')}. The change is stored and nodes will converge; retry to confirm.`,
    { nodes: [...outcome.pending, ...outcome.failed.map((f) => f.node_uid)] },
  );
}

function describe(stored: StoredCertificate | undefined): { fingerprint: string | null; notAfter: string | null } {
  if (stored === undefined) return { fingerprint: null, notAfter: null };
  const cert = new X509Certificate(stored.certificate);
  return { fingerprint: certificateFingerprint(cert), notAfter: new Date(cert.validTo).toISOString() };
}
