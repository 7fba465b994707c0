// PUT /v1/bdbs/{uid} (digest §7.1-7.2): a partial update validated as a whole; port and name stay unique.
// The owning node applies it (TLS changes affect new connections only); status is active-change-pending
// until then. `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import type { Compare, TxnOp } from '../../../store/cluster-store.js';
import { applyBdbUpdate } from '../../../domain/databases.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertPortAvailable, bdbResponse, bdbRulesContext, parseBdbUid, readBdb, takenPorts, unwrapBdbRule } from './bdb-context.js';
import { BdbUidParams, BdbUpdateBody } from './bdb-schemas.js';

export const updateBdb = defineRoute({
  method: 'PUT',
  url: '/v1/bdbs/:uid',
  permission: 'update_bdb',
  schema: { params: BdbUidParams, body: BdbUpdateBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, params, body, query }) => {
    const { record: existing, modRevision } = await readBdb(deps, parseBdbUid(params.uid));
    const next = unwrapBdbRule(applyBdbUpdate(existing, body, await bdbRulesContext(deps)));
    const compare: Compare[] = [{ key: keys.bdb(existing.uid), target: 'mod', op: '==', value: modRevision }];
    const ops: TxnOp[] = [{ type: 'put', key: keys.bdb(existing.uid), value: JSON.stringify(next) }];
    if (next.port !== existing.port) {
      const taken = await takenPorts(deps);
      taken.delete(existing.port);
      await assertPortAvailable(deps, next.port, taken);
      compare.push({ key: keys.bdbPortIndex(next.port), target: 'version', op: '==', value: 0 });
      ops.push({ type: 'delete', key: keys.bdbPortIndex(existing.port) }, { type: 'put', key: keys.bdbPortIndex(next.port), value: String(existing.uid) });
    }
    if (next.name !== existing.name) {
      if ((await deps.store.get(keys.bdbNameIndex(next.name))) !== undefined) {
        throw new ApiError(409, 'name_already_exists', `A database named '${next.name}' already exists`);
      }
      compare.push({ key: keys.bdbNameIndex(next.name), target: 'version', op: '==', value: 0 });
      ops.push({ type: 'delete', key: keys.bdbNameIndex(existing.name) }, { type: 'put', key: keys.bdbNameIndex(next.name), value: String(existing.uid) });
    }
    if (isDryRun(query)) return bdbResponse(deps, caller, next, modRevision);
    const result = await deps.store.txn({ compare, success: ops });
    if (!result.succeeded) throw new ApiError(409, 'config_edit_conflict', `Database ${existing.uid} was changed concurrently; retry`);
    return bdbResponse(deps, caller, next, result.revision, 'active-change-pending');
  },
});
