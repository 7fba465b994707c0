// PUT /v1/ocsp (digest §3.1-3.2, seed 003): partial update merged into the stored settings, full object returned.
// Ranges are schema errors (400 invalid_schema); responder_url is read-only (accepted only unchanged, DESIGN.md);
// enabling without a responder URL in the proxy certificate is 400 no_responder_url. Nothing is written on any
// failure. The write is compare-and-swap on the settings and on the proxy certificate the URL was derived from.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { OCSP_RANGES } from '../../../domain/ocsp-settings.js';
import * as ocsp from '../../services/ocsp.js';

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
  errors: ['no_responder_url', 'ocsp_unsupported_by_capability', 'config_edit_conflict'],
  schema: { body: OcspUpdateBody },
  handler: async ({ deps, body }) => ocsp.putOcsp(deps, body),
});
