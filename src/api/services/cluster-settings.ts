// The cluster document and the cluster policy (GET/PUT /v1/cluster, GET/PUT /v1/cluster/policy): partial updates
// merged into the stored document, the full object returned, `dryRun` validates only. Writes are compare-and-swap
// on the document, with the cluster_* events in the same transaction.
import type { Static } from 'typebox';
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import type { ClusterDocument, ClusterPolicy } from '../../domain/cluster-settings.js';
import { noLoginMethodReason } from '../../domain/login-methods.js';
import type { TxnOp } from '../../store/cluster-store.js';
import { clusterChangeEvents } from '../state/entity-events.js';
import { confirmApplied } from '../state/apply-contract.js';
import { readCertificateRecord } from '../../store/certificate-records.js';
import { mergeCipherFields } from './cipher-settings.js';
import { prepareAlertSettings } from './alert-settings.js';
import type { ClusterUpdate, PolicyUpdate } from '../routes/cluster/cluster-schemas.js';

const READ_ONLY = ['name', 'created_time', 'cnm_https_port', 'cm_port'] as const;

/** Cluster fields that show an installed certificate (RS: proxy_certificate, syncer_certificate); never stored
 *  in the cluster document, read-only here (certificates change through PUT /v1/cluster/certificates). */
const CERTIFICATE_VIEWS = { proxy_certificate: 'proxy', syncer_certificate: 'syncer' } as const;
type CertificateViews = Record<keyof typeof CERTIFICATE_VIEWS, string>;

async function readCertificateViews(deps: ApiDeps): Promise<CertificateViews> {
  const read = async (name: string): Promise<string> => {
    return (await readCertificateRecord(deps.store, name))?.record.certificate ?? '';
  };
  return { proxy_certificate: await read(CERTIFICATE_VIEWS.proxy_certificate), syncer_certificate: await read(CERTIFICATE_VIEWS.syncer_certificate) };
}

async function readDocument<T>(deps: ApiDeps, key: string): Promise<{ doc: T; modRevision: number }> {
  const kv = await deps.store.get(key);
  if (kv === undefined) throw new ApiError('store_unavailable', 'The cluster is not initialized');
  return { doc: JSON.parse(kv.value) as T, modRevision: kv.modRevision };
}

async function writeDocument(deps: ApiDeps, key: string, modRevision: number, doc: unknown, alsoWrite: TxnOp[] = []): Promise<number> {
  const result = await deps.store.txn({
    compare: [{ key, target: 'mod', op: '==', value: modRevision }],
    success: [{ type: 'put', key, value: JSON.stringify(doc) }, ...alsoWrite],
  });
  if (!result.succeeded) throw new ApiError('config_edit_conflict', 'The configuration was changed concurrently; retry');
  return result.revision;
}

/** GET /v1/cluster: the stored document with cipher defaults filled in and the certificate views. */
export async function getCluster(deps: ApiDeps): Promise<Record<string, unknown>> {
  const { doc } = await readDocument<ClusterDocument>(deps, keys.cluster);
  return { ...doc, ...mergeCipherFields(doc, {}), ...(await readCertificateViews(deps)) };
}

/** PUT /v1/cluster. */
export async function putCluster(deps: ApiDeps, caller: Caller, fullBody: Static<typeof ClusterUpdate>, dryRun: boolean): Promise<Record<string, unknown>> {
  const { proxy_certificate: proxyCertificate, syncer_certificate: syncerCertificate, ...sent } = fullBody;
  const { doc, modRevision } = await readDocument<ClusterDocument>(deps, keys.cluster);
  // Alert thresholds and delivery settings; the write-only secrets leave the body here (services/alert-settings.ts).
  const alerting = await prepareAlertSettings(deps, caller, doc, sent);
  const body = alerting.body;
  for (const field of READ_ONLY) {
    if (body[field] !== undefined && body[field] !== doc[field]) {
      throw new ApiError('invalid_schema', `'${field}' is read-only`);
    }
  }
  const views = await readCertificateViews(deps);
  for (const [field, sent] of [['proxy_certificate', proxyCertificate], ['syncer_certificate', syncerCertificate]] as const) {
    if (sent !== undefined && sent !== views[field]) {
      throw new ApiError('invalid_schema', `'${field}' is read-only: replace the ${CERTIFICATE_VIEWS[field]} certificate with PUT /v1/cluster/certificates`);
    }
  }
  const next: ClusterDocument = {
    ...doc,
    ...(body as Partial<ClusterDocument>),
    alert_settings: {
      ...doc.alert_settings,
      ...Object.fromEntries(
        Object.entries(body.alert_settings ?? {}).map(([name, value]) => [
          name,
          typeof value === 'object' ? { ...(doc.alert_settings as unknown as Record<string, object>)[name], ...value } : value,
        ]),
      ),
    },
  };
  Object.assign(next, mergeCipherFields(doc, body));
  alerting.check(next);
  const lockedOut = noLoginMethodReason(next);
  if (lockedOut !== undefined) throw new ApiError('no_login_method', lockedOut);
  await checkMtlsPrerequisites(deps, next);
  if (!dryRun) {
    // Every node serves from its own copy of the document: answer once every member applied it, as for a
    // certificate change (the apply contract; requests after a 200 authenticate under the new settings anywhere).
    const events = clusterChangeEvents(deps.clock, caller, doc, next, 'cluster');
    const revision = await writeDocument(deps, keys.cluster, modRevision, next, [...events, ...alerting.ops]);
    await confirmApplied(deps, revision);
  }
  return { ...next, ...views };
}

/** Certificate authentication needs a trust anchor, and subject validation needs subjects to validate against. */
async function checkMtlsPrerequisites(deps: ApiDeps, cluster: ClusterDocument): Promise<void> {
  if (!cluster.mtls_certificate_authentication) return;
  if ((await readCertificateRecord(deps.store, 'mtls_trusted_ca')) === undefined) {
    throw new ApiError('missing_trusted_ca',
      'mtls_certificate_authentication needs the mtls_trusted_ca certificate: install it with PUT /v1/cluster/certificates first',
    );
  }
  if (cluster.mtls_client_cert_subject_validation_type !== 'disabled' && cluster.mtls_authorized_subjects.length === 0) {
    throw new ApiError('invalid_schema',
      `mtls_client_cert_subject_validation_type '${cluster.mtls_client_cert_subject_validation_type}' needs at least one entry in mtls_authorized_subjects`,
    );
  }
}

/** GET /v1/cluster/policy. */
export async function getPolicy(deps: ApiDeps): Promise<ClusterPolicy> {
  return (await readDocument<ClusterPolicy>(deps, keys.policy)).doc;
}

/** PUT /v1/cluster/policy. */
export async function putPolicy(deps: ApiDeps, caller: Caller, body: Static<typeof PolicyUpdate>, dryRun: boolean): Promise<ClusterPolicy> {
  const { doc, modRevision } = await readDocument<ClusterPolicy>(deps, keys.policy);
  const next: ClusterPolicy = { ...doc, ...body };
  if (!dryRun) await writeDocument(deps, keys.policy, modRevision, next, clusterChangeEvents(deps.clock, caller, doc, next, 'policy'));
  return next;
}
