// GET /v1/job_scheduler (RS: permission view_cluster_info): the job settings, RS defaults until the first PUT.
import { defineRoute } from '../../route.js';
import * as rotation from '../../services/internal-rotation.js';

export const getJobScheduler = defineRoute({
  method: 'GET',
  url: '/v1/job_scheduler',
  permission: 'view_cluster_info',
  schema: {},
  handler: async ({ deps }) => rotation.readJobScheduler(deps),
});
