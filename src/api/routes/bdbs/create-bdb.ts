// POST /v1/bdbs (digest §7.1): validates the whole body, assigns uid and port when omitted (ports from
// 12000), and writes the database with its uniqueness indexes in one transaction. The owning node starts
// it; the answer carries status "pending" until then. `?dry_run` validates only. Binding a role in
// roles_permissions needs that role's management rights (grant-rules.ts); bdb_created is logged.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { pickFreePort, validateNewBdb } from '../../../domain/databases.js';
import { assertUidFree, createEntity, retryThenConflict } from '../../state/entity-writes.js';
import { entityChangeOp } from '../../state/entity-events.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertMayBindRoles } from '../grants.js';
import { assertPortAvailable, bdbEntity, bdbResponse, bdbRulesContext, isPortBindable, takenPorts, unwrapBdbRule } from './bdb-context.js';
import { NewBdbBody } from './bdb-schemas.js';
import { bdbTrustWarnings, recordBdbTrustWarnings, withWarnings } from './bdb-trust-warnings.js';

export const createBdb = defineRoute({
  method: 'POST',
  url: '/v1/bdbs',
  permission: 'create_bdb',
  errors: ['missing_db_name', 'missing_memory_size', 'name_already_exists', 'uid_exists', 'port_unavailable', 'duplicated_certs', 'invalid_sharding', 'invalid_replication', 'unknown_role', 'unknown_redis_acl', 'invalid_certificate', 'certificate_expired', 'certificate_not_trusted', 'invalid_param', 'config_edit_conflict'],
  schema: { body: NewBdbBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, body, query }) => {
    await assertMayBindRoles(deps, caller, (body.roles_permissions ?? []).map((p) => p.role_uid));
    const created = await createEntity(deps.store, bdbEntity, {
      requestedUid: body.uid,
      build: async (uid) => {
        const ctx = await bdbRulesContext(deps);
        const taken = await takenPorts(deps);
        const explicitPort = body.port !== undefined && body.port !== 0 ? body.port : undefined;
        let assignedPort = explicitPort ?? pickFreePort(taken);
        // An automatic port must also be free on this host (the REST API or another program may hold it).
        while (explicitPort === undefined && assignedPort !== undefined && !(await isPortBindable(deps.localNode.address, assignedPort))) {
          taken.add(assignedPort);
          assignedPort = pickFreePort(taken);
        }
        if (assignedPort === undefined) throw new ApiError('port_unavailable', 'No database port is free');

        const record = unwrapBdbRule(validateNewBdb(body, { ...ctx, uid, assignedPort, nodeUid: deps.localNode.uid }));
        await assertUidFree(deps.store, bdbEntity, uid, 'Database');
        if ((await deps.store.get(keys.bdbNameIndex(record.name))) !== undefined) {
          throw new ApiError('name_already_exists', `A database named '${record.name}' already exists`);
        }
        if (explicitPort !== undefined) await assertPortAvailable(deps, explicitPort, taken);
        return record;
      },
      dryRun: isDryRun(query),
      // A concurrent create took the uid, port or name: build() re-checks everything against the new state.
      onConflict: retryThenConflict('Databases were changed concurrently; retry'),
      alsoWrite: (bdb) => [entityChangeOp(deps.clock, caller, { type: 'bdb_created', target_type: 'bdb', target_uid: bdb.uid, target_name: bdb.name })],
    });
    const warnings = bdbTrustWarnings(body, created.record);
    if (!isDryRun(query)) await recordBdbTrustWarnings(deps, caller, created.record.uid, warnings);
    return withWarnings(await bdbResponse(deps, caller, created.record, created.revision, 'pending'), warnings);
  },
});
