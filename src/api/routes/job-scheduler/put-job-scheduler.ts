// PUT /v1/job_scheduler: partial update merged per job object, full object returned. The digest names no
// permission for it: update_cluster (admin), like every other cluster-wide change. expiry_days_before_rotation
// outside 1-90, unknown fields or wrong types are 400 invalid_schema; a cron expression that does not parse (or
// never fires) is 400 invalid_cron_expression. Nothing is written on any failure.
import { defineRoute } from '../../route.js';
import * as rotation from '../../services/internal-rotation.js';
import { JobSchedulerBody } from './job-scheduler-schemas.js';

export const putJobScheduler = defineRoute({
  method: 'PUT',
  url: '/v1/job_scheduler',
  permission: 'update_cluster',
  errors: ['invalid_cron_expression', 'config_edit_conflict'],
  schema: { body: JobSchedulerBody },
  handler: async ({ deps, body }) => rotation.updateJobScheduler(deps, body),
});
