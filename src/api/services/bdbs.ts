// Databases (digest §7.1-7.2): the rule context (roles, Redis ACLs, trust anchors), where databases live in the
// store (unique port and name indexes), the wire form with the status the owning node reports, port
// availability, and the create, update and delete transactions with their bdb_* events. Binding a role in
// roles_permissions needs that role's management rights (grant-rules.ts). Client-certificate bundles with entries
// that can only be pins are accepted with warnings (DESIGN.md trust rule): named in the response (`warnings`, a
// field RS clients ignore) and, for a real change, as an event in /v1/logs. Actions: bdb-actions.ts.
import net from 'node:net';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { getJson } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { certificateRecordKey } from '../../store/certificate-records.js';
import { ApiError } from '../../lib/api-error.js';
import { hasPermission } from '../../domain/rbac.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import type { NodeInfoRecord } from '../../domain/nodes.js';
import { PREDEFINED_REDIS_ACLS } from '../../domain/redis-acls.js';
import {
  applyBdbUpdate,
  clientCertificateWarnings,
  pickFreePort,
  toBdbResponse,
  validateNewBdb,
  type BdbAppliedStatus,
  type BdbInput,
  type BdbRecord,
  type BdbRuleResult,
  type BdbRulesContext,
  type BdbStatus,
} from '../../domain/databases.js';
import { assertUidFree, createEntity, deleteEntity, retryThenConflict, updateEntity, type EntityKind } from '../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../state/entity-events.js';
import { auditEventOp, type TrustWarningEvent } from '../state/audit-log.js';
import { assertMayBindRoles } from './grants.js';

/** Databases by uid, with unique port and name indexes. */
const bdbEntity: EntityKind<BdbRecord> = {
  counter: 'bdb_uid',
  key: keys.bdb,
  indexKeys: (bdb) => [keys.bdbPortIndex(bdb.port), keys.bdbNameIndex(bdb.name)],
};

/** GET /v1/bdbs: every database with the status its node reports. */
export async function listBdbs(deps: ApiDeps, caller: Caller): Promise<Array<Record<string, unknown>>> {
  const { kvs } = await deps.store.list(keys.bdbPrefix);
  return Promise.all(kvs.map((kv) => bdbResponse(deps, caller, JSON.parse(kv.value) as BdbRecord, kv.modRevision)));
}

/** GET /v1/bdbs/{uid}: 404 for an unknown uid. */
export async function getBdb(deps: ApiDeps, caller: Caller, uid: number): Promise<Record<string, unknown>> {
  const { record, modRevision } = await readBdb(deps, uid);
  return bdbResponse(deps, caller, record, modRevision);
}

/**
 * POST /v1/bdbs: validates the whole body, assigns uid and port when omitted (ports from 12000, also free on this
 * host), and writes the database with its uniqueness indexes in one transaction. `dryRun` validates only.
 */
export async function createBdb(deps: ApiDeps, caller: Caller, body: BdbInput & { uid?: number | undefined }, dryRun: boolean): Promise<Record<string, unknown>> {
  await assertMayBindRoles(deps, caller, (body.roles_permissions ?? []).map((p) => p.role_uid));
  const created = await createEntity(deps.store, bdbEntity, {
    requestedUid: body.uid,
    build: async (uid) => {
      const ctx = await bdbRulesContext(deps);
      const taken = await takenPorts(deps);
      const explicitPort = body.port !== undefined && body.port !== 0 ? body.port : undefined;
      let assignedPort = explicitPort ?? pickFreePort(taken);
      // An automatic port must also be free on this host (the REST API or another program may hold it).
      while (explicitPort === undefined && assignedPort !== undefined && !(await isPortBindable(deps.localNode.address, assignedPort))) {
        taken.add(assignedPort);
        assignedPort = pickFreePort(taken);
      }
      if (assignedPort === undefined) throw new ApiError('port_unavailable', 'No database port is free');

      const record = unwrapBdbRule(validateNewBdb(body, { ...ctx, uid, assignedPort, nodeUid: deps.localNode.uid }));
      await assertUidFree(deps.store, bdbEntity, uid, 'Database');
      if ((await deps.store.get(keys.bdbNameIndex(record.name))) !== undefined) {
        throw new ApiError('name_already_exists', `A database named '${record.name}' already exists`);
      }
      if (explicitPort !== undefined) await assertPortAvailable(deps, explicitPort, taken);
      return record;
    },
    dryRun,
    // A concurrent create took the uid, port or name: build() re-checks everything against the new state.
    onConflict: retryThenConflict('Databases were changed concurrently; retry'),
    alsoWrite: (bdb) => [entityChangeOp(deps.clock, caller, { type: 'bdb_created', target_type: 'bdb', target_uid: bdb.uid, target_name: bdb.name })],
  });
  const warnings = bdbTrustWarnings(body, created.record);
  if (!dryRun) await recordBdbTrustWarnings(deps, caller, created.record.uid, warnings);
  return withWarnings(await bdbResponse(deps, caller, created.record, created.revision, 'pending'), warnings);
}

