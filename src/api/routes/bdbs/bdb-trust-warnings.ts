// Warnings about a database's client-certificate bundles (DESIGN.md trust rule): the certificates of a
// multi-certificate authentication_ssl_client_certs entry that cannot issue are only pins. They are named in
// the response (`warnings`, a field RS clients ignore) and, for a real change, as an event in /v1/logs.
import type { ApiDeps } from '../../api-deps.js';
import type { Caller } from '../../auth/caller.js';
import { auditEventOp, type TrustWarningEvent } from '../../state/audit-log.js';
import { clientCertificateWarnings, type BdbInput, type BdbRecord } from '../../../domain/databases.js';

/** Warnings for the certificate fields this request sets (fields it leaves alone were warned about before). */
export function bdbTrustWarnings(input: BdbInput, record: BdbRecord): string[] {
  return [
    ...(input.authentication_ssl_client_certs === undefined ? [] : clientCertificateWarnings(record.authentication_ssl_client_certs)),
    ...(input.authentication_ssl_crdt_certs === undefined ? [] : clientCertificateWarnings(record.authentication_ssl_crdt_certs, 'authentication_ssl_crdt_certs')),
  ];
}

/** Records the warnings as an event in /v1/logs (after the change was written). */
export async function recordBdbTrustWarnings(deps: ApiDeps, caller: Caller, uid: number, warnings: string[]): Promise<void> {
  if (warnings.length === 0) return;
  const event: TrustWarningEvent = {
    time: deps.clock.now().toISOString(),
    type: 'trust_bundle_warning',
    severity: 'WARNING',
    user_uid: caller.uid,
    user_email: caller.email,
    bdb_uid: uid,
    warnings,
  };
  await deps.store.txn({ success: [auditEventOp(event)] });
}

/** The response body with `warnings` added when there are any. */
export function withWarnings(body: Record<string, unknown>, warnings: string[]): Record<string, unknown> {
  return warnings.length === 0 ? body : { ...body, warnings };
}
