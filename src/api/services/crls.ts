// Certificate revocation lists (certplane extension, README "Certificate revocation lists"): GET and PUT
// /v1/cluster/crls. A PUT checks every CRL against the trust anchors for client certificates, replaces the
// uploaded CRLs and/or the crl_checking settings in one compare-guarded transaction with its audit event, then
// answers through the apply contract (every member's node agent applied the document: its database proxy
// enforces it; src/api/state/apply-contract.ts), like a certificate change.
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import { keys } from '../../store/keys.js';
import { readClientTrustAnchorPems, readCrlDocument } from '../../store/crl-records.js';
import { eventPutOp } from '../../store/event-log.js';
import { getJson } from '../../store/cluster-store.js';
import { ApiError } from '../../lib/api-error.js';
import { confirmApplied } from '../state/apply-contract.js';
import {
  clientTrustAnchors,
  describeCrls,
  normalizeCrlDocument,
  validateUploadedCrls,
  type CrlDocument,
  type CrlSettings,
  type CrlView,
} from '../../domain/crl-document.js';

export interface CrlsView {
  crl_checking: CrlSettings;
  crls: CrlView[];
  /** The leader's last fetch per URL (crl_checking.fetch). */
  fetch_status: Record<string, unknown>;
  warnings?: string[];
}

export interface CrlsUpdate {
  crls?: string[] | undefined;
  crl_checking?: Partial<CrlSettings> | undefined;
}

/** Where audit events are also written (the request logger). */
export type AuditLogger = { info(obj: object, msg: string): void };

const MAX_WRITE_ATTEMPTS = 20;

export async function readCrls(deps: ApiDeps): Promise<CrlsView> {
  const [{ value }, status] = await Promise.all([readCrlDocument(deps.store), getJson<Record<string, unknown>>(deps.store, keys.crlFetchStatus)]);
  const doc = normalizeCrlDocument(value as Partial<CrlDocument> | undefined);
  return { crl_checking: doc.settings, crls: describeCrls(doc, deps.clock.now()), fetch_status: status ?? {} };
}

export async function updateCrls(deps: ApiDeps, caller: Caller, update: CrlsUpdate, log?: AuditLogger): Promise<CrlsView> {
  const now = deps.clock.now();
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const stored = await readCrlDocument(deps.store);
    const current = normalizeCrlDocument(stored.value as Partial<CrlDocument> | undefined);
    let crls = current.crls;
    let warnings: string[] = [];
    if (update.crls !== undefined) {
      const anchors = clientTrustAnchors(await readClientTrustAnchorPems(deps.store));
      const result = validateUploadedCrls(update.crls, anchors, now);
      if (!result.ok) {
        const first = result.errors[0]!;
        throw new ApiError(first.error_code, first.description, { errors: result.errors });
      }
      warnings = result.warnings;
      // The upload replaces every uploaded CRL; fetched ones stay (the newest per CA is the one enforced).
      crls = [...current.crls.filter((c) => c.source !== 'uploaded'), ...result.crls.map((c) => c.stored)];
    }
    const settings: CrlSettings = { ...current.settings, ...definedOnly(update.crl_checking ?? {}) };
    const next: CrlDocument = { settings, crls };
    const event = {
      time: now.toISOString(),
      type: 'crls_updated',
      user_uid: caller.uid,
      user_email: caller.email,
      crl_checking: settings,
      ...(update.crls === undefined ? {} : { uploaded: crls.filter((c) => c.source === 'uploaded').map((c) => c.issuer_subject) }),
    };
    const result = await deps.store.txn({
      compare: [{ key: keys.crls, target: 'mod', op: '==', value: stored.modRevision }],
      success: [{ type: 'put', key: keys.crls, value: JSON.stringify(next) }, eventPutOp(event)],
    });
    if (!result.succeeded) continue;
    log?.info({ audit: event }, 'certificate revocation lists changed');
    await confirmApplied(deps, result.revision, 'nodes_not_updated');
    const view = await readCrls(deps);
    return warnings.length === 0 ? view : { ...view, warnings };
  }
  throw new ApiError('config_edit_conflict', 'The CRLs were changed concurrently too often; retry');
}

function definedOnly(settings: Partial<CrlSettings>): Partial<CrlSettings> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}
