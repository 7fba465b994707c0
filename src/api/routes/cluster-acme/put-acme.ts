// PUT /v1/cluster/acme (issue 15.2, certplane extension): replaces the ACME settings; changed like the
// certificates (update_cluster). Names listed get ACME back even after a hand upload switched it off.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as acme from '../../services/acme.js';

const Name = Type.Union([Type.Literal('api'), Type.Literal('cm'), Type.Literal('proxy'), Type.Literal('metrics_exporter')]);
const Identifiers = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 20 });

export const putAcmeRoute = defineRoute({
  method: 'PUT',
  url: '/v1/cluster/acme',
  permission: 'update_cluster',
  errors: ['invalid_acme_settings', 'identity_change', 'config_edit_conflict'],
  schema: {
    body: Type.Object(
      {
        directory_url: Type.String({ minLength: 1, maxLength: 2048 }),
        contact_email: Type.Optional(Type.String({ maxLength: 254 })),
        names: Type.Array(Name, { maxItems: 4, uniqueItems: true }),
        challenge: Type.Optional(Type.Union([Type.Literal('http-01'), Type.Literal('dns-01')])),
        ca_certificate: Type.Optional(Type.String({ maxLength: 262_144 })),
        identifiers: Type.Optional(
          Type.Object(
            { api: Type.Optional(Identifiers), cm: Type.Optional(Identifiers), proxy: Type.Optional(Identifiers), metrics_exporter: Type.Optional(Identifiers) },
            { additionalProperties: false },
          ),
        ),
        allow_identity_change: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  },
  handler: async ({ deps, caller, body }) => acme.putAcme(deps, caller, body),
});
