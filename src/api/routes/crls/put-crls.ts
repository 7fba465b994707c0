// PUT /v1/cluster/crls (certplane extension, README "Certificate revocation lists"): replaces the uploaded
// CRLs (one per issuing CA, each signed by a trust anchor for client certificates) and/or the crl_checking
// settings, on all nodes (same permission and apply contract as PUT /v1/cluster/certificates).
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as crls from '../../services/crls.js';

/** One CRL as PEM; 10 MiB at most (the request body limit, --body-limit-bytes, usually comes first). */
export const MAX_CRL_TEXT = 10 * 1024 * 1024;

export const CrlCheckingSettings = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    fetch: Type.Optional(Type.Boolean()),
    missing_or_expired: Type.Optional(Type.Union([Type.Literal('accept'), Type.Literal('refuse')])),
    distribution_points: Type.Optional(Type.Array(Type.String({ maxLength: 2048, pattern: '^https?://[\\x21-\\x7e]+$' }), { maxItems: 16 })),
    fetch_timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
    refresh_interval_seconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 604_800 })),
  },
  { additionalProperties: false },
);

export const putCrls = defineRoute({
  method: 'PUT',
  url: '/v1/cluster/crls',
  permission: 'update_cluster',
  errors: ['invalid_crl', 'crl_issuer_not_trusted', 'crl_signature_invalid', 'duplicate_crl_issuer', 'config_edit_conflict', 'nodes_not_updated'],
  schema: {
    body: Type.Object(
      {
        crls: Type.Optional(Type.Array(Type.String({ maxLength: MAX_CRL_TEXT }), { maxItems: 64 })),
        crl_checking: Type.Optional(CrlCheckingSettings),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  handler: async ({ deps, caller, body, request }) => crls.updateCrls(deps, caller, body, request.log),
});
