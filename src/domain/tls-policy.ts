// The TLS policy of every listener (README "TLS policy"): the cluster's minimum version and cipher settings
// (digest §5.2: control_cipher_suites, control_cipher_suites_tls_1_3, data_cipher_list,
// data_cipher_suites_tls_1_3) turned into the Node/OpenSSL options a listener is built with. Whatever the
// configured TLS ≤1.2 list says, suites without forward secrecy or without an AEAD cipher are removed
// (TLS_1_2_FLOOR), so no listener ever offers kRSA, CBC or SHA-1 MAC suites.

/** certplane's default TLS ≤1.2 list for control and data listeners: ECDHE with AES-GCM or ChaCha20-Poly1305. */
export const DEFAULT_TLS_1_2_CIPHERS = 'ECDHE+AESGCM:ECDHE+CHACHA20';

/** The TLS 1.3 suites of the control plane (read-only, the value Redis Enterprise reports). */
export const CONTROL_TLS_1_3_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/** TLS 1.3 suite names a database may be restricted to (all AEAD; CCM_8's short tag is left out). */
export const TLS_1_3_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_CCM_SHA256'] as const;

/**
 * Appended to every configured TLS ≤1.2 list: no anonymous or null suites, no static-RSA/PSK/SRP/DHE key
 * exchange (only ECDHE remains), and no HMAC suites (SHA1/SHA256/SHA384 MACs are the CBC suites; AEAD suites
 * have no separate MAC). What remains is ECDHE with AES-GCM, AES-CCM or ChaCha20-Poly1305.
 */
export const TLS_1_2_FLOOR = '!aNULL:!eNULL:!kRSA:!PSK:!SRP:!kDHE:!DSS:!MD5:!SHA1:!SHA256:!SHA384';

/** The hybrid post-quantum key-exchange group (ML-KEM-768 with X25519; OpenSSL 3.5 and later). */
export const HYBRID_KEY_EXCHANGE_GROUP = 'X25519MLKEM768';

/** The classical key-exchange groups of every listener, most preferred first. */
export const CLASSICAL_KEY_EXCHANGE_GROUPS = 'X25519:P-256';

/**
 * The key-exchange groups (Node's `ecdhCurve`) of every listener, API, metrics and database endpoints alike:
 * the hybrid group first while pq_key_exchange is on (the default) and the runtime's OpenSSL knows it, then
 * the classical ones (TLS 1.2 handshakes and clients without ML-KEM use those).
 */
export function keyExchangeGroups(pqKeyExchange: boolean | undefined, runtimeHasHybrid: boolean): string {
  return pqKeyExchange !== false && runtimeHasHybrid ? `${HYBRID_KEY_EXCHANGE_GROUP}:${CLASSICAL_KEY_EXCHANGE_GROUPS}` : CLASSICAL_KEY_EXCHANGE_GROUPS;
}

export interface ClusterTlsFields {
  min_control_TLS_version: '1.2' | '1.3';
  min_data_TLS_version: '1.2' | '1.3';
  control_cipher_suites?: string;
  control_cipher_suites_tls_1_3?: string;
  data_cipher_list?: string;
  data_cipher_suites_tls_1_3?: string[];
  /** Offer the hybrid post-quantum group first (default true). */
  pq_key_exchange?: boolean;
}

/** The cipher fields with their defaults (documents stored before they existed have none). */
export function clusterCipherDefaults(): Required<Pick<ClusterTlsFields, 'control_cipher_suites' | 'control_cipher_suites_tls_1_3' | 'data_cipher_list' | 'data_cipher_suites_tls_1_3' | 'pq_key_exchange'>> {
  return {
    pq_key_exchange: true,
    control_cipher_suites: DEFAULT_TLS_1_2_CIPHERS,
    control_cipher_suites_tls_1_3: CONTROL_TLS_1_3_SUITES,
    data_cipher_list: DEFAULT_TLS_1_2_CIPHERS,
    data_cipher_suites_tls_1_3: [],
  };
}

export interface ListenerTlsPolicy {
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Node's `ciphers` option: TLS 1.3 suites (TLS_*) first, then the TLS ≤1.2 list with the floor. */
  ciphers: string;
  /** Node's `ecdhCurve`: the key-exchange groups, most preferred first (keyExchangeGroups). */
  ecdhCurve: string;
}

/** The OpenSSL cipher string a listener uses: Node takes TLS 1.3 suites from the TLS_* names of the same list. */
export function listenerCiphers(tls12: string, tls13: string): string {
  return `${tls13}:${tls12}:${TLS_1_2_FLOOR}`;
}

/** API, metrics (and any other control-plane listener). `runtimeHasHybrid`: the OpenSSL knows X25519MLKEM768. */
export function controlTlsPolicy(cluster: ClusterTlsFields, runtimeHasHybrid: boolean): ListenerTlsPolicy {
  return {
    ecdhCurve: keyExchangeGroups(cluster.pq_key_exchange, runtimeHasHybrid),
    minVersion: cluster.min_control_TLS_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    ciphers: listenerCiphers(cluster.control_cipher_suites ?? DEFAULT_TLS_1_2_CIPHERS, cluster.control_cipher_suites_tls_1_3 ?? CONTROL_TLS_1_3_SUITES),
  };
}

/** Database endpoints (the proxy). An empty data_cipher_suites_tls_1_3 means the default TLS 1.3 suites. */
export function dataTlsPolicy(cluster: Partial<ClusterTlsFields> | undefined, runtimeHasHybrid: boolean): ListenerTlsPolicy {
  const tls13 = cluster?.data_cipher_suites_tls_1_3 ?? [];
  return {
    ecdhCurve: keyExchangeGroups(cluster?.pq_key_exchange, runtimeHasHybrid),
    minVersion: cluster?.min_data_TLS_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    ciphers: listenerCiphers(cluster?.data_cipher_list ?? DEFAULT_TLS_1_2_CIPHERS, tls13.length === 0 ? CONTROL_TLS_1_3_SUITES : tls13.join(':')),
  };
}

/**
 * Shape checks of a configured TLS ≤1.2 cipher string that need no OpenSSL (that one is asked in
 * lib/cipher-check): OpenSSL's alphabet only, no TLS 1.3 names (they have their own fields), and no
 * `@SECLEVEL` directive (it would lower key-size checks below the default). Returns a reason, or undefined.
 */
export function cipherListShapeProblem(field: string, value: string): string | undefined {
  if (value.length === 0 || value.length > 2048) return `'${field}' must be 1-2048 characters`;
  if (!/^[A-Za-z0-9!+\-:_@=.,]+$/.test(value)) return `'${field}' is not an OpenSSL cipher list (letters, digits and ! + - : _ @ = . , only)`;
  if (/@SECLEVEL/i.test(value)) return `'${field}' must not set @SECLEVEL`;
  if (value.split(':').some((part) => part.startsWith('TLS_'))) return `'${field}' is for TLS 1.2 and below; TLS 1.3 suites have their own field`;
  return undefined;
}

/** data_cipher_suites_tls_1_3 as sent: an array (the capture) or a colon list (rladmin, digest); normalised to an array. */
export function parseTls13Suites(value: string | string[]): { ok: true; value: string[] } | { ok: false; reason: string } {
  const names = (typeof value === 'string' ? value.split(':') : value).map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(TLS_1_3_SUITES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    return { ok: false, reason: `'data_cipher_suites_tls_1_3' has unknown TLS 1.3 suites: ${unknown.join(', ')} (allowed: ${TLS_1_3_SUITES.join(', ')})` };
  }
  return { ok: true, value: [...new Set(names)] };
}
