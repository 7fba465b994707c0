// GET /v1/cluster/acme (issue 15.2, certplane extension): the ACME settings and the renewal status per name.
// Read like the certificates (view_cluster_info); nothing secret in it (the account key is never returned).
import { defineRoute } from '../../route.js';
import * as acme from '../../services/acme.js';

export const getAcmeRoute = defineRoute({
  method: 'GET',
  url: '/v1/cluster/acme',
  permission: 'view_cluster_info',
  schema: {},
  handler: async ({ deps }) => acme.getAcme(deps),
});
