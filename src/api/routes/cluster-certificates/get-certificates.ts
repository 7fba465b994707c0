// GET /v1/cluster/certificates (digest §2.3): `<name>_cert` for every installed certificate, `<name>_key`
// only for callers holding update_cluster (DESIGN.md: viewers never see private keys).
import { defineRoute } from '../../route.js';
import { hasPermission } from '../../../domain/rbac.js';
import { isCertificateName } from '../../../domain/certificate-names.js';
import * as certificates from '../../services/certificates.js';

export const getCertificates = defineRoute({
  method: 'GET',
  url: '/v1/cluster/certificates',
  permission: 'view_cluster_info',
  schema: {},
  handler: async ({ deps, caller }) => {
    const showKeys = hasPermission(caller.role, 'update_cluster');
    const body: Record<string, string> = {};
    for (const [name, stored] of [...(await certificates.readInstalledCertificates(deps))].sort(([a], [b]) => a.localeCompare(b))) {
      // Only RS certificate names: the internal trust bundle (internal_ca_trust, README "Internal certificate rotation") is not one.
      if (!isCertificateName(name)) continue;
      body[`${name}_cert`] = stored.certificate;
      if (showKeys && stored.key !== undefined) body[`${name}_key`] = stored.key;
    }
    return body;
  },
});