/**
 * PUT /v1/bdbs/{uid}: a partial update validated as a whole; port and name stay unique. Newly binding a role
 * needs its management rights. Status is active-change-pending until the owning node applies it.
 */
export async function updateBdb(deps: ApiDeps, caller: Caller, uid: number, body: BdbInput, dryRun: boolean): Promise<Record<string, unknown>> {
  const { record: existing, modRevision } = await readBdb(deps, uid);
  // Only a binding sent back unchanged (same role and same ACL) is exempt: re-pointing a bound role's ACL
  // is a new grant.
  const bound = new Set(existing.roles_permissions.map((p) => `${p.role_uid}/${p.redis_acl_uid}`));
  await assertMayBindRoles(
    deps,
    caller,
    (body.roles_permissions ?? []).filter((p) => !bound.has(`${p.role_uid}/${p.redis_acl_uid}`)).map((p) => p.role_uid),
  );
  const next = unwrapBdbRule(applyBdbUpdate(existing, body, await bdbRulesContext(deps)));
  if (next.port !== existing.port) {
    const taken = await takenPorts(deps);
    taken.delete(existing.port);
    await assertPortAvailable(deps, next.port, taken);
  }
  if (next.name !== existing.name && (await deps.store.get(keys.bdbNameIndex(next.name))) !== undefined) {
    throw new ApiError('name_already_exists', `A database named '${next.name}' already exists`);
  }
  const warnings = bdbTrustWarnings(body, next);
  if (dryRun) return withWarnings(await bdbResponse(deps, caller, next, modRevision), warnings);
  const revision = await writeBdbUpdate(deps, caller, existing, modRevision, next);
  await recordBdbTrustWarnings(deps, caller, existing.uid, warnings);
  return withWarnings(await bdbResponse(deps, caller, next, revision, 'active-change-pending'), warnings);
}

/**
 * Replaces a database read at modRevision with next, with its bdb_updated event in the same transaction; 409
 * config_edit_conflict when anything changed it since. Returns the store revision of the write.
 */
export async function writeBdbUpdate(deps: ApiDeps, caller: Caller, existing: BdbRecord, modRevision: number, next: BdbRecord): Promise<number> {
  const event = entityChangeOp(deps.clock, caller, {
    type: 'bdb_updated',
    target_type: 'bdb',
    target_uid: existing.uid,
    target_name: next.name,
    changed_fields: changedFields(existing, next),
  });
  const result = await updateEntity(deps.store, bdbEntity, { uid: existing.uid, modRevision, previous: existing, next, alsoWrite: [event] });
  if (!result.succeeded) throw new ApiError('config_edit_conflict', `Database ${existing.uid} was changed concurrently; retry`);
  return result.revision;
}

/** DELETE /v1/bdbs/{uid}: removes the database from the desired state; answers with it in status delete-pending. */
export async function deleteBdb(deps: ApiDeps, caller: Caller, uid: number): Promise<Record<string, unknown>> {
  const { record, modRevision } = await readBdb(deps, uid);
  const event = entityChangeOp(deps.clock, caller, { type: 'bdb_deleted', target_type: 'bdb', target_uid: record.uid, target_name: record.name });
  const result = await deleteEntity(deps.store, bdbEntity, record.uid, record, modRevision, [event]);
  if (!result.succeeded) throw new ApiError('config_edit_conflict', `Database ${record.uid} was changed concurrently; retry`);
  return bdbResponse(deps, caller, record, undefined, 'delete-pending');
}

