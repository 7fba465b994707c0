// The `{uid}` path parameter of the users, roles, Redis ACLs and bdbs routes: its schema, its parsing, and the
// read-only `uid` a PUT body may repeat.
import { Type } from 'typebox';
import { ApiError } from '../../lib/api-error.js';

export const UidParams = Type.Object({ uid: Type.String({ maxLength: 12 }) });

/** A positive integer of at most 9 digits, else 400 invalid_schema. */
export function parseUidParam(value: string): number {
  const uid = Number(value);
  if (!/^[0-9]{1,9}$/.test(value) || uid < 1) throw new ApiError('invalid_schema', 'uid must be a positive integer');
  return uid;
}

/** A PUT body may repeat the entity's uid (GET-edit-PUT round trip) but not change it. */
export function assertUidUnchanged(bodyUid: number | undefined, uid: number): void {
  if (bodyUid !== undefined && bodyUid !== uid) throw new ApiError('invalid_schema', "'uid' is read-only");
}
