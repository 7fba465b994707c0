// The job_scheduler object (RS field names): certplane runs cert_rotation_job_settings; the other RS jobs are
// accepted with their RS shapes (a GET-edit-PUT round trip works) and have no effect.
import { Type } from 'typebox';
import { EXPIRY_DAYS_BEFORE_ROTATION_MAX, EXPIRY_DAYS_BEFORE_ROTATION_MIN } from '../../../domain/internal-rotation.js';

const Cron = Type.String({ minLength: 1, maxLength: 256 });
const job = (extra: Record<string, ReturnType<typeof Type.Optional>> = {}) =>
  Type.Optional(Type.Object({ cron_expression: Type.Optional(Cron), enabled: Type.Optional(Type.Boolean()), ...extra }, { additionalProperties: false }));

export const JobSchedulerBody = Type.Object(
  {
    cert_rotation_job_settings: Type.Optional(
      Type.Object(
        {
          cron_expression: Type.Optional(Cron),
          enabled: Type.Optional(Type.Boolean()),
          expiry_days_before_rotation: Type.Optional(Type.Integer({ minimum: EXPIRY_DAYS_BEFORE_ROTATION_MIN, maximum: EXPIRY_DAYS_BEFORE_ROTATION_MAX })),
        },
        { additionalProperties: false },
      ),
    ),
    backup_job_settings: job(),
    bdb_usage_report_job_settings: job({ file_retention_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }),
    log_rotation_job_settings: job(),
    node_checks_job_settings: job(),
    redis_cleanup_job_settings: Type.Optional(Type.Object({ cron_expression: Type.Optional(Cron) }, { additionalProperties: false })),
    rotate_ccs_job_settings: job({
      file_suffix: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      rotate_max_num: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    }),
  },
  { additionalProperties: false },
);
