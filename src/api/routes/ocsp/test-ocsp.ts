// POST /v1/ocsp/test (digest §3.1): query the responder now and return the fresh ocsp_status; cached only while
// OCSP is enabled. No responder URL in the proxy certificate → 400 no_responder_url (RS lists 500; certplane
// treats it as a request that cannot be served, as PUT does). A responder that cannot be reached or whose answer
// fails verification → 500 invalid_ocsp_response with the reason (RS documents 500 for this endpoint).
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import * as ocsp from '../../services/ocsp.js';

export const testOcsp = defineRoute({
  method: 'POST',
  url: '/v1/ocsp/test',
  permission: 'test_ocsp_status',
  errors: ['no_responder_url', 'invalid_ocsp_response', 'ocsp_unsupported_by_capability'],
  schema: {},
  handler: async ({ deps }) => {
    const outcome = await ocsp.testOcsp(deps);
    if (outcome.ok) return outcome.status;
    throw new ApiError(outcome.error_code, outcome.description);
  },
});
