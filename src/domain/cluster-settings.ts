// The cluster document and the cluster policy: defaults as Redis Enterprise ships them (digest §5.2-5.4),
// with the field names and types of fixtures/rs-responses/cluster.json.
import { clusterCipherDefaults } from './tls-policy.js';
import { defaultAlertDeliveryFields, type AlertWebhookView, type SmtpTlsMode } from './alert-delivery.js';

export interface ThresholdAlert {
  enabled: boolean;
  threshold: string;
}

export interface ClusterDocument {
  name: string;
  created_time: string;
  cnm_https_port: number;
  cm_port: number;
  min_control_TLS_version: '1.2' | '1.3';
  min_data_TLS_version: '1.2' | '1.3';
  min_sentinel_TLS_version: '1.2' | '1.3';
  /** TLS ≤1.2 cipher list of the control listeners (API, metrics); optional: older documents lack it (domain/tls-policy). */
  control_cipher_suites?: string;
  /** TLS 1.3 suites of the control listeners: read-only. */
  control_cipher_suites_tls_1_3?: string;
  /** TLS ≤1.2 cipher list of the database endpoints. */
  data_cipher_list?: string;
  /** TLS 1.3 suites of the database endpoints; [] = the default ones. */
  data_cipher_suites_tls_1_3?: string[];
  /** Offer the hybrid post-quantum group X25519MLKEM768 first on every listener (default true; domain/tls-policy). */
  pq_key_exchange?: boolean;
  mtls_certificate_authentication: boolean;
  mtls_client_cert_subject_validation_type: 'disabled' | 'san_cn' | 'full_subject';
  mtls_authorized_subjects: Array<{ CN: string; O?: string; OU?: string[]; L?: string; ST?: string; C?: string }>;
  control_plane_basic_authentication: boolean;
  password_complexity: boolean;
  password_min_length: number;
  password_expiration_duration: number;
  /** Cluster Manager UI session timeout in minutes (RS default 15; certplane accepts 1-1440). */
  cm_session_timeout_minutes: number;
  /** Private key files encrypted at rest on every node with a per-node key (absent in documents of older versions: off). */
  encrypt_pkeys: boolean;
  /** Alert delivery (digest §5.2; domain/alert-delivery.ts): optional, documents of older versions lack them. */
  email_alerts?: boolean;
  email_from?: string;
  smtp_host?: string;
  smtp_port?: number;
  smtp_username?: string;
  smtp_tls_mode?: SmtpTlsMode;
  smtp_use_tls?: boolean;
  /** certplane extension: the alert webhook (its secret is kept apart, keys.alertSecrets). */
  alert_webhook?: AlertWebhookView;
  alert_settings: {
    /** The CA of the cluster's certificates expires within `threshold` days (RS capture: on, "90"). */
    cluster_ca_cert_about_to_expire: ThresholdAlert;
    cluster_certs_about_to_expire: ThresholdAlert;
    node_internal_certs_about_to_expire: ThresholdAlert;
    cluster_ocsp_query_failed: boolean;
    cluster_ocsp_status_revoked: boolean;
  };
}

export interface ClusterPolicy {
  login_lockout_threshold: number;
  login_lockout_counter_reset_after: number;
  login_lockout_duration: number;
}

export function defaultClusterDocument(name: string, createdTime: Date, apiPort: number, cmPort: number): ClusterDocument {
  return {
    name,
    created_time: createdTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    cnm_https_port: apiPort,
    cm_port: cmPort,
    min_control_TLS_version: '1.2',
    min_data_TLS_version: '1.2',
    min_sentinel_TLS_version: '1.2',
    ...clusterCipherDefaults(),
    mtls_certificate_authentication: false,
    mtls_client_cert_subject_validation_type: 'disabled',
    mtls_authorized_subjects: [],
    control_plane_basic_authentication: true,
    password_complexity: false,
    password_min_length: 8,
    password_expiration_duration: 0,
    cm_session_timeout_minutes: 15,
    encrypt_pkeys: false,
    ...defaultAlertDeliveryFields(),
    alert_settings: {
      cluster_ca_cert_about_to_expire: { enabled: true, threshold: '90' },
      // DESIGN.md: certificate-expiry threshold default 45 days, as a string like RS.
      cluster_certs_about_to_expire: { enabled: true, threshold: '45' },
      node_internal_certs_about_to_expire: { enabled: true, threshold: '45' },
      // On by default, as in the capture of a live cluster (fixtures/rs-responses/cluster.json).
      cluster_ocsp_query_failed: true,
      cluster_ocsp_status_revoked: true,
    },
  };
}

/**
 * A stored cluster document completed with the defaults of every field it lacks (a store written by an older
 * certplane): fields the operator set, including alert booleans they turned off, are kept as they are.
 */
export function withClusterDefaults(stored: ClusterDocument): ClusterDocument {
  const defaults = defaultClusterDocument(stored.name, new Date(stored.created_time), stored.cnm_https_port, stored.cm_port);
  return {
    ...defaults,
    ...stored,
    alert_settings: { ...defaults.alert_settings, ...stored.alert_settings },
  };
}

export const DEFAULT_CLUSTER_POLICY: ClusterPolicy = {
  login_lockout_threshold: 5,
  login_lockout_counter_reset_after: 900,
  login_lockout_duration: 1800,
};

/** A node's current view of the cluster document, kept fresh by a watch (see agent/cluster-settings-watcher). */
export interface ClusterSettingsView {
  current(): ClusterDocument;
}