export async function bdbRulesContext(deps: ApiDeps): Promise<BdbRulesContext> {
  const [roles, acls, trustedCa] = await Promise.all([
    deps.store.list(keys.rolePrefix),
    deps.store.list(keys.redisAclPrefix),
    deps.store.get(certificateRecordKey('mtls_trusted_ca')),
  ]);
  return {
    now: deps.clock.now(),
    roleUids: new Set(roles.kvs.map((kv) => (JSON.parse(kv.value) as { uid: number }).uid)),
    redisAclUids: new Set([...PREDEFINED_REDIS_ACLS.map((a) => a.uid), ...acls.kvs.map((kv) => (JSON.parse(kv.value) as { uid: number }).uid)]),
    clusterHasTrustedCa: trustedCa !== undefined,
  };
}

export function unwrapBdbRule(result: BdbRuleResult): BdbRecord {
  if (!result.ok) throw new ApiError(result.error_code, result.description);
  return result.record;
}

export async function readBdb(deps: ApiDeps, uid: number): Promise<{ record: BdbRecord; modRevision: number }> {
  const kv = await deps.store.get(keys.bdb(uid));
  if (kv === undefined) throw new ApiError('not_found', `Database ${uid} does not exist`);
  return { record: JSON.parse(kv.value) as BdbRecord, modRevision: kv.modRevision };
}

/** What the owning node last reported for the database (keys.bdbStatus), if anything. */
export function readBdbAppliedStatus(deps: ApiDeps, uid: number): Promise<BdbAppliedStatus | undefined> {
  return getJson<BdbAppliedStatus>(deps.store, keys.bdbStatus(uid));
}

/** pending until the owning node first applies the database; active-change-pending while a change is on its way. */
export function bdbStatus(modRevision: number, applied: BdbAppliedStatus | undefined): BdbStatus {
  if (applied === undefined) return 'pending';
  if (applied.applied_mod_revision < modRevision) return applied.status === 'creation-failed' ? 'pending' : 'active-change-pending';
  return applied.status;
}

export async function bdbResponse(
  deps: ApiDeps,
  caller: Caller,
  record: BdbRecord,
  modRevision: number | undefined,
  status?: BdbStatus,
): Promise<Record<string, unknown>> {
  const [cluster, applied, owner] = await Promise.all([
    getJson<ClusterDocument>(deps.store, keys.cluster),
    status === undefined ? getJson<BdbAppliedStatus>(deps.store, keys.bdbStatus(record.uid)) : Promise.resolve(undefined),
    record.node_uid === deps.localNode.uid ? Promise.resolve(undefined) : getJson<NodeInfoRecord>(deps.store, keys.nodeInfo(record.node_uid)),
  ]);
  return toBdbResponse(record, {
    status: status ?? bdbStatus(modRevision ?? Number.MAX_SAFE_INTEGER, applied),
    // The endpoint is on the node that runs the database.
    address: owner?.addr ?? deps.localNode.address,
    clusterName: cluster?.name ?? 'cluster.local',
    showPassword: hasPermission(caller.role, 'view_redis_pass'),
  });
}

/** Ports held by databases in the store. */
async function takenPorts(deps: ApiDeps): Promise<Set<number>> {
  const { kvs } = await deps.store.list(keys.bdbPrefix);
  return new Set(kvs.map((kv) => (JSON.parse(kv.value) as BdbRecord).port));
}

/** Whether something else on this host already listens on the port (another program, or the REST API). */
function isPortBindable(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function assertPortAvailable(deps: ApiDeps, port: number, taken: ReadonlySet<number>): Promise<void> {
  if (taken.has(port)) throw new ApiError('port_unavailable', `Port ${port} is already used by another database`);
  if (!(await isPortBindable(deps.localNode.address, port))) {
    throw new ApiError('port_unavailable', `Port ${port} is in use on this node`);
  }
}

/** Warnings for the certificate fields this request sets (fields it leaves alone were warned about before). */
function bdbTrustWarnings(input: BdbInput, record: BdbRecord): string[] {
  return [
    ...(input.authentication_ssl_client_certs === undefined ? [] : clientCertificateWarnings(record.authentication_ssl_client_certs)),
    ...(input.authentication_ssl_crdt_certs === undefined ? [] : clientCertificateWarnings(record.authentication_ssl_crdt_certs, 'authentication_ssl_crdt_certs')),
  ];
}

/** Records the warnings as an event in /v1/logs (after the change was written). */
async function recordBdbTrustWarnings(deps: ApiDeps, caller: Caller, uid: number, warnings: string[]): Promise<void> {
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
function withWarnings(body: Record<string, unknown>, warnings: string[]): Record<string, unknown> {
  return warnings.length === 0 ? body : { ...body, warnings };
}
