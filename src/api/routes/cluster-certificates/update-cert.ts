// PUT /v1/cluster/update_cert (digest §2.5): the deprecated single-certificate form, same validation and apply.
import { defineRoute } from '../../route.js';
import * as certificates from '../../services/certificates.js';
import { CertificateItem } from './put-certificates.js';

export const updateCert = defineRoute({
  method: 'PUT',
  url: '/v1/cluster/update_cert',
  permission: 'update_cluster',
  errors: ['unknown_certificate', 'invalid_certificate', 'invalid_key', 'certificate_expired', 'certificate_not_yet_valid', 'key_mismatch', 'weak_key', 'weak_signature', 'missing_key', 'unexpected_key', 'not_a_ca', 'config_edit_conflict', 'nodes_not_updated'],
  schema: { body: CertificateItem },
  handler: async ({ deps, caller, body, request }) => {
    return certificates.installCertificates(deps, caller, [body], request.log);
  },
});
