// Request schemas of the Redis ACL endpoints (digest §6.3). Read-only fields may come back in a GET-edit-PUT
// round trip and are ignored; anything unknown is rejected.
import { Type } from 'typebox';

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
