// POST /v1/ocsp/test behind the OcspOperations interface (the API receives it from the composition root and
// does not import this part): query the responder of the proxy certificate now; while OCSP is enabled the
// outcome is cached exactly like a poll (digest §3.1: "cached only if OCSP enabled"), so it also counts towards
// recovery_max_tries and the poller reschedules from it.
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import { responseView, type OcspOperations, type OcspTestOutcome } from '../domain/ocsp-status.js';
import { queryTarget, readOcspContext, recordQueryOutcome } from './ocsp-records.js';
import type { OcspLog } from './ocsp-poller.js';

export function createOcspOperations(deps: { store: ClusterStore; clock: Clock; log: OcspLog }): OcspOperations {
  return {
    async testNow(): Promise<OcspTestOutcome> {
      const context = await readOcspContext(deps.store);
      const target = context.target;
      if (target === undefined || target.responderUrl === '') {
        return {
          ok: false,
          error_code: 'no_responder_url',
          description: 'The proxy certificate has no OCSP responder URL (Authority Information Access): nothing to test',
        };
      }
      const outcome = await queryTarget(target, context.settings, deps.clock);
      if (context.settings.ocsp_functionality) {
        const written = await recordQueryOutcome({ store: deps.store, clock: deps.clock, target, outcome });
        for (const event of written?.events ?? []) deps.log.error({ alert: event.type, state: event.state, responder_url: event.responder_url }, event.description);
      }
      if (!outcome.ok) {
        deps.log.warn({ responder_url: target.responderUrl, failure: outcome.error.kind, reason: outcome.error.message }, 'OCSP test query failed');
        return { ok: false, error_code: outcome.error.errorCode, description: outcome.error.message };
      }
      deps.log.info({ responder_url: target.responderUrl, cert_status: outcome.response.cert_status }, 'OCSP test query answered');
      return { ok: true, status: responseView(outcome.response, target.responderUrl) };
    },
  };
}
