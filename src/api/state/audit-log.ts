// The audit trail: who changed which certificate when, with old and new fingerprints and expiry.
// Events are written in the same store transaction as the change they describe.
import type { ClusterStore, TxnOp } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { eventPutOp } from '../../store/event-log.js';
import type { OcspAlertEvent } from '../../domain/ocsp-status.js';
import type { CertificateExpiryAlertEvent } from '../../domain/certificate-expiry.js';
import type { EntityChangeEvent } from './entity-events.js';
import type { LoginRefusalEvent } from '../auth/login-refusal-events.js';

export interface AuditEvent {
  time: string;
  type: 'certificate_updated' | 'certificate_deleted';
  user_uid: number;
  user_email: string;
  certificate_name: string;
  old_fingerprint: string | null;
  new_fingerprint: string | null;
  old_not_after: string | null;
  new_not_after: string | null;
}

/**
 * A change accepted with warnings (a trust bundle with entries that can only be pins, or expired entries):
 * written in the same transaction as the change.
 */
export interface TrustWarningEvent {
  time: string;
  type: 'trust_bundle_warning';
  severity: 'WARNING';
  user_uid: number;
  user_email: string;
  /** The certificate (mtls_trusted_ca) or database (bdb uid) whose trust material was accepted with warnings. */
  certificate_name?: string;
  bdb_uid?: number;
  warnings: string[];
}

/** Everything in the event log: certificate audit events, and alert events (OCSP alerts, written by src/ocsp;
 *  certificate-expiry alerts, written by src/expiry). */
export type ClusterEvent = AuditEvent | OcspAlertEvent | CertificateExpiryAlertEvent | EntityChangeEvent | LoginRefusalEvent | TrustWarningEvent;

export function auditEventOp(event: AuditEvent | TrustWarningEvent): TxnOp {
  return eventPutOp(event);
}

export async function listAuditEvents(store: ClusterStore, limit: number): Promise<ClusterEvent[]> {
  const { kvs } = await store.list(keys.eventPrefix);
  return kvs.slice(-limit).map((kv) => JSON.parse(kv.value) as ClusterEvent);
}
