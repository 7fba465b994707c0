// The `{uid}` path parameter of the users, roles, Redis ACLs and bdbs routes: its schema and its parsing (the
// read-only `uid` a PUT body may repeat is checked by the services after their read: assertUidUnchanged).
import { Type } from 'typebox';
import { ApiError } from '../../lib/api-error.js';

export const UidParams = Type.Object({ uid: Type.String({ maxLength: 12 }) });

/** A positive integer of at most 9 digits, else 400 invalid_schema. */
export function parseUidParam(value: string): number {
  const uid = Number(value);
  if (!/^[0-9]{1,9}$/.test(value) || uid < 1) throw new ApiError('invalid_schema', 'uid must be a positive integer');
  return uid;
}
