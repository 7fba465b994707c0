// Start-time migrations of a store written by an older certplane, run by every node before it serves
// (idempotent and compare-and-swap guarded, so nodes starting together cannot apply one twice):
// - `redis-acl-uids`: the predefined Redis ACLs now have the reference's uids (2 Read Only, 3 Not Dangerous;
//   they were swapped). Every database binding that named 2 or 3 is rewritten so it keeps the ACL it meant.
//   A cluster created with the new uids is marked at creation (create-cluster.ts) and never rewritten.
// - cluster document: fields added since the store was written get their defaults (withClusterDefaults);
//   values already stored, such as an alert the operator turned off, are kept.
// - the JWT signing secret is generated when missing (clusters created before JSON Web Tokens).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterStore, Compare, TxnOp } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import type { Clock } from '../lib/clock.js';
import { migrateLegacyAclBindings } from '../domain/redis-acls.js';
import { withClusterDefaults, type ClusterDocument } from '../domain/cluster-settings.js';
import type { BdbRecord } from '../domain/databases.js';

export const ACL_UID_MIGRATION = 'redis-acl-uids';
const ATTEMPTS = 20;

export async function migrateStore(store: ClusterStore, clock: Clock, log: Logger): Promise<{ jwtSecret: Buffer }> {
  await migrateRedisAclUids(store, clock, log);
  await completeClusterDocument(store, log);
  return { jwtSecret: await ensureJwtSecret(store) };
}

async function migrateRedisAclUids(store: ClusterStore, clock: Clock, log: Logger): Promise<void> {
  const marker = keys.migration(ACL_UID_MIGRATION);
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    if ((await store.get(marker)) !== undefined) return;
    const { kvs } = await store.list(keys.bdbPrefix);
    const compare: Compare[] = [{ key: marker, target: 'version', op: '==', value: 0 }];
    const success: TxnOp[] = [{ type: 'put', key: marker, value: JSON.stringify(clock.now().toISOString()) }];
    const migrated: number[] = [];
    for (const kv of kvs) {
      const bdb = JSON.parse(kv.value) as BdbRecord;
      const bindings = migrateLegacyAclBindings(bdb.roles_permissions ?? []);
      if (bindings === undefined) continue;
      compare.push({ key: kv.key, target: 'mod', op: '==', value: kv.modRevision });
      success.push({ type: 'put', key: kv.key, value: JSON.stringify({ ...bdb, roles_permissions: bindings }) });
      migrated.push(bdb.uid);
    }
    if ((await store.txn({ compare, success })).succeeded) {
      if (migrated.length > 0) log.info({ bdbs: migrated }, 'database Redis ACL bindings moved to the reference uids (2 Read Only, 3 Not Dangerous)');
      return;
    }
  }
  throw new Error('could not migrate the Redis ACL uids of the databases: the store kept changing');
}

async function completeClusterDocument(store: ClusterStore, log: Logger): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const kv = await store.get(keys.cluster);
    if (kv === undefined) return;
    const stored = JSON.parse(kv.value) as ClusterDocument;
    const completed = withClusterDefaults(stored);
    if (JSON.stringify(completed) === JSON.stringify(stored)) return;
    const result = await store.txn({
      compare: [{ key: keys.cluster, target: 'mod', op: '==', value: kv.modRevision }],
      success: [{ type: 'put', key: keys.cluster, value: JSON.stringify(completed) }],
    });
    if (result.succeeded) {
      log.info('cluster document completed with the defaults of new settings');
      return;
    }
  }
  throw new Error('could not complete the cluster document: it kept changing');
}

/** The JWT signing secret: created once (32 random bytes, base64) by whichever node gets there first. */
async function ensureJwtSecret(store: ClusterStore): Promise<Buffer> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const kv = await store.get(keys.jwtSecret);
    if (kv !== undefined) return Buffer.from(kv.value, 'base64');
    const secret = randomBytes(32);
    const result = await store.txn({
      compare: [{ key: keys.jwtSecret, target: 'version', op: '==', value: 0 }],
      success: [{ type: 'put', key: keys.jwtSecret, value: secret.toString('base64') }],
    });
    if (result.succeeded) return secret;
  }
  throw new Error('could not read or create the JWT secret');
}

/** What cluster creation writes so that a new cluster is never migrated (create-cluster.ts). */
export function newClusterMigrationOps(now: Date): TxnOp[] {
  return [
    { type: 'put', key: keys.migration(ACL_UID_MIGRATION), value: JSON.stringify(now.toISOString()) },
    { type: 'put', key: keys.jwtSecret, value: randomBytes(32).toString('base64') },
  ];
}
