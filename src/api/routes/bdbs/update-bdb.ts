// PUT /v1/bdbs/{uid} (digest §7.1-7.2): a partial update validated as a whole; port and name stay unique.
// The owning node applies it (TLS changes affect new connections only); status is active-change-pending
// until then. `?dry_run` validates only. Newly binding a role in roles_permissions needs that role's
// management rights (grant-rules.ts); bdb_updated is logged with the names of the changed fields.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { applyBdbUpdate } from '../../../domain/databases.js';
import { updateEntity } from '../../state/entity-writes.js';
import { changedFields, entityChangeOp } from '../../state/entity-events.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertMayBindRoles } from '../grants.js';
import { assertPortAvailable, bdbEntity, bdbResponse, bdbRulesContext, readBdb, takenPorts, unwrapBdbRule } from './bdb-context.js';
import { BdbUpdateBody } from './bdb-schemas.js';
import { bdbTrustWarnings, recordBdbTrustWarnings, withWarnings } from './bdb-trust-warnings.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const updateBdb = defineRoute({
  method: 'PUT',
  url: '/v1/bdbs/:uid',
  permission: 'update_bdb',
  errors: ['not_found', 'name_already_exists', 'port_unavailable', 'duplicated_certs', 'invalid_sharding', 'invalid_replication', 'unknown_role', 'unknown_redis_acl', 'invalid_certificate', 'certificate_expired', 'certificate_not_trusted', 'invalid_param', 'config_edit_conflict'],
  schema: { params: UidParams, body: BdbUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, params, body, query }) => {
    const { record: existing, modRevision } = await readBdb(deps, parseUidParam(params.uid));
    // Only a binding sent back unchanged (same role and same ACL) is exempt: re-pointing a bound role's ACL
    // is a new grant.
    const bound = new Set(existing.roles_permissions.map((p) => `${p.role_uid}/${p.redis_acl_uid}`));
    await assertMayBindRoles(
      deps,
      caller,
      (body.roles_permissions ?? []).filter((p) => !bound.has(`${p.role_uid}/${p.redis_acl_uid}`)).map((p) => p.role_uid),
    );
    const next = unwrapBdbRule(applyBdbUpdate(existing, body, await bdbRulesContext(deps)));
    if (next.port !== existing.port) {
      const taken = await takenPorts(deps);
      taken.delete(existing.port);
      await assertPortAvailable(deps, next.port, taken);
    }
    if (next.name !== existing.name && (await deps.store.get(keys.bdbNameIndex(next.name))) !== undefined) {
      throw new ApiError('name_already_exists', `A database named '${next.name}' already exists`);
    }
    const warnings = bdbTrustWarnings(body, next);
    if (isDryRun(query)) return withWarnings(await bdbResponse(deps, caller, next, modRevision), warnings);
    const event = entityChangeOp(deps.clock, caller, {
      type: 'bdb_updated',
      target_type: 'bdb',
      target_uid: existing.uid,
      target_name: next.name,
      changed_fields: changedFields(existing, next),
    });
    const result = await updateEntity(deps.store, bdbEntity, { uid: existing.uid, modRevision, previous: existing, next, alsoWrite: [event] });
    if (!result.succeeded) throw new ApiError('config_edit_conflict', `Database ${existing.uid} was changed concurrently; retry`);
    await recordBdbTrustWarnings(deps, caller, existing.uid, warnings);
    return withWarnings(await bdbResponse(deps, caller, next, result.revision, 'active-change-pending'), warnings);
  },
});
