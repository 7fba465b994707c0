// Databases (bdb): the stored document, its wire form (fixtures/rs-responses/bdb_single.json) and the rules
// of POST /v1/bdbs and PUT /v1/bdbs/{uid} that need no store (digest §7.1-7.2). Uniqueness of uid, name and
// port, and whether the referenced roles and Redis ACLs exist, come from the caller's context.
//
// Departures from Redis Enterprise, on purpose:
// - One shard, no replication, no clustering: shards_count / replication / sharding accept only their
//   single-node values.
// - `enforce_client_authentication: "enabled"` with TLS on needs trust material (the database's
//   authentication_ssl_client_certs or the cluster's mtls_trusted_ca); otherwise no client could connect.
import type { X509Certificate } from 'node:crypto';
import type { ErrorCode } from '../lib/api-error.js';
import { certificateExpiry, certificateFingerprint, certificateNotAfter, parseCertificateChain, toPem } from './pem.js';
import type { AuthorizedSubject, SubjectValidationType } from './rfc2253.js';
import { keyBoundsViolation } from './key-bounds.js';
import { pinRole, whyNotIssuer } from './client-certificate.js';

export type TlsMode = 'enabled' | 'disabled' | 'replica_ssl';
export type EnabledDisabled = 'enabled' | 'disabled';
export type BdbStatus = 'pending' | 'active' | 'active-change-pending' | 'delete-pending' | 'creation-failed';

export const EVICTION_POLICIES = [
  'volatile-lru',
  'allkeys-lru',
  'volatile-lfu',
  'allkeys-lfu',
  'volatile-random',
  'allkeys-random',
  'volatile-ttl',
  'noeviction',
] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

export interface ClientCertEntry {
  client_cert: string;
}

export interface RolePermission {
  role_uid: number;
  redis_acl_uid: number;
}

/** The document kept under keys.bdb(uid). */
export interface BdbRecord {
  uid: number;
  name: string;
  type: 'redis';
  memory_size: number;
  port: number;
  eviction_policy: EvictionPolicy;
  tls_mode: TlsMode;
  enforce_client_authentication: EnabledDisabled;
  authentication_ssl_client_certs: ClientCertEntry[];
  authentication_ssl_crdt_certs: ClientCertEntry[];
  client_cert_subject_validation_type: SubjectValidationType;
  authorized_subjects: AuthorizedSubject[];
  mtls_allow_outdated_certs: boolean;
  mtls_allow_weak_hashing: boolean;
  roles_permissions: RolePermission[];
  default_user: boolean;
  /** The default user's password ("" = none). Returned only to callers with view_redis_pass. */
  authentication_redis_pass: string;
  created_time: string;
  last_changed_time: string;
  /** The node that runs the database's redis-server and endpoint (internal; not on the wire). */
  node_uid: string;
}

/** What a node reports under keys.bdbStatus(uid) after applying a database. */
export interface BdbAppliedStatus {
  uid: number;
  node_uid: string;
  /** The bdb key's modRevision that was applied. */
  applied_mod_revision: number;
  status: 'active' | 'creation-failed';
  error: string | null;
  /** pid of the redis-server serving the database (diagnostics; tests use it for fault injection). */
  redis_pid: number | null;
  updated_at: string;
}

/** The writable bdb fields of a POST/PUT body, plus read-only fields a GET-edit-PUT round trip sends back. */
export interface BdbInput {
  uid?: number | undefined;
  name?: string | undefined;
  type?: string | undefined;
  memory_size?: number | undefined;
  port?: number | undefined;
  eviction_policy?: string | undefined;
  tls_mode?: string | undefined;
  ssl?: boolean | undefined;
  enforce_client_authentication?: string | undefined;
  authentication_ssl_client_certs?: ClientCertEntry[] | undefined;
  authentication_ssl_crdt_certs?: ClientCertEntry[] | undefined;
  client_cert_subject_validation_type?: string | undefined;
  authorized_subjects?: AuthorizedSubject[] | undefined;
  mtls_allow_outdated_certs?: boolean | undefined;
  mtls_allow_weak_hashing?: boolean | undefined;
  roles_permissions?: RolePermission[] | undefined;
  default_user?: boolean | undefined;
  authentication_redis_pass?: string | undefined;
  shards_count?: number | undefined;
  replication?: boolean | undefined;
  sharding?: boolean | undefined;
}

