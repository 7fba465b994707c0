// The alert fields of PUT /v1/cluster: thresholds in range (domain/alerts.ts), the delivery settings (SMTP,
// webhook; domain/alert-delivery.ts) valid as they would be after the update, and the write-only secrets
// (smtp_password, alert_webhook.secret) taken out of the document and written apart (keys.alertSecrets) in the
// same transaction. Any problem is a 400 invalid_schema before anything is written.
import type { Static } from 'typebox';
import type { ApiDeps } from '../api-deps.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import type { TxnOp } from '../../store/cluster-store.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import { alertSettingsProblems } from '../../domain/alerts.js';
import { alertDeliveryFieldsOf, alertDeliveryProblems, type AlertSecrets } from '../../domain/alert-delivery.js';
import type { ClusterUpdate } from '../routes/cluster/cluster-schemas.js';
import type { Caller } from '../auth/caller.js';
import { entityChangeOp } from '../state/entity-events.js';

type Body = Static<typeof ClusterUpdate>;

export interface AlertSettingsUpdate {
  /** The body without the secrets, alert_webhook merged with the stored one. */
  body: Omit<Body, 'smtp_password'>;
  /** Checks the document as it would be (thresholds, delivery settings); throws invalid_schema. */
  check(next: ClusterDocument): void;
  /** The write of the secrets (none when no secret was sent): in the transaction that writes the document,
   *  whose compare-and-swap guards both. */
  ops: TxnOp[];
}

export async function prepareAlertSettings(deps: ApiDeps, caller: Caller, doc: ClusterDocument, fullBody: Body): Promise<AlertSettingsUpdate> {
  const { smtp_password: smtpPassword, alert_webhook: webhookUpdate, ...rest } = fullBody;
  const { secret, ...webhookFields } = webhookUpdate ?? {};
  const secretsKv = await deps.store.get(keys.alertSecrets);
  const stored = secretsKv === undefined ? {} : (JSON.parse(secretsKv.value) as AlertSecrets);
  const secrets: AlertSecrets = {
    ...stored,
    ...(smtpPassword === undefined ? {} : { smtp_password: smtpPassword }),
    ...(secret === undefined ? {} : { webhook_secret: secret }),
  };
  const body: Omit<Body, 'smtp_password'> = { ...rest };
  if (webhookUpdate !== undefined) body.alert_webhook = { ...alertDeliveryFieldsOf(doc).alert_webhook, ...webhookFields };
  // smtp_use_tls is RS's deprecated switch: true without a smtp_tls_mode means STARTTLS.
  if (rest.smtp_use_tls === true && rest.smtp_tls_mode === undefined && alertDeliveryFieldsOf(doc).smtp_tls_mode === 'none') body.smtp_tls_mode = 'starttls';
  // The audit trail names a changed secret, never its value (cluster_updated, as for the document's fields).
  const changedSecrets = [
    ...(smtpPassword !== undefined && smtpPassword !== stored.smtp_password ? ['smtp_password'] : []),
    ...(secret !== undefined && secret !== stored.webhook_secret ? ['alert_webhook.secret'] : []),
  ];
  const changed = changedSecrets.length > 0;
  return {
    body,
    check(next) {
      const problems = [...alertSettingsProblems(next.alert_settings), ...alertDeliveryProblems(alertDeliveryFieldsOf(next), secrets)];
      if (problems.length > 0) throw new ApiError('invalid_schema', problems.join('; '));
    },
    ops: changed
      ? [
          { type: 'put', key: keys.alertSecrets, value: JSON.stringify(secrets) },
          entityChangeOp(deps.clock, caller, { type: 'cluster_updated', target_type: 'cluster', changed_fields: changedSecrets }),
        ]
      : [],
  };
}
