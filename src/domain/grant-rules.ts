// Who may grant, change and take away which management rights (issue 17.1, 17.2): the one rule behind the
// user routes, the role routes and a database's roles_permissions. Pure; the routes pass what they read.
//
// - Nobody grants a role with more management rights than their own, and nobody changes or deletes a user
//   or a role whose management rights exceed their own. So only admins create, change or delete admins and
//   roles whose management is admin.
// - Only admins set another user's credentials (password, auth_method, certificate_subject_line).
// - Changing your own password always needs the old one, whatever the route.
// - A role is bound to a database (roles_permissions) only by someone holding at least that role's rights.
// - A Redis ACL that a database binds is changed or deleted only by someone who could bind every role bound
//   with it (update_bdb and at least each role's rights): otherwise rewriting the ACL would grant those roles
//   data access without a binding check (a user_manager could turn a Read Only binding into `+@all ~*`).
//
// Management rights are ranked, lowest first. The digest's matrix (§6.4) orders the predefined roles only
// partially by permission inclusion: none ⊂ db_viewer ⊂ cluster_viewer ⊂ cluster_member ⊂ admin and
// db_viewer ⊂ db_member ⊂ cluster_member, but cluster_viewer holds view_all_metrics that db_member lacks, and
// user_manager holds none of the database write permissions. The rank below is therefore a policy, not a
// derivation: database rights rank above viewing rights (db_member can change what cluster_viewer can only
// look at), user management ranks above database and cluster membership (giving people those roles is what a
// user_manager is for, as Redis Enterprise's UI table says), and admin ranks above all. Custom roles count by
// their `management` field.
import { hasPermission, type Permission, type RoleName } from './rbac.js';

export const MANAGEMENT_RANK: Readonly<Record<RoleName, number>> = Object.freeze({
  none: 0,
  db_viewer: 1,
  cluster_viewer: 2,
  db_member: 3,
  cluster_member: 4,
  user_manager: 5,
  admin: 6,
});

/** The highest management rights among the given ones ('none' for an empty list). */
export function highestManagement(managements: readonly RoleName[]): RoleName {
  let best: RoleName = 'none';
  for (const m of managements) if (MANAGEMENT_RANK[m] > MANAGEMENT_RANK[best]) best = m;
  return best;
}

/** Whether holding `own` rights is enough to grant, change or remove `other` rights. */
export function mayHandle(own: RoleName, other: RoleName): boolean {
  return MANAGEMENT_RANK[other] <= MANAGEMENT_RANK[own];
}

/** The caller as these rules see it: uid and management role. */
export interface GrantActor {
  uid: number;
  role: RoleName;
}

/** A stored user as these rules see it: uid and the highest management rights among its roles. */
export interface GrantTargetUser {
  uid: number;
  rights: RoleName;
}

/** Fields of PUT /v1/users/{uid} any user may send about themselves (digest §6.1: name, password, alerts). */
export const SELF_SERVICE_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'password',
  'old_password',
  'email_alerts',
  'bdbs_email_alerts',
  'cluster_email_alerts',
  // Read-only fields a GET-edit-PUT round trip sends back (ignored by the update).
  'uid',
  'status',
  'password_issue_date',
  'last_login',
  'action_uid',
]);

export type GrantRequest =
  /** POST /v1/users: grants = management of every role the new user gets. */
  | { op: 'create_user'; grants: readonly RoleName[] }
  /**
   * PUT /v1/users/{uid}: fields = the body's field names; grants = management of every role the user will
   * hold when the request changes role or role_uids (undefined otherwise); changesCredentials = the request
   * sets a password or changes auth_method or certificate_subject_line.
   */
  | { op: 'update_user'; target: GrantTargetUser; fields: readonly string[]; grants?: readonly RoleName[] | undefined; changesCredentials: boolean }
  | { op: 'delete_user'; target: GrantTargetUser }
  /** PUT/POST /v1/users/password. */
  | { op: 'set_password'; target: GrantTargetUser }
  | { op: 'create_role'; management: RoleName }
  | { op: 'update_role'; from: RoleName; to: RoleName }
  | { op: 'delete_role'; management: RoleName }
  /** POST/PUT /v1/bdbs roles_permissions: the management of each role newly bound. */
  | { op: 'bind_roles'; managements: readonly RoleName[] }
  /** PUT/DELETE /v1/redis_acls/{uid}: the management of every role some database binds with this ACL. */
  | { op: 'change_bound_redis_acl'; boundManagements: readonly RoleName[] };

export type GrantDenialCode = 'insufficient_permissions' | 'unauthorized_action';