/** A rule the input breaks, as an error code (the API maps it to its HTTP status). */
export interface BdbRuleFailure {
  ok: false;
  error_code: ErrorCode;
  description: string;
}

export type BdbRuleResult = { ok: true; record: BdbRecord } | BdbRuleFailure;

export interface BdbRulesContext {
  now: Date;
  /** Uids of every role of the cluster. */
  roleUids: ReadonlySet<number>;
  /** Uids of every Redis ACL (predefined ones included). */
  redisAclUids: ReadonlySet<number>;
  /** Whether the cluster has an mtls_trusted_ca installed (an alternative trust anchor for mTLS). */
  clusterHasTrustedCa: boolean;
}

export interface NewBdbContext extends BdbRulesContext {
  uid: number;
  /** The port to use when the request names none (the caller picks a free one). */
  assignedPort: number;
  nodeUid: string;
}

/** Database endpoint ports: 10000-19999 except 10050 (digest §1.1, §7.1). */
export const DB_PORT_MIN = 10000;
export const DB_PORT_MAX = 19999;
export const DB_PORT_RESERVED: ReadonlySet<number> = new Set([10050]);
/** Where automatic port assignment starts (RS assigns from 12000). */
export const DB_PORT_FIRST_AUTO = 12000;

const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isValidDbPort(port: number): boolean {
  return Number.isInteger(port) && port >= DB_PORT_MIN && port <= DB_PORT_MAX && !DB_PORT_RESERVED.has(port);
}

/** The first free endpoint port from 12000 upwards (then wrapping to 10000), or undefined when all are taken. */
export function pickFreePort(taken: ReadonlySet<number>): number | undefined {
  for (let port = DB_PORT_FIRST_AUTO; port <= DB_PORT_MAX; port++) if (!taken.has(port) && isValidDbPort(port)) return port;
  for (let port = DB_PORT_MIN; port < DB_PORT_FIRST_AUTO; port++) if (!taken.has(port) && isValidDbPort(port)) return port;
  return undefined;
}

function fail(error_code: ErrorCode, description: string): BdbRuleFailure {
  return { ok: false, error_code, description };
}

function isFailure(value: unknown): value is BdbRuleFailure {
  return typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === false;
}

/** `2025-10-14T00:01:22Z`, as RS prints created_time. */
function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * authentication_ssl_client_certs: every entry must parse as PEM certificate(s) (invalid_certificate),
 * no certificate may appear twice across entries (duplicated_certs), and none may be expired
 * (certificate_expired). Returns the entries re-emitted as canonical PEM.
 */
export function validateClientCertificates(entries: readonly ClientCertEntry[], now: Date, field = 'authentication_ssl_client_certs'): ClientCertEntry[] | BdbRuleFailure {
  const seen = new Map<string, number>();
  const parsed: X509Certificate[][] = [];
  for (const [i, entry] of entries.entries()) {
    if (typeof entry.client_cert !== 'string' || entry.client_cert.trim() === '') {
      return fail('invalid_certificate', `${field}[${i}].client_cert is missing`);
    }
    const chain = parseCertificateChain(entry.client_cert);
    if (!chain.ok) return fail('invalid_certificate', `${field}[${i}].client_cert ${chain.error}`);
    for (const cert of chain.value) {
      const violation = keyBoundsViolation(cert);
      if (violation !== undefined) return fail('weak_key', `${field}[${i}] holds a certificate with a weak key: ${violation}`);
    }
    parsed.push(chain.value);
  }
  for (const [i, chain] of parsed.entries()) {
    for (const cert of chain) {
      const fingerprint = certificateFingerprint(cert);
      const first = seen.get(fingerprint);
      if (first !== undefined) {
        return fail('duplicated_certs', `${field}[${i}] repeats a certificate already given in ${field}[${first}]`);
      }
      seen.set(fingerprint, i);
    }
  }
  for (const [i, chain] of parsed.entries()) {
    for (const cert of chain) {
      if (certificateNotAfter(cert).getTime() < now.getTime()) {
        return fail('certificate_expired', `${field}[${i}] holds a certificate that expired on ${certificateExpiry(cert)}`);
      }
    }
  }
  return parsed.map((chain) => ({ client_cert: chain.map((cert) => toPem('CERTIFICATE', cert.raw)).join('') }));
}

