// PUT /v1/cluster/update_cert (digest §2.5): the deprecated single-certificate form, same validation and apply.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import * as certificates from '../../services/certificates.js';
import { CertificateItem } from './put-certificates.js';

export const updateCert = defineRoute({
  method: 'PUT',
  url: '/v1/cluster/update_cert',
  permission: 'update_cluster',
  errors: ['unknown_certificate', 'invalid_certificate', 'invalid_key', 'certificate_expired', 'certificate_not_yet_valid', 'key_mismatch', 'weak_key', 'weak_signature', 'missing_key', 'unexpected_key', 'not_a_ca', 'identity_change', 'config_edit_conflict', 'nodes_not_updated'],
  schema: {
    // certplane extension (issue 15.3): allow_identity_change beside the item's fields.
    body: Type.Object({ ...CertificateItem.properties, allow_identity_change: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  },
  handler: async ({ deps, caller, body, request }) => {
    const { allow_identity_change: allowIdentityChange, ...item } = body;
    return certificates.installCertificates(deps, caller, [item], request.log, { allowIdentityChange: allowIdentityChange === true });
  },
});
