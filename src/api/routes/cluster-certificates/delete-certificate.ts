// DELETE /v1/cluster/certificates/{name} (digest §2.6): only optional certificates; refusing to delete the
// mTLS trust anchor while certificate authentication is on (DESIGN.md), since it would lock users out.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { CERTIFICATE_SPECS, isCertificateName } from '../../../domain/certificate-names.js';
import * as certificates from '../../services/certificates.js';

export const deleteCertificateRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/cluster/certificates/:name',
  permission: 'update_cluster',
  errors: ['unknown_certificate', 'required_certificate', 'certificate_in_use', 'not_found', 'config_edit_conflict', 'nodes_not_updated', 'node_apply_failed'],
  schema: { params: Type.Object({ name: Type.String({ maxLength: 64 }) }) },
  handler: async ({ deps, caller, params, request }) => {
    const { name } = params;
    if (!isCertificateName(name)) throw new ApiError('not_found', `Unknown certificate '${name}'`);
    if (!CERTIFICATE_SPECS[name].deletable) {
      throw new ApiError('required_certificate', `The '${name}' certificate is required and cannot be deleted`);
    }
    await certificates.removeCertificate(deps, caller, name, request.log);
    return {};
  },
});
