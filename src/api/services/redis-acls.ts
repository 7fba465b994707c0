// Redis ACLs in the store (digest §6.3): the predefined ACLs and the user-defined ones (uids from
// FIRST_CUSTOM_REDIS_ACL_UID), name and rule checks, and the create, update and delete transactions with their
// redis_acl_* events. Changing or deleting an ACL a database binds needs the rights to bind each role bound with
// it (grant-rules.ts), so it grants nobody more.
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import { checkAclRule, checkRedisAclName, FIRST_CUSTOM_REDIS_ACL_UID, isPredefinedRedisAcl, PREDEFINED_REDIS_ACLS, type RedisAclRecord } from '../../domain/redis-acls.js';
import type { BdbRecord } from '../../domain/databases.js';
import { assertUidFree, assertUidUnchanged, createEntity, deleteEntity, retryThenConflict, updateEntity, type EntityKind } from '../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../state/entity-events.js';
import { assertMayChangeRedisAcl } from './grants.js';

/** User-defined Redis ACLs by uid (from FIRST_CUSTOM_REDIS_ACL_UID), with a unique name index. */
const redisAclEntity: EntityKind<RedisAclRecord> = {
  counter: 'redis_acl_uid',
  firstUid: FIRST_CUSTOM_REDIS_ACL_UID,
  key: keys.redisAcl,
  indexKeys: (acl) => [keys.redisAclNameIndex(acl.name)],
};

/** The fields a PUT may set (each optional, uid only repeated). */
export interface RedisAclFields {
  uid?: number | undefined;
  name?: string | undefined;
  acl?: string | undefined;
}

export async function listRedisAcls(deps: ApiDeps): Promise<RedisAclRecord[]> {
  const { kvs } = await deps.store.list(keys.redisAclPrefix);
  return [...PREDEFINED_REDIS_ACLS.map((a) => ({ ...a })), ...kvs.map((kv) => JSON.parse(kv.value) as RedisAclRecord)];
}

export async function getRedisAcl(deps: ApiDeps, uid: number): Promise<RedisAclRecord> {
  return (await readRedisAcl(deps, uid)).record;
}

/** POST /v1/redis_acls: name and acl were checked present by the route. `dryRun` writes nothing. */
export async function createRedisAcl(deps: ApiDeps, caller: Caller, input: { uid?: number | undefined; name: string; acl: string }, dryRun: boolean): Promise<RedisAclRecord> {
  const { name, acl } = input;
  const created = await createEntity(deps.store, redisAclEntity, {
    requestedUid: input.uid,
    build: async (uid) => {
      const record: RedisAclRecord = { uid, name, acl: acl.trim() };
      await checkRedisAcl(deps, record, undefined);
      await assertUidFree(deps.store, redisAclEntity, uid, 'Redis ACL');
      return record;
    },
    dryRun,
    onConflict: retryThenConflict('Redis ACLs were changed concurrently; retry'),
    alsoWrite: (written) => [entityChangeOp(deps.clock, caller, { type: 'redis_acl_created', target_type: 'redis_acl', target_uid: written.uid, target_name: written.name })],
  });
  return created.record;
}

/** PUT /v1/redis_acls/{uid}: predefined ACLs cannot be changed; written only over the version read. */
export async function updateRedisAcl(deps: ApiDeps, caller: Caller, uid: number, body: RedisAclFields, dryRun: boolean): Promise<RedisAclRecord> {
  const { record: existing, modRevision } = await readRedisAcl(deps, uid);
  if (isPredefinedRedisAcl(uid)) throw new ApiError('invalid_param', `The predefined Redis ACL '${existing.name}' cannot be changed`);
  assertUidUnchanged(body.uid, uid);
  await assertMayChangeRedisAcl(deps, caller, uid);
  const next: RedisAclRecord = { uid, name: body.name ?? existing.name, acl: body.acl?.trim() ?? existing.acl };
  await checkRedisAcl(deps, next, existing.name);
  if (dryRun) return next;
  const event = entityChangeOp(deps.clock, caller, {
    type: 'redis_acl_updated',
    target_type: 'redis_acl',
    target_uid: uid,
    target_name: next.name,
    changed_fields: changedFields(existing, next),
  });
  const result = await updateEntity(deps.store, redisAclEntity, { uid, modRevision: modRevision ?? 0, previous: existing, next, alsoWrite: [event] });
  if (!result.succeeded) throw new ApiError('config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
  return next;
}

/** DELETE /v1/redis_acls/{uid}: refused for predefined ACLs and for ACLs a database binds. */
export async function deleteRedisAcl(deps: ApiDeps, caller: Caller, uid: number): Promise<void> {
  const { record, modRevision } = await readRedisAcl(deps, uid);
  if (isPredefinedRedisAcl(uid)) throw new ApiError('invalid_param', `The predefined Redis ACL '${record.name}' cannot be deleted`);
  await assertMayChangeRedisAcl(deps, caller, uid);
  const users = await databasesUsingAcl(deps, uid);
  if (users.length > 0) throw new ApiError('invalid_param', `Redis ACL ${uid} is bound in roles_permissions of database ${users.join(', ')}`);
  const event = entityChangeOp(deps.clock, caller, { type: 'redis_acl_deleted', target_type: 'redis_acl', target_uid: uid, target_name: record.name });
  const result = await deleteEntity(deps.store, redisAclEntity, uid, record, modRevision ?? 0, [event]);
  if (!result.succeeded) throw new ApiError('config_edit_conflict', `Redis ACL ${uid} was changed concurrently; retry`);
}

async function readRedisAcl(deps: ApiDeps, uid: number): Promise<{ record: RedisAclRecord; modRevision: number | undefined }> {
  const predefined = PREDEFINED_REDIS_ACLS.find((a) => a.uid === uid);
  if (predefined !== undefined) return { record: { ...predefined }, modRevision: undefined };
  const kv = await deps.store.get(keys.redisAcl(uid));
  if (kv === undefined) throw new ApiError('not_found', `Redis ACL ${uid} does not exist`);
  return { record: JSON.parse(kv.value) as RedisAclRecord, modRevision: kv.modRevision };
}

/** Checks name and rule string; throws the RS error codes (missing_field, invalid_param, name_already_exists). */
async function checkRedisAcl(deps: ApiDeps, record: RedisAclRecord, previousName: string | undefined): Promise<void> {
  const nameError = checkRedisAclName(record.name);
  if (nameError !== undefined) throw new ApiError('invalid_param', nameError);
  const rule = checkAclRule(record.acl);
  if (!rule.ok) throw new ApiError('invalid_param', rule.description);
  if (record.name !== previousName) {
    const clash = (await listRedisAcls(deps)).some((a) => a.name === record.name && a.uid !== record.uid);
    if (clash) throw new ApiError('name_already_exists', `A Redis ACL named '${record.name}' already exists`);
  }
}

/** Databases whose roles_permissions use the ACL. */
async function databasesUsingAcl(deps: ApiDeps, uid: number): Promise<number[]> {
  const { kvs } = await deps.store.list(keys.bdbPrefix);
  return kvs
    .map((kv) => JSON.parse(kv.value) as BdbRecord)
    .filter((bdb) => bdb.roles_permissions.some((p) => p.redis_acl_uid === uid))
    .map((bdb) => bdb.uid);
}