/**
 * An entry of one certificate is a CA or a pinned client certificate, as RS documents; an entry that holds
 * several (`cat ca.crt client.crt`) is a bundle, and each of its certificates that cannot issue is named here:
 * it is trusted only as a pinned client certificate, never as an issuer. Entries are assumed valid.
 */
export function clientCertificateWarnings(entries: readonly ClientCertEntry[], field = 'authentication_ssl_client_certs'): string[] {
  const warnings: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const chain = parseCertificateChain(entry.client_cert);
    if (!chain.ok || chain.value.length < 2) continue;
    for (const [j, cert] of chain.value.entries()) {
      const reason = whyNotIssuer(cert);
      if (reason === undefined) continue;
      const cn = cert.subject.split('\n').find((line) => line.startsWith('CN=')) ?? 'no CN';
      warnings.push(`${field}[${i}] (certificate #${j + 1}, ${cn.slice(0, 64)}) ${reason}: ${pinRole(cert)}`);
    }
  }
  return warnings;
}

function checkEnum<T extends string>(field: string, value: string | undefined, allowed: readonly T[]): T | BdbRuleFailure | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) return fail('invalid_schema', `${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** Applies the fields present in input onto base and checks the result as a whole. */
function applyAndCheck(base: BdbRecord, input: BdbInput, ctx: BdbRulesContext, creating: boolean): BdbRuleResult {
  if (input.type !== undefined && input.type !== 'redis') {
    return fail('invalid_param', `type "${input.type}" is not supported: certplane runs Redis databases only`);
  }
  if (input.name !== undefined && (typeof input.name !== 'string' || !NAME_PATTERN.test(input.name))) {
    return fail('invalid_schema', 'name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit');
  }
  if (input.memory_size !== undefined && (!Number.isSafeInteger(input.memory_size) || input.memory_size < 0)) {
    return fail('invalid_schema', 'memory_size must be a non-negative integer (bytes; 0 = unlimited)');
  }
  if (input.port !== undefined && input.port !== 0 && !isValidDbPort(input.port)) {
    return fail('port_unavailable', `Port ${input.port} cannot be used: database ports are ${DB_PORT_MIN}-${DB_PORT_MAX} except 10050`);
  }
  if (input.shards_count !== undefined && input.shards_count !== 1) {
    return fail('invalid_sharding', 'certplane databases have exactly one shard (shards_count 1)');
  }
  if (input.sharding === true) return fail('invalid_sharding', 'certplane databases are not sharded');
  if (input.replication === true) return fail('invalid_replication', 'certplane databases have no replica');

  const tlsMode = checkEnum('tls_mode', input.tls_mode, ['enabled', 'disabled', 'replica_ssl'] as const);
  if (isFailure(tlsMode)) return tlsMode;
  const enforce = checkEnum('enforce_client_authentication', input.enforce_client_authentication, ['enabled', 'disabled'] as const);
  if (isFailure(enforce)) return enforce;
  const validation = checkEnum('client_cert_subject_validation_type', input.client_cert_subject_validation_type, ['disabled', 'san_cn', 'full_subject'] as const);
  if (isFailure(validation)) return validation;
  const eviction = checkEnum('eviction_policy', input.eviction_policy, EVICTION_POLICIES);
  if (isFailure(eviction)) return eviction;

  let clientCerts = base.authentication_ssl_client_certs;
  if (input.authentication_ssl_client_certs !== undefined) {
    const checked = validateClientCertificates(input.authentication_ssl_client_certs, ctx.now);
    if (isFailure(checked)) return checked;
    clientCerts = checked;
  }
  let crdtCerts = base.authentication_ssl_crdt_certs;
  if (input.authentication_ssl_crdt_certs !== undefined) {
    const checked = validateClientCertificates(input.authentication_ssl_crdt_certs, ctx.now, 'authentication_ssl_crdt_certs');
    if (isFailure(checked)) return checked;
    crdtCerts = checked;
  }

  let rolesPermissions = base.roles_permissions;
  if (input.roles_permissions !== undefined) {
    const roleUids = input.roles_permissions.map((p) => p.role_uid);
    if (new Set(roleUids).size !== roleUids.length) {
      return fail('invalid_schema', 'roles_permissions binds each role at most once');
    }
    for (const binding of input.roles_permissions) {
      if (!ctx.roleUids.has(binding.role_uid)) return fail('unknown_role', `Role uid ${binding.role_uid} does not exist`);
      if (!ctx.redisAclUids.has(binding.redis_acl_uid)) {
        return fail('unknown_redis_acl', `Redis ACL uid ${binding.redis_acl_uid} does not exist`);
      }
    }
    rolesPermissions = input.roles_permissions.map((p) => ({ role_uid: p.role_uid, redis_acl_uid: p.redis_acl_uid }));
  }

  const record: BdbRecord = {
    ...base,
    name: input.name ?? base.name,
    memory_size: input.memory_size ?? base.memory_size,
    port: input.port !== undefined && input.port !== 0 ? input.port : base.port,
    eviction_policy: eviction ?? base.eviction_policy,
    tls_mode: tlsMode ?? base.tls_mode,
    enforce_client_authentication: enforce ?? base.enforce_client_authentication,
    authentication_ssl_client_certs: clientCerts,
    authentication_ssl_crdt_certs: crdtCerts,
    client_cert_subject_validation_type: validation ?? base.client_cert_subject_validation_type,
    authorized_subjects: input.authorized_subjects !== undefined ? input.authorized_subjects.map((s) => ({ ...s, ...(s.OU ? { OU: [...s.OU] } : {}) })) : base.authorized_subjects,
    mtls_allow_outdated_certs: input.mtls_allow_outdated_certs ?? base.mtls_allow_outdated_certs,
    mtls_allow_weak_hashing: input.mtls_allow_weak_hashing ?? base.mtls_allow_weak_hashing,
    roles_permissions: rolesPermissions,
    default_user: input.default_user ?? base.default_user,
    authentication_redis_pass: input.authentication_redis_pass ?? base.authentication_redis_pass,
    last_changed_time: formatTime(ctx.now),
  };
  if (creating) record.created_time = record.last_changed_time;

  if (record.client_cert_subject_validation_type !== 'disabled' && record.authorized_subjects.length === 0) {
    return fail(
      'invalid_schema',
      `client_cert_subject_validation_type '${record.client_cert_subject_validation_type}' needs at least one entry in authorized_subjects`,
    );
  }
  if (
    record.tls_mode === 'enabled' &&
    record.enforce_client_authentication === 'enabled' &&
    record.authentication_ssl_client_certs.length === 0 &&
    !ctx.clusterHasTrustedCa
  ) {
    return fail(
      'invalid_certificate',
      'enforce_client_authentication needs trusted client certificates: set authentication_ssl_client_certs, install the cluster mtls_trusted_ca, or set enforce_client_authentication to "disabled"',
    );
  }
  return { ok: true, record };
}

/** POST /v1/bdbs: name and memory_size are required (missing_db_name, missing_memory_size). */
export function validateNewBdb(input: BdbInput, ctx: NewBdbContext): BdbRuleResult {
  if (input.name === undefined) return fail('missing_db_name', 'A database needs a name');
  if (input.memory_size === undefined) return fail('missing_memory_size', 'A database needs a memory_size (bytes; 0 = unlimited)');
  const base: BdbRecord = {
    uid: ctx.uid,
    name: input.name,
    type: 'redis',
    memory_size: input.memory_size,
    port: ctx.assignedPort,
    eviction_policy: 'volatile-lru',
    tls_mode: 'disabled',
    enforce_client_authentication: 'enabled',
    authentication_ssl_client_certs: [],
    authentication_ssl_crdt_certs: [],
    client_cert_subject_validation_type: 'disabled',
    authorized_subjects: [],
    mtls_allow_outdated_certs: false,
    mtls_allow_weak_hashing: false,
    roles_permissions: [],
    default_user: true,
    authentication_redis_pass: '',
    created_time: formatTime(ctx.now),
    last_changed_time: formatTime(ctx.now),
    node_uid: ctx.nodeUid,
  };
  return applyAndCheck(base, input, ctx, true);
}

/** PUT /v1/bdbs/{uid}: a partial update; uid is read-only. */
export function applyBdbUpdate(existing: BdbRecord, input: BdbInput, ctx: BdbRulesContext): BdbRuleResult {
  if (input.uid !== undefined && input.uid !== existing.uid) return fail('invalid_schema', "'uid' is read-only");
  return applyAndCheck(existing, input, ctx, false);
}

export interface BdbResponseContext {
  status: BdbStatus;
  /** The address clients reach the endpoint at. */
  address: string;
  clusterName: string;
  /** Whether the caller may see authentication_redis_pass (view_redis_pass). */
  showPassword: boolean;
}

/** Every field of the wire form (toBdbResponse), the names GET /v1/bdbs?fields= accepts. */
export const BDB_RESPONSE_FIELDS: readonly string[] = [
  'uid', 'name', 'type', 'memory_size', 'port', 'eviction_policy', 'tls_mode', 'enforce_client_authentication',
  'authentication_ssl_client_certs', 'authentication_ssl_crdt_certs', 'client_cert_subject_validation_type',
  'authorized_subjects', 'mtls_allow_outdated_certs', 'mtls_allow_weak_hashing', 'roles_permissions', 'default_user',
  'authentication_redis_pass', 'created_time', 'last_changed_time', 'authorized_names', 'data_persistence', 'endpoints',
  'proxy_policy', 'redis_version', 'replication', 'shard_list', 'sharding', 'shards_count', 'ssl', 'status', 'version',
];

/**
 * `?fields=uid,name`: the comma-separated names, or a failure naming those that are not bdb fields certplane
 * returns (RS fields certplane does not have, such as module_list, count as unknown).
 */
export function parseBdbFields(value: string): { ok: true; fields: string[] } | BdbRuleFailure {
  const fields = [...new Set(value.split(',').map((f) => f.trim()).filter((f) => f !== ''))];
  if (fields.length === 0) return fail('invalid_schema', 'fields must name at least one bdb field');
  const unknown = fields.filter((f) => !BDB_RESPONSE_FIELDS.includes(f));
  if (unknown.length > 0) return fail('invalid_schema', `fields names unknown bdb field(s): ${unknown.join(', ')}`);
  return { ok: true, fields };
}

/** The wire form: the fixture's field names, with what certplane derives (ssl, endpoints, shards). */
export function toBdbResponse(record: BdbRecord, ctx: BdbResponseContext): Record<string, unknown> {
  const { node_uid: _node, ...fields } = record;
  return {
    ...fields,
    // Without client TLS nothing is enforced, so the database does not claim it (the stored choice, default
    // "enabled", applies once tls_mode is "enabled").
    enforce_client_authentication: record.tls_mode === 'enabled' ? record.enforce_client_authentication : 'disabled',
    authentication_redis_pass: ctx.showPassword ? record.authentication_redis_pass : '',
    authorized_names: [],
    data_persistence: 'disabled',
    endpoints: [
      {
        addr: [ctx.address],
        addr_type: 'external',
        dns_name: `redis-${record.port}.${ctx.clusterName}`,
        port: record.port,
        proxy_policy: 'single',
        uid: `${record.uid}:1`,
      },
    ],
    proxy_policy: 'single',
    redis_version: '7.0',
    replication: false,
    shard_list: [record.uid],
    sharding: false,
    shards_count: 1,
    ssl: record.tls_mode === 'enabled',
    status: ctx.status,
    version: '7.0.15',
  };
}
