// POST /v1/bdbs (digest §7.1): validates the whole body, assigns uid and port when omitted (ports from
// 12000), and writes the database with its uniqueness indexes in one transaction. The owning node starts
// it; the answer carries status "pending" until then. `?dry_run` validates only.
import { defineRoute, isDryRun } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { pickFreePort, validateNewBdb } from '../../../domain/databases.js';
import { DryRunQuery } from '../cluster/cluster-schemas.js';
import { assertPortAvailable, bdbResponse, bdbRulesContext, isPortBindable, takenPorts, unwrapBdbRule } from './bdb-context.js';
import { NewBdbBody } from './bdb-schemas.js';

const MAX_ATTEMPTS = 5;

export const createBdb = defineRoute({
  method: 'POST',
  url: '/v1/bdbs',
  permission: 'create_bdb',
  schema: { body: NewBdbBody, querystring: DryRunQuery },
  handler: async ({ deps, caller, body, query }) => {
    for (let attempt = 1; ; attempt++) {
      const ctx = await bdbRulesContext(deps);
      const counter = await deps.store.get(keys.counter('bdb_uid'));
      const last = counter === undefined ? 0 : Number(counter.value);
      const uid = body.uid ?? last + 1;
      const taken = await takenPorts(deps);
      const explicitPort = body.port !== undefined && body.port !== 0 ? body.port : undefined;
      let assignedPort = explicitPort ?? pickFreePort(taken);
      // An automatic port must also be free on this host (the REST API or another program may hold it).
      while (explicitPort === undefined && assignedPort !== undefined && !(await isPortBindable(deps.localNode.address, assignedPort))) {
        taken.add(assignedPort);
        assignedPort = pickFreePort(taken);
      }
      if (assignedPort === undefined) throw new ApiError(409, 'port_unavailable', 'No database port is free');

      const record = unwrapBdbRule(validateNewBdb(body, { ...ctx, uid, assignedPort, nodeUid: deps.localNode.uid }));
      if ((await deps.store.get(keys.bdb(uid))) !== undefined) throw new ApiError(409, 'uid_exists', `Database ${uid} already exists`);
      if ((await deps.store.get(keys.bdbNameIndex(record.name))) !== undefined) {
        throw new ApiError(409, 'name_already_exists', `A database named '${record.name}' already exists`);
      }
      if (explicitPort !== undefined) await assertPortAvailable(deps, explicitPort, taken);
      if (isDryRun(query)) return bdbResponse(deps, caller, record, undefined, 'pending');

      const result = await deps.store.txn({
        compare: [
          { key: keys.counter('bdb_uid'), target: 'version', op: '==', value: counter?.version ?? 0 },
          { key: keys.bdb(uid), target: 'version', op: '==', value: 0 },
          { key: keys.bdbPortIndex(record.port), target: 'version', op: '==', value: 0 },
          { key: keys.bdbNameIndex(record.name), target: 'version', op: '==', value: 0 },
        ],
        success: [
          { type: 'put', key: keys.counter('bdb_uid'), value: String(Math.max(last, uid)) },
          { type: 'put', key: keys.bdb(uid), value: JSON.stringify(record) },
          { type: 'put', key: keys.bdbPortIndex(record.port), value: String(uid) },
          { type: 'put', key: keys.bdbNameIndex(record.name), value: String(uid) },
        ],
      });
      if (result.succeeded) return bdbResponse(deps, caller, record, result.revision, 'pending');
      // A concurrent create took the uid, port or name: re-check everything against the new state.
      if (attempt >= MAX_ATTEMPTS) throw new ApiError(409, 'config_edit_conflict', 'Databases were changed concurrently; retry');
    }
  },
});
