// PUT /v1/cluster/certificates (digest §2.4, seed 001): validate every item, then replace them on all nodes.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as certificates from '../../services/certificates.js';

export const CertificateItem = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    certificate: Type.String({ maxLength: 262_144 }),
    key: Type.Optional(Type.String({ maxLength: 65_536 })),
  },
  { additionalProperties: false },
);

export const putCertificates = defineRoute({
  method: 'PUT',
  url: '/v1/cluster/certificates',
  permission: 'update_cluster',
  errors: ['unknown_certificate', 'invalid_certificate', 'invalid_key', 'certificate_expired', 'certificate_not_yet_valid', 'key_mismatch', 'weak_key', 'weak_signature', 'missing_key', 'unexpected_key', 'not_a_ca', 'duplicate_certificate_name', 'identity_change', 'config_edit_conflict', 'nodes_not_updated'],
  schema: {
    body: Type.Object(
      {
        certificates: Type.Array(CertificateItem, { minItems: 1, maxItems: 32 }),
        // certplane extension (issue 15.3): replace api/cm/proxy even when a name, an IP or the root changes.
        allow_identity_change: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  },
  handler: async ({ deps, caller, body, request }) => {
    return certificates.installCertificates(deps, caller, body.certificates, request.log, { allowIdentityChange: body.allow_identity_change === true });
  },
});
