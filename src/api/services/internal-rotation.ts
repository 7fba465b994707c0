// POST /v1/cluster/certificates/rotate and GET/PUT /v1/job_scheduler (issue 14 item 1, digest §2.7): the rotation
// itself is src/rotation (injected as ApiDeps.internalRotation); this service answers with the same all-nodes
// contract as a PUT of certificates (apply-contract.ts confirmApplied: 200 once every member applied, else 409
// nodes_not_updated naming them) and keeps the job scheduler document.
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import { certificateRecordKey } from '../../store/certificate-records.js';
import { confirmApplied } from '../state/apply-contract.js';
import {
  DEFAULT_CA_OVERLAP_SECONDS,
  jobSchedulerOf,
  mergeJobScheduler,
  resolveRotateTarget,
  validateJobScheduler,
  INTERNODE_CERTIFICATE_NAMES,
  type JobSchedulerDocument,
  type JobSchedulerPatch,
  type RotationOutcome,
} from '../../domain/internal-rotation.js';

export interface RotateAnswer {
  rotated: RotationOutcome['rotated'];
  skipped: RotationOutcome['skipped'];
  internal_ca?: { new_fingerprint: string; overlap_started_at: string; retire_after: string };
}

/** Audit trail lines go to the request log too. */
export type RotationLog = { info(obj: object, msg: string): void };

export async function rotateInternalCertificates(deps: ApiDeps, caller: Caller, request: { name?: string; overlapSeconds?: number }, log?: RotationLog): Promise<RotateAnswer> {
  const target = resolveRotateTarget(request.name);
  if (!target.ok) throw new ApiError(target.error_code, target.description);
  if (request.overlapSeconds !== undefined && !target.renewCa) {
    throw new ApiError('invalid_schema', 'overlap_seconds applies only to the renewal of the internal CA (name "internal_ca")');
  }
  const rotation = deps.internalRotation;
  if (rotation === undefined) throw new Error('internal rotation is not wired');
  const actor = { uid: caller.uid, email: caller.email };
  const answer: RotateAnswer = { rotated: [], skipped: [] };

  if (target.renewCa) {
    // Phase 1: the new CA and the trust bundle of new + old CA on every node before any certificate from the new
    // CA exists, so no node meets a certificate from a CA it does not trust yet. A 409 here stops before phase 2;
    // repeating the request resumes with phase 2 (the renewal under way is not started again).
    const renewal = await rotation.renewInternalCa({ actor, overlapSeconds: request.overlapSeconds ?? DEFAULT_CA_OVERLAP_SECONDS });
    answer.internal_ca = { new_fingerprint: renewal.new_ca_fingerprint, overlap_started_at: renewal.renewal.started_at, retire_after: renewal.renewal.retire_after };
    if (renewal.revision !== undefined) {
      log?.info({ audit: { type: 'internal_ca_renewed', user_uid: caller.uid, new_fingerprint: renewal.new_ca_fingerprint, retire_after: renewal.renewal.retire_after } }, 'internal CA renewed');
    }
    // Also when the renewal was already under way (a repeated request after a 409): a member that has not applied
    // the old+new bundle yet must not meet a certificate from the new CA.
    try {
      await confirmApplied(deps, renewal.publishedRevision, 'nodes_not_updated');
    } finally {
      // The previous CA's private key must not stay readable in the store's history (issue 17.10).
      if (renewal.revision !== undefined) await deps.store.forgetHistory([keys.internalCa], renewal.revision);
    }
  }

  // Phase 2 (or the whole of an internode rotation): new certificates and keys from the current CA.
  const outcome = await rotation.rotateInternode({ names: target.internode, actor }).catch((error: unknown) => {
    if (error instanceof Error && error.name === 'RotationConflictError') throw new ApiError('config_edit_conflict', error.message);
    throw error;
  });
  answer.rotated = outcome.rotated;
  answer.skipped = outcome.skipped;
  if (target.explicit && !target.renewCa && outcome.rotated.length === 0) {
    // One internode certificate named, and it is customer-provided: nothing was written.
    const name = target.internode[0] ?? '';
    throw new ApiError('unsupported_certificate_rotation', `The '${name}' certificate is customer-provided (not issued by the internal CA) and is never rotated: replace it with PUT /v1/cluster/certificates`);
  }
  for (const entry of outcome.rotated) log?.info({ audit: { type: 'certificate_updated', reason: 'internal_rotation', user_uid: caller.uid, certificate_name: entry.name, old_fingerprint: entry.old_fingerprint, new_fingerprint: entry.new_fingerprint } }, 'internal certificate rotated');
  if (outcome.revision !== undefined) {
    try {
      await confirmApplied(deps, outcome.revision, 'nodes_not_updated');
    } finally {
      await deps.store.forgetHistory(INTERNODE_CERTIFICATE_NAMES.map(certificateRecordKey), outcome.revision);
    }
  }
  return answer;
}

export async function readJobScheduler(deps: ApiDeps): Promise<JobSchedulerDocument> {
  const kv = await deps.store.get(keys.jobScheduler);
  return jobSchedulerOf(kv === undefined ? undefined : (JSON.parse(kv.value) as JobSchedulerPatch));
}

const MAX_WRITE_ATTEMPTS = 20;

/** Merges the PUT into the stored document, validates the whole result, and stores it; nothing changes on a failure. */
export async function updateJobScheduler(deps: ApiDeps, patch: JobSchedulerPatch): Promise<JobSchedulerDocument> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const kv = await deps.store.get(keys.jobScheduler);
    const current = jobSchedulerOf(kv === undefined ? undefined : (JSON.parse(kv.value) as JobSchedulerPatch));
    const next = mergeJobScheduler(current, patch);
    const check = validateJobScheduler(next);
    if (!check.ok) throw new ApiError(check.error_code, check.description);
    if (JSON.stringify(next) === JSON.stringify(current) && kv !== undefined) return next;
    const result = await deps.store.txn({
      compare: [kv === undefined ? { key: keys.jobScheduler, target: 'version', op: '==', value: 0 } : { key: keys.jobScheduler, target: 'mod', op: '==', value: kv.modRevision }],
      success: [{ type: 'put', key: keys.jobScheduler, value: JSON.stringify(next) }],
    });
    if (result.succeeded) return next;
  }
  throw new ApiError('config_edit_conflict', 'The job scheduler settings were changed concurrently too often; retry');
}
