// What the bdb routes share: the rule context (roles, Redis ACLs, trust anchors), where databases live in the
// store, reading a database with its revision, the wire form with the status the owning node reports, and port
// availability.
import net from 'node:net';
import type { ApiDeps } from '../../api-deps.js';
import type { Caller } from '../../auth/caller.js';
import { getJson } from '../../../store/cluster-store.js';
import { keys } from '../../../store/keys.js';
import { certificateRecordKey } from '../../../store/certificate-records.js';
import { ApiError } from '../../../lib/api-error.js';
import { hasPermission } from '../../../domain/rbac.js';
import type { ClusterDocument } from '../../../domain/cluster-settings.js';
import type { NodeInfoRecord } from '../../../domain/nodes.js';
import { PREDEFINED_REDIS_ACLS } from '../../../domain/redis-acls.js';
import type { EntityKind } from '../../state/entity-writes.js';
import { toBdbResponse, type BdbAppliedStatus, type BdbRecord, type BdbRuleResult, type BdbRulesContext, type BdbStatus } from '../../../domain/databases.js';

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

/** Databases by uid, with unique port and name indexes. */
export const bdbEntity: EntityKind<BdbRecord> = {
  counter: 'bdb_uid',
  key: keys.bdb,
  indexKeys: (bdb) => [keys.bdbPortIndex(bdb.port), keys.bdbNameIndex(bdb.name)],
};

export function unwrapBdbRule(result: BdbRuleResult): BdbRecord {
  if (!result.ok) throw new ApiError(result.status, result.error_code, result.description);
  return result.record;
}

export async function readBdb(deps: ApiDeps, uid: number): Promise<{ record: BdbRecord; modRevision: number }> {
  const kv = await deps.store.get(keys.bdb(uid));
  if (kv === undefined) throw new ApiError(404, 'not_found', `Database ${uid} does not exist`);
  return { record: JSON.parse(kv.value) as BdbRecord, modRevision: kv.modRevision };
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
export async function takenPorts(deps: ApiDeps): Promise<Set<number>> {
  const { kvs } = await deps.store.list(keys.bdbPrefix);
  return new Set(kvs.map((kv) => (JSON.parse(kv.value) as BdbRecord).port));
}

/** Whether something else on this host already listens on the port (another program, or the REST API). */
export function isPortBindable(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function assertPortAvailable(deps: ApiDeps, port: number, taken: ReadonlySet<number>): Promise<void> {
  if (taken.has(port)) throw new ApiError(409, 'port_unavailable', `Port ${port} is already used by another database`);
  if (!(await isPortBindable(deps.localNode.address, port))) {
    throw new ApiError(409, 'port_unavailable', `Port ${port} is in use on this node`);
  }
}
