// Alert state as Redis Enterprise shows it (GET /v1/cluster/alerts, /v1/nodes/alerts: the "alert" object of the
// RS reference: state, severity, change_time, change_value, enabled, threshold), the catalog of the alerts
// certplane raises, and the pure rules that move an alert record when one of its subjects is raised or cleared.
// The store side (one record per alert, the event in /v1/logs and the delivery queue in the same transaction) is
// src/alerts/alert-records.ts.
import type { ClusterDocument, ThresholdAlert } from './cluster-settings.js';

export type AlertSeverity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** What an alert is about: the cluster object, or every node (the internode certificates are cluster-wide in
 *  certplane, so a node alert holds for every node alike). */
export type AlertEntity = 'cluster' | 'node';

export interface AlertDefinition {
  entity: AlertEntity;
  /** Severity while raised (RS: certificate expiry WARNING, OCSP ERROR, digest §3.4). */
  severity: AlertSeverity;
  /** The field of cluster.alert_settings that enables it (and holds its threshold); the alert's own name here. */
  setting: string;
  /** Threshold alerts carry `{enabled, threshold}`; the others a boolean. */
  kind: 'threshold' | 'boolean';
}

/**
 * Every alert certplane raises. A later feature adds its alert here (and its switch to alert_settings, if any)
 * and raises/clears it with one call of src/alerts/alert-records.ts (setAlert or alertChangeOps).
 */
export const ALERTS = {
  cluster_certs_about_to_expire: { entity: 'cluster', severity: 'WARNING', setting: 'cluster_certs_about_to_expire', kind: 'threshold' },
  cluster_ca_cert_about_to_expire: { entity: 'cluster', severity: 'WARNING', setting: 'cluster_ca_cert_about_to_expire', kind: 'threshold' },
  cluster_ocsp_query_failed: { entity: 'cluster', severity: 'ERROR', setting: 'cluster_ocsp_query_failed', kind: 'boolean' },
  cluster_ocsp_status_revoked: { entity: 'cluster', severity: 'ERROR', setting: 'cluster_ocsp_status_revoked', kind: 'boolean' },
  node_internal_certs_about_to_expire: { entity: 'node', severity: 'WARNING', setting: 'node_internal_certs_about_to_expire', kind: 'threshold' },
  // certplane extensions (issue 15), on unless alert_settings sets them false: an ACME renewal that failed (per
  // certificate name, cleared by the next success) and a trusted CA whose revocation status is unknown (per issuer).
  cluster_acme_renewal_failed: { entity: 'cluster', severity: 'WARNING', setting: 'cluster_acme_renewal_failed', kind: 'boolean' },
  cluster_crl_missing_or_expired: { entity: 'cluster', severity: 'WARNING', setting: 'cluster_crl_missing_or_expired', kind: 'boolean' },
} as const satisfies Record<string, AlertDefinition>;

export type AlertName = keyof typeof ALERTS;

export function isAlertName(name: string): name is AlertName {
  return Object.prototype.hasOwnProperty.call(ALERTS, name);
}

export function alertNamesOf(entity: AlertEntity): AlertName[] {
  return (Object.keys(ALERTS) as AlertName[]).filter((name) => ALERTS[name].entity === entity);
}

/** One raised subject of an alert (a certificate name; '' for alerts with a single subject). */
export interface AlertInstance {
  since: string;
  severity: AlertSeverity;
  value: Record<string, unknown>;
  description: string;
}

/** The stored state of one alert (keys.alert): raised while any subject is. */
export interface AlertRecord {
  name: string;
  state: boolean;
  severity: AlertSeverity;
  /** When `state` last changed (ISO time). */
  change_time: string;
  /** RS: the data of the evaluation at which the alert went on or off (`state` and the values that decided). */
  change_value: Record<string, unknown>;
  instances: Record<string, AlertInstance>;
}

/** One raise or clear of one subject of an alert. */
export interface AlertChange {
  name: string;
  /** What it is about (certificate name, CRL URL…); '' for an alert with one subject. */
  subject: string;
  raised: boolean;
  severity: AlertSeverity;
  /** Values that go into change_value (threshold, not_after…) and the delivered message. */
  value: Record<string, unknown>;
  description: string;
}

