// PUT /v1/ocsp (digest §3.1-3.2, seed 003): partial update merged into the stored settings, full object returned.
// Ranges are schema errors (400 invalid_schema); responder_url is read-only (accepted only unchanged, DESIGN.md);
// enabling without a responder URL in the proxy certificate is 400 no_responder_url. Nothing is written on any
// failure. The write is compare-and-swap on the settings and on the proxy certificate the URL was derived from.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { ApiError } from '../../../lib/api-error.js';
import { keys } from '../../../store/keys.js';
import { certificateRecordKey } from '../../../store/certificate-records.js';
import { applyOcspUpdate, ocspConfigView, OCSP_RANGES } from '../../../domain/ocsp-settings.js';
import { assertOcspCapability, readOcspRouteContext } from './ocsp-context.js';

export const OcspUpdateBody = Type.Object(
  {
    ocsp_functionality: Type.Optional(Type.Boolean()),
    query_frequency: Type.Optional(Type.Integer(OCSP_RANGES.query_frequency)),
    recovery_frequency: Type.Optional(Type.Integer(OCSP_RANGES.recovery_frequency)),
    recovery_max_tries: Type.Optional(Type.Integer(OCSP_RANGES.recovery_max_tries)),
    response_timeout: Type.Optional(Type.Integer(OCSP_RANGES.response_timeout)),
    responder_url: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);

export const putOcsp = defineRoute({
  method: 'PUT',
  url: '/v1/ocsp',
  permission: 'config_ocsp',
  schema: { body: OcspUpdateBody },
  handler: async ({ deps, body }) => {
    await assertOcspCapability(deps);
    const context = await readOcspRouteContext(deps);
    const result = applyOcspUpdate(context.settings, body, context.responderUrl);
    if (!result.ok) throw new ApiError(400, result.error_code, result.description);
    const unchanged = context.settingsRevision !== 0 && JSON.stringify(result.settings) === JSON.stringify(context.settings);
    if (!unchanged) {
      const written = await deps.store.txn({
        compare: [
          { key: keys.ocspSettings, target: 'mod', op: '==', value: context.settingsRevision },
          { key: certificateRecordKey('proxy'), target: 'mod', op: '==', value: context.certificateRevision },
        ],
        success: [{ type: 'put', key: keys.ocspSettings, value: JSON.stringify(result.settings) }],
      });
      if (!written.succeeded) throw new ApiError(409, 'config_edit_conflict', 'The OCSP settings or the proxy certificate changed concurrently; retry');
    }
    return ocspConfigView(result.settings, context.responderUrl);
  },
});
