// GET /v1/bootstrap (digest §8): readiness. certplane creates the cluster on first start, so once the API
// listens the state is `completed`. Public, so scripts can poll it before they have credentials.
import { defineRoute } from '../../route.js';

export const getBootstrap = defineRoute({
  method: 'GET',
  url: '/v1/bootstrap',
  permission: 'public',
  schema: {},
  handler: async ({ deps }) => ({
    bootstrap_status: { state: 'completed', start_time: deps.localNode.started_at, end_time: deps.localNode.started_at },
    local_node_info: { uid: deps.localNode.uid, available_addresses: [{ address: deps.localNode.address, format: 'ipv4', if_name: 'lo', private: true }] },
  }),
});
