// GET /v1/cluster/crls (certplane extension, README "Certificate revocation lists"): the crl_checking settings
// and every installed CRL (issuer, this/next update, revoked count, uploaded or fetched, whether in use).
import { defineRoute } from '../../route.js';
import * as crls from '../../services/crls.js';

export const getCrls = defineRoute({
  method: 'GET',
  url: '/v1/cluster/crls',
  permission: 'view_cluster_info',
  schema: {},
  handler: async ({ deps }) => crls.readCrls(deps),
});