/** The record after `changes` at `time`. A raise of a raised subject refreshes it; a clear of an absent one is a no-op. */
export function applyAlertChanges(record: AlertRecord | undefined, name: string, changes: readonly AlertChange[], time: string): AlertRecord {
  const definition = isAlertName(name) ? ALERTS[name] : undefined;
  let next: AlertRecord = record ?? {
    name,
    state: false,
    severity: definition?.severity ?? 'WARNING',
    change_time: time,
    change_value: { state: false },
    instances: {},
  };
  for (const change of changes) {
    const instances = { ...next.instances };
    if (change.raised) {
      instances[change.subject] = { since: instances[change.subject]?.since ?? time, severity: change.severity, value: change.value, description: change.description };
    } else {
      delete instances[change.subject];
    }
    const state = Object.keys(instances).length > 0;
    const flipped = state !== next.state;
    next = {
      ...next,
      instances,
      state,
      severity: change.raised ? change.severity : next.severity,
      ...(flipped ? { change_time: time, change_value: { state, ...change.value } } : {}),
    };
  }
  return next;
}

/** The RS alert object (GET /v1/cluster/alerts): `subjects` is certplane's list of what is raised. */
export interface AlertView {
  change_time: string | null;
  change_value: Record<string, unknown>;
  enabled: boolean;
  severity: AlertSeverity;
  state: boolean;
  threshold?: string;
  subjects: Array<{ subject: string; since: string; description: string }>;
}

/** The alert's switch in alert_settings: `{enabled, threshold}` or a boolean (missing: the defaults, on). */
export function alertSetting(cluster: Partial<ClusterDocument> | undefined, name: AlertName): { enabled: boolean; threshold?: string } {
  const definition: AlertDefinition = ALERTS[name];
  const raw = (cluster?.alert_settings as Record<string, unknown> | undefined)?.[definition.setting];
  if (definition.kind === 'boolean') return { enabled: raw !== false };
  const setting = raw as Partial<ThresholdAlert> | undefined;
  return { enabled: setting?.enabled !== false, ...(setting?.threshold === undefined ? {} : { threshold: setting.threshold }) };
}

/**
 * The view of one alert. RS: without `ignore_settings` a disabled alert shows as disabled with state false; with
 * it, the stored state. certplane does not evaluate a disabled alert, so that is the state it had when disabled.
 */
export function alertView(name: AlertName, record: AlertRecord | undefined, cluster: Partial<ClusterDocument> | undefined, ignoreSettings: boolean): AlertView {
  const setting = alertSetting(cluster, name);
  const shown = setting.enabled || ignoreSettings;
  const state = shown && record?.state === true;
  return {
    change_time: record?.change_time ?? null,
    change_value: shown ? (record?.change_value ?? { state: false }) : { state: false },
    enabled: setting.enabled,
    severity: record?.severity ?? ALERTS[name].severity,
    state,
    ...(setting.threshold === undefined ? {} : { threshold: setting.threshold }),
    subjects: state ? Object.entries(record?.instances ?? {}).map(([subject, i]) => ({ subject, since: i.since, description: i.description })) : [],
  };
}

/** An alert event in /v1/logs (RS: the alert name as `type`, `state` true when raised, false when cleared). */
export interface AlertEvent {
  time: string;
  type: string;
  severity: AlertSeverity;
  state: boolean;
  description: string;
  [field: string]: unknown;
}

/** The event of a change when its writer has no event of its own. */
export function defaultAlertEvent(change: AlertChange, time: string): AlertEvent {
  return {
    time,
    type: change.name,
    severity: change.raised ? change.severity : 'INFO',
    state: change.raised,
    ...(change.subject === '' ? {} : { subject: change.subject }),
    ...change.value,
    description: change.description,
  };
}

/** Threshold alerts take whole days as a string, 1-365 (RS documents no range; a year covers every certificate
 *  certplane issues and a CA's usual renewal window). */
export const THRESHOLD_DAYS_RANGE = { min: 1, max: 365 } as const;

/** Problems with the thresholds of alert_settings (an empty list when all are valid). */
export function alertSettingsProblems(settings: Record<string, unknown> | undefined): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(settings ?? {})) {
    if (typeof value !== 'object' || value === null) continue;
    const threshold = (value as { threshold?: unknown }).threshold;
    if (threshold === undefined) continue;
    const days = typeof threshold === 'string' && /^[0-9]{1,5}$/.test(threshold) ? Number(threshold) : NaN;
    if (!(days >= THRESHOLD_DAYS_RANGE.min && days <= THRESHOLD_DAYS_RANGE.max)) {
      problems.push(`alert_settings.${field}.threshold must be a number of days as a string, "${THRESHOLD_DAYS_RANGE.min}" to "${THRESHOLD_DAYS_RANGE.max}"`);
    }
  }
  return problems;
}
