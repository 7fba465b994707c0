// Request schemas of PUT /v1/cluster and PUT /v1/cluster/policy (digest §5.2-5.4). Unknown fields are
// rejected; read-only fields (name, created_time…) are accepted only unchanged, so GET-edit-PUT works.
import { Type } from 'typebox';

const TlsVersion = Type.Union([Type.Literal('1.2'), Type.Literal('1.3')]);
const ThresholdAlert = Type.Object(
  { enabled: Type.Optional(Type.Boolean()), threshold: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })) },
  { additionalProperties: false },
);

export const AuthorizedSubject = Type.Object(
  {
    CN: Type.String({ minLength: 1, maxLength: 256 }),
    O: Type.Optional(Type.String({ maxLength: 256 })),
    OU: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 32 })),
    L: Type.Optional(Type.String({ maxLength: 256 })),
    ST: Type.Optional(Type.String({ maxLength: 256 })),
    C: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })),
  },
  { additionalProperties: false },
);

export const SubjectValidationType = Type.Union([Type.Literal('disabled'), Type.Literal('san_cn'), Type.Literal('full_subject')]);

export const ClusterUpdate = Type.Object(
  {
    name: Type.Optional(Type.String()),
    created_time: Type.Optional(Type.String()),
    cnm_https_port: Type.Optional(Type.Integer()),
    cm_port: Type.Optional(Type.Integer()),
    min_control_TLS_version: Type.Optional(TlsVersion),
    min_data_TLS_version: Type.Optional(TlsVersion),
    min_sentinel_TLS_version: Type.Optional(TlsVersion),
    // Checked further (OpenSSL parses them, read-only TLS 1.3 control list) in services/cipher-settings.ts.
    control_cipher_suites: Type.Optional(Type.String({ maxLength: 2048 })),
    control_cipher_suites_tls_1_3: Type.Optional(Type.String({ maxLength: 2048 })),
    data_cipher_list: Type.Optional(Type.String({ maxLength: 2048 })),
    data_cipher_suites_tls_1_3: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 }), Type.String({ maxLength: 2048 })])),
    // Hybrid post-quantum key exchange (X25519MLKEM768) offered first on every listener; a boolean only.
    pq_key_exchange: Type.Optional(Type.Boolean()),
    mtls_certificate_authentication: Type.Optional(Type.Boolean()),
    mtls_client_cert_subject_validation_type: Type.Optional(SubjectValidationType),
    mtls_authorized_subjects: Type.Optional(Type.Array(AuthorizedSubject, { maxItems: 1000 })),
    control_plane_basic_authentication: Type.Optional(Type.Boolean()),
    password_complexity: Type.Optional(Type.Boolean()),
    password_min_length: Type.Optional(Type.Integer({ minimum: 8, maximum: 256 })),
    password_expiration_duration: Type.Optional(Type.Integer({ minimum: 0, maximum: 36500 })),
    cm_session_timeout_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    // Read-only views of the installed proxy and syncer certificates: accepted only unchanged (GET-edit-PUT).
    proxy_certificate: Type.Optional(Type.String()),
    syncer_certificate: Type.Optional(Type.String()),
    encrypt_pkeys: Type.Optional(Type.Boolean()),
    // Alert delivery (digest §5.2; checked further in services/alert-settings.ts). smtp_password and
    // alert_webhook.secret are write-only: stored apart from the cluster document, never returned.
    email_alerts: Type.Optional(Type.Boolean()),
    email_from: Type.Optional(Type.String({ maxLength: 254 })),
    smtp_host: Type.Optional(Type.String({ maxLength: 253 })),
    smtp_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    smtp_username: Type.Optional(Type.String({ maxLength: 256 })),
    smtp_password: Type.Optional(Type.String({ maxLength: 1024 })),
    smtp_tls_mode: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('starttls'), Type.Literal('tls')])),
    smtp_use_tls: Type.Optional(Type.Boolean()),
    alert_webhook: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          url: Type.Optional(Type.String({ maxLength: 2048 })),
          secret: Type.Optional(Type.String({ maxLength: 1024 })),
          ca_certificate: Type.Optional(Type.String({ maxLength: 65536 })),
        },
        { additionalProperties: false },
      ),
    ),
    alert_settings: Type.Optional(
      Type.Object(
        {
          cluster_ca_cert_about_to_expire: Type.Optional(ThresholdAlert),
          cluster_certs_about_to_expire: Type.Optional(ThresholdAlert),
          node_internal_certs_about_to_expire: Type.Optional(ThresholdAlert),
          cluster_ocsp_query_failed: Type.Optional(Type.Boolean()),
          cluster_ocsp_status_revoked: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PolicyUpdate = Type.Object(
  {
    login_lockout_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    login_lockout_counter_reset_after: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    login_lockout_duration: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000 })),
  },
  { additionalProperties: false },
);

export const DryRunQuery = Type.Object({ dry_run: Type.Optional(Type.String({ maxLength: 5 })) }, { additionalProperties: false });
