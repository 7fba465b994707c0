// GET /v1/bdbs (digest §7.1): every database, with the status its node reports. `?fields=uid,name` returns only
// those fields of each database (a name that is not a bdb field certplane returns is 400 invalid_schema).
// `?extended=true|false` is accepted and changes nothing: certplane always returns its whole bdb object.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { parseBdbFields, type BdbRecord } from '../../../domain/databases.js';
import { bdbResponse } from './bdb-context.js';

const ListBdbsQuery = Type.Object(
  {
    fields: Type.Optional(Type.String({ maxLength: 4096 })),
    extended: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);

export const listBdbs = defineRoute({
  method: 'GET',
  url: '/v1/bdbs',
  permission: 'view_all_bdbs_info',
  schema: { querystring: ListBdbsQuery },
  handler: async ({ deps, caller, query }) => {
    let fields: string[] | undefined;
    if (query.fields !== undefined) {
      const parsed = parseBdbFields(query.fields);
      if (!parsed.ok) throw new ApiError(parsed.error_code, parsed.description);
      fields = parsed.fields;
    }
    const { kvs } = await deps.store.list(keys.bdbPrefix);
    const all = await Promise.all(kvs.map((kv) => bdbResponse(deps, caller, JSON.parse(kv.value) as BdbRecord, kv.modRevision)));
    if (fields === undefined) return all;
    const wanted = fields;
    return all.map((bdb) => Object.fromEntries(wanted.map((f) => [f, bdb[f]])));
  },
});
