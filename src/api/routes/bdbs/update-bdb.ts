// PUT /v1/bdbs/{uid} (digest §7.1-7.2): a partial update validated as a whole; port and name stay unique.
// The owning node applies it (TLS changes affect new connections only); status is active-change-pending
// until then. `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { applyBdbUpdate } from '../../../domain/databases.js';
import { updateEntity } from '../../state/entity-writes.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertPortAvailable, bdbEntity, bdbResponse, bdbRulesContext, readBdb, takenPorts, unwrapBdbRule } from './bdb-context.js';
import { BdbUpdateBody } from './bdb-schemas.js';
import { bdbTrustWarnings, recordBdbTrustWarnings, withWarnings } from './bdb-trust-warnings.js';
import { parseUidParam, UidParams } from '../uid-param.js';

export const updateBdb = defineRoute({
  method: 'PUT',
  url: '/v1/bdbs/:uid',
  permission: 'update_bdb',
  schema: { params: UidParams, body: BdbUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, params, body, query }) => {
    const { record: existing, modRevision } = await readBdb(deps, parseUidParam(params.uid));
    const next = unwrapBdbRule(applyBdbUpdate(existing, body, await bdbRulesContext(deps)));
    if (next.port !== existing.port) {
      const taken = await takenPorts(deps);
      taken.delete(existing.port);
      await assertPortAvailable(deps, next.port, taken);
    }
    if (next.name !== existing.name && (await deps.store.get(keys.bdbNameIndex(next.name))) !== undefined) {
      throw new ApiError(409, 'name_already_exists', `A database named '${next.name}' already exists`);
    }
    const warnings = bdbTrustWarnings(body, next);
    if (isDryRun(query)) return withWarnings(await bdbResponse(deps, caller, next, modRevision), warnings);
    const result = await updateEntity(deps.store, bdbEntity, { uid: existing.uid, modRevision, previous: existing, next });
    if (!result.succeeded) throw new ApiError(409, 'config_edit_conflict', `Database ${existing.uid} was changed concurrently; retry`);
    await recordBdbTrustWarnings(deps, caller, existing.uid, warnings);
    return withWarnings(await bdbResponse(deps, caller, next, result.revision, 'active-change-pending'), warnings);
  },
});
