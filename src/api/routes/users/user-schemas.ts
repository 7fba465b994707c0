// Request schemas of the user endpoints (digest §6.2). Read-only fields may come back in a GET-edit-PUT
// round trip and are ignored; anything unknown is rejected.
import { Type } from 'typebox';
import { ROLE_NAMES } from '../../../domain/rbac.js';

const fields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  email: Type.Optional(Type.String({ maxLength: 320 })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  role: Type.Optional(Type.Union(ROLE_NAMES.map((r) => Type.Literal(r)))),
  role_uids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 64, uniqueItems: true })),
  auth_method: Type.Optional(Type.String({ maxLength: 32 })),
  certificate_subject_line: Type.Optional(Type.String({ maxLength: 4096 })),
  email_alerts: Type.Optional(Type.Boolean()),
  bdbs_email_alerts: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10_000 })),
  cluster_email_alerts: Type.Optional(Type.Boolean()),
  // Read-only on the wire; accepted and ignored.
  status: Type.Optional(Type.String()),
  password_issue_date: Type.Optional(Type.String()),
  last_login: Type.Optional(Type.Integer()),
  action_uid: Type.Optional(Type.String()),
};

export const NewUserBody = Type.Object({ uid: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999 })), ...fields }, { additionalProperties: false });
export const UserUpdateBody = Type.Object(
  {
    uid: Type.Optional(Type.Integer()),
    ...fields,
    // certplane: changing your own password needs the current one (issue 17.1).
    old_password: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
