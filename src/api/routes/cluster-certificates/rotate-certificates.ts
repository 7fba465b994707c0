// POST /v1/cluster/certificates/rotate (digest §2.7; permission update_cluster as in the OpenAPI file): regenerates
// the internal certificates (ccs_internode_encryption, data_internode_encryption) from the internal CA on every
// node, with the all-nodes contract of a PUT of certificates: 200 once every member applied it, else 409
// nodes_not_updated (digest §10.4: the markdown's "400 not all nodes updated" is the OpenAPI's 409 here, as for
// PUT). Optional body {"name": ...}: one internode certificate, or "internal_ca" (certplane: renews the internal
// CA with an overlap, README "Internal certificate rotation"). A name that is not internal, or an internode
// certificate an operator uploaded (customer-provided), is 403 unsupported_certificate_rotation; nothing changes.
import { Type } from 'typebox';
import { defineRoute } from '../../route.js';
import { MAX_CA_OVERLAP_SECONDS } from '../../../domain/internal-rotation.js';
import * as rotation from '../../services/internal-rotation.js';

export const RotateBody = Type.Union([
  Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      /** certplane: how long the previous internal CA stays trusted (name "internal_ca" only; default one day). */
      overlap_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CA_OVERLAP_SECONDS })),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const rotateCertificates = defineRoute({
  method: 'POST',
  url: '/v1/cluster/certificates/rotate',
  permission: 'update_cluster',
  errors: ['unsupported_certificate_rotation', 'config_edit_conflict', 'nodes_not_updated'],
  schema: { body: RotateBody },
  handler: async ({ deps, caller, body, request }) =>
    rotation.rotateInternalCertificates(
      deps,
      caller,
      { ...(body?.name === undefined ? {} : { name: body.name }), ...(body?.overlap_seconds === undefined ? {} : { overlapSeconds: body.overlap_seconds }) },
      request.log,
    ),
});
