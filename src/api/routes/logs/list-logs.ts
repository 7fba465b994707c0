// GET /v1/logs: the cluster event log, here the audit trail of certificate changes (who, when, which
// certificate, old and new SHA-256 fingerprints and expiry). `order` and `limit` as in RS.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { listAuditEvents } from '../../state/audit-log.js';

export const listLogs = defineRoute({
  method: 'GET',
  url: '/v1/logs',
  permission: 'view_logged_events',
  schema: {
    querystring: Type.Object(
      {
        order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
      },
      { additionalProperties: false },
    ),
  },
  handler: async ({ deps, query }) => {
    const events = await listAuditEvents(deps.store, query.limit === undefined ? 1000 : Number(query.limit));
    return query.order === 'desc' ? events.reverse() : events;
  },
});
