// POST /v1/bdbs (digest §7.1): validates the whole body, assigns uid and port when omitted (ports from
// 12000), and writes the database with its uniqueness indexes in one transaction. The owning node starts
// it; the answer carries status "pending" until then. `?dry_run` validates only. Binding a role in
// roles_permissions needs that role's management rights (grant-rules.ts); bdb_created is logged.
import { defineRoute, isDryRun } from '../../route.js';
import * as bdbs from '../../services/bdbs.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { NewBdbBody } from './bdb-schemas.js';

export const createBdb = defineRoute({
  method: 'POST',
  url: '/v1/bdbs',
  permission: 'create_bdb',
  errors: ['missing_db_name', 'missing_memory_size', 'name_already_exists', 'uid_exists', 'port_unavailable', 'duplicated_certs', 'invalid_sharding', 'invalid_replication', 'unknown_role', 'unknown_redis_acl', 'invalid_certificate', 'certificate_expired', 'certificate_not_trusted', 'invalid_param', 'config_edit_conflict'],
  schema: { body: NewBdbBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, body, query }) => bdbs.createBdb(deps, caller, body, isDryRun(query)),
});