export type GrantDecision =
  | { ok: true; /** The route must verify old_password before changing anything. */ needsOldPassword: boolean }
  | { ok: false; error_code: GrantDenialCode; description: string };

const ALLOWED: GrantDecision = Object.freeze({ ok: true, needsOldPassword: false });

function deny(error_code: GrantDenialCode, description: string): GrantDecision {
  return { ok: false, error_code, description };
}

function lacks(actor: GrantActor, permission: Permission): GrantDecision | undefined {
  return hasPermission(actor.role, permission) ? undefined : deny('insufficient_permissions', `This action requires the '${permission}' permission`);
}

function grantsBeyond(actor: GrantActor, grants: readonly RoleName[], what: string): GrantDecision | undefined {
  const excess = grants.find((m) => !mayHandle(actor.role, m));
  if (excess === undefined) return undefined;
  return deny(
    'insufficient_permissions',
    `A ${actor.role} cannot ${what} a role with management '${excess}': nobody grants more management rights than their own`,
  );
}

function targetBeyond(actor: GrantActor, rights: RoleName, what: string): GrantDecision | undefined {
  if (mayHandle(actor.role, rights)) return undefined;
  return deny('insufficient_permissions', `A ${actor.role} cannot ${what} with management rights '${rights}', which exceed its own`);
}

/**
 * PUT /v1/users/{uid} without update_user: only the caller's own user, only the self-service fields.
 * Exported so the route can refuse before it looks the target up (a 404 would tell that the uid exists).
 */
export function checkSelfService(actor: GrantActor, targetUid: number, fields: readonly string[]): GrantDecision {
  if (hasPermission(actor.role, 'update_user')) return ALLOWED;
  if (targetUid !== actor.uid || fields.some((f) => !SELF_SERVICE_FIELDS.has(f))) {
    return deny('insufficient_permissions', "This action requires the 'update_user' permission");
  }
  return ALLOWED;
}

/** Decides one request. Checks the endpoint permission too, so one call gives the route's whole answer. */
export function decideGrant(actor: GrantActor, request: GrantRequest): GrantDecision {
  switch (request.op) {
    case 'create_user':
      return lacks(actor, 'create_new_user') ?? grantsBeyond(actor, request.grants, 'create a user holding') ?? ALLOWED;
    case 'update_user': {
      const self = request.target.uid === actor.uid;
      const selfService = checkSelfService(actor, request.target.uid, request.fields);
      if (!selfService.ok) return selfService;
      if (!self) {
        const beyond = targetBeyond(actor, request.target.rights, 'change a user');
        if (beyond) return beyond;
        if (request.changesCredentials && actor.role !== 'admin') {
          return deny('unauthorized_action', "Only an admin may set another user's password, auth_method or certificate_subject_line");
        }
      }
      if (request.grants !== undefined) {
        const excess = grantsBeyond(actor, request.grants, 'give a user');
        if (excess) return excess;
      }
      return { ok: true, needsOldPassword: self && request.fields.includes('password') };
    }
    case 'delete_user':
      return lacks(actor, 'delete_user') ?? targetBeyond(actor, request.target.rights, 'delete a user') ?? ALLOWED;
    case 'set_password':
      if (request.target.uid === actor.uid) return { ok: true, needsOldPassword: true };
      if (actor.role !== 'admin') return deny('unauthorized_action', "Only an admin may change another user's password");
      return ALLOWED;
    case 'create_role':
      return lacks(actor, 'create_role') ?? grantsBeyond(actor, [request.management], 'create') ?? ALLOWED;
    case 'update_role':
      return (
        lacks(actor, 'update_role') ??
        grantsBeyond(actor, [request.from], 'change') ??
        grantsBeyond(actor, [request.to], 'give management rights to') ??
        ALLOWED
      );
    case 'delete_role':
      return lacks(actor, 'delete_role') ?? grantsBeyond(actor, [request.management], 'delete') ?? ALLOWED;
    case 'bind_roles':
      return grantsBeyond(actor, request.managements, 'bind to a database') ?? ALLOWED;
    case 'change_bound_redis_acl':
      if (request.boundManagements.length === 0) return ALLOWED;
      if (!hasPermission(actor.role, 'update_bdb')) {
        return deny(
          'insufficient_permissions',
          `A ${actor.role} cannot change a Redis ACL that a database binds: that needs the rights to bind its roles ('update_bdb')`,
        );
      }
      return grantsBeyond(actor, request.boundManagements, 'change the Redis ACL bound with') ?? ALLOWED;
  }
}
