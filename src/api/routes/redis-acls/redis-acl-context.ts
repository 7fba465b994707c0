// What the Redis ACL routes share: the schema, where ACLs live in the store, listing predefined and stored ACLs,
// and reading one.
import { Type } from 'typebox';
import type { ApiDeps } from '../../api-deps.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { checkAclRule, checkRedisAclName, FIRST_CUSTOM_REDIS_ACL_UID, PREDEFINED_REDIS_ACLS, type RedisAclRecord } from '../../../domain/redis-acls.js';
import type { BdbRecord } from '../../../domain/databases.js';
import type { EntityKind } from '../../state/entity-writes.js';

const fields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  acl: Type.Optional(Type.String({ maxLength: 8192 })),
  // Read-only on the wire; accepted and ignored.
  account_id: Type.Optional(Type.Integer()),
  action_uid: Type.Optional(Type.String({ maxLength: 64 })),
  min_version: Type.Optional(Type.String({ maxLength: 16 })),
  max_version: Type.Optional(Type.String({ maxLength: 16 })),
};
export const NewRedisAclBody = Type.Object({ uid: Type.Optional(Type.Integer({ minimum: 100, maximum: 999_999_999 })), ...fields }, { additionalProperties: false });
export const RedisAclUpdateBody = Type.Object({ uid: Type.Optional(Type.Integer()), ...fields }, { additionalProperties: false });

/** User-defined Redis ACLs by uid (from FIRST_CUSTOM_REDIS_ACL_UID), with a unique name index. */
export const redisAclEntity: EntityKind<RedisAclRecord> = {
  counter: 'redis_acl_uid',
  firstUid: FIRST_CUSTOM_REDIS_ACL_UID,
  key: keys.redisAcl,
  indexKeys: (acl) => [keys.redisAclNameIndex(acl.name)],
};

export async function listRedisAcls(deps: ApiDeps): Promise<RedisAclRecord[]> {
  const { kvs } = await deps.store.list(keys.redisAclPrefix);
  return [...PREDEFINED_REDIS_ACLS.map((a) => ({ ...a })), ...kvs.map((kv) => JSON.parse(kv.value) as RedisAclRecord)];
}

export async function readRedisAcl(deps: ApiDeps, uid: number): Promise<{ record: RedisAclRecord; modRevision: number | undefined }> {
  const predefined = PREDEFINED_REDIS_ACLS.find((a) => a.uid === uid);
  if (predefined !== undefined) return { record: { ...predefined }, modRevision: undefined };
  const kv = await deps.store.get(keys.redisAcl(uid));
  if (kv === undefined) throw new ApiError('not_found', `Redis ACL ${uid} does not exist`);
  return { record: JSON.parse(kv.value) as RedisAclRecord, modRevision: kv.modRevision };
}

/** Checks name and rule string; throws the RS error codes (missing_field, invalid_param, name_already_exists). */
export async function checkRedisAcl(deps: ApiDeps, record: RedisAclRecord, previousName: string | undefined): Promise<void> {
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
export async function databasesUsingAcl(deps: ApiDeps, uid: number): Promise<number[]> {
  const { kvs } = await deps.store.list(keys.bdbPrefix);
  return kvs
    .map((kv) => JSON.parse(kv.value) as BdbRecord)
    .filter((bdb) => bdb.roles_permissions.some((p) => p.redis_acl_uid === uid))
    .map((bdb) => bdb.uid);
}
