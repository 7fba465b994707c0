// Request schemas of the role endpoints (digest §6.3). Read-only fields may come back in a GET-edit-PUT round
// trip and are ignored; anything unknown is rejected.
import { Type } from 'typebox';
import { ROLE_NAMES } from '../../../domain/rbac.js';

const fields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  management: Type.Optional(Type.Union(ROLE_NAMES.map((r) => Type.Literal(r)))),
  // Read-only on the wire; accepted and ignored.
  account_id: Type.Optional(Type.Integer()),
  action_uid: Type.Optional(Type.String({ maxLength: 64 })),
};
export const NewRoleBody = Type.Object({ uid: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999 })), ...fields }, { additionalProperties: false });
export const RoleUpdateBody = Type.Object({ uid: Type.Optional(Type.Integer()), ...fields }, { additionalProperties: false });
