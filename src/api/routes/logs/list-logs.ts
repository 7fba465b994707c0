// GET /v1/logs: the cluster event log (certificate audit trail, alerts, and changes of databases, users, roles
// and ACLs), in the reference's shape: every event has `time` (`2014-08-29T11:19:49Z`), `type` and `severity`.
// Query (RS "Logs requests"): `stime`, `etime` (ISO 8601, inclusive), `order` (asc, the default, or desc),
// `offset`, `limit`. See src/domain/event-log.ts.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { listAuditEvents } from '../../state/audit-log.js';
import { parseEventTime, selectEvents, type StoredEvent } from '../../../domain/event-log.js';

const Count = Type.String({ pattern: '^[0-9]{1,6}$' });

export const listLogs = defineRoute({
  method: 'GET',
  url: '/v1/logs',
  permission: 'view_logged_events',
  schema: {
    querystring: Type.Object(
      {
        stime: Type.Optional(Type.String({ maxLength: 40 })),
        etime: Type.Optional(Type.String({ maxLength: 40 })),
        order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
        offset: Type.Optional(Count),
        limit: Type.Optional(Count),
      },
      { additionalProperties: false },
    ),
  },
  handler: async ({ deps, query }) => {
    const time = (name: 'stime' | 'etime'): Date | undefined => {
      const value = query[name];
      if (value === undefined) return undefined;
      const parsed = parseEventTime(value);
      if (parsed === undefined) {
        throw new ApiError('invalid_schema', `${name} must be an ISO 8601 time such as 2024-01-31T10:00:00Z (got '${value}')`);
      }
      return parsed;
    };
    const stime = time('stime');
    const etime = time('etime');
    const events = (await listAuditEvents(deps.store, Number.MAX_SAFE_INTEGER)) as unknown as StoredEvent[];
    return selectEvents(events, {
      stime,
      etime,
      order: query.order,
      offset: query.offset === undefined ? undefined : Number(query.offset),
      limit: query.limit === undefined ? undefined : Number(query.limit),
    });
  },
});
