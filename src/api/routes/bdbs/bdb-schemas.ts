// Request schemas of POST /v1/bdbs and PUT /v1/bdbs/{uid} (digest §7.1-7.2). Every field is optional in the
// schema so that a missing name or memory_size gets RS's own error codes (missing_db_name,
// missing_memory_size) from the domain rules; unknown fields are refused. Read-only fields that GET returns
// are accepted so a GET-edit-PUT round trip works, and ignored.
import { Type } from 'typebox';
import { AuthorizedSubject } from '../cluster/cluster-schemas.js';

const ClientCert = Type.Object({ client_cert: Type.String({ maxLength: 262_144 }) }, { additionalProperties: false });
const Endpoint = Type.Object(
  {
    addr: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 })),
    addr_type: Type.Optional(Type.String({ maxLength: 16 })),
    dns_name: Type.Optional(Type.String({ maxLength: 255 })),
    port: Type.Optional(Type.Integer()),
    proxy_policy: Type.Optional(Type.String({ maxLength: 32 })),
    uid: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

const fields = {
  name: Type.Optional(Type.String({ maxLength: 255 })),
  type: Type.Optional(Type.String({ maxLength: 16 })),
  memory_size: Type.Optional(Type.Integer({ minimum: 0 })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  eviction_policy: Type.Optional(Type.String({ maxLength: 32 })),
  tls_mode: Type.Optional(Type.String({ maxLength: 16 })),
  ssl: Type.Optional(Type.Boolean()),
  enforce_client_authentication: Type.Optional(Type.String({ maxLength: 16 })),
  authentication_ssl_client_certs: Type.Optional(Type.Array(ClientCert, { maxItems: 256 })),
  authentication_ssl_crdt_certs: Type.Optional(Type.Array(ClientCert, { maxItems: 256 })),
  client_cert_subject_validation_type: Type.Optional(Type.String({ maxLength: 16 })),
  authorized_subjects: Type.Optional(Type.Array(AuthorizedSubject, { maxItems: 1000 })),
  mtls_allow_outdated_certs: Type.Optional(Type.Boolean()),
  mtls_allow_weak_hashing: Type.Optional(Type.Boolean()),
  roles_permissions: Type.Optional(
    Type.Array(
      Type.Object(
        { role_uid: Type.Integer({ minimum: 1 }), redis_acl_uid: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  ),
  default_user: Type.Optional(Type.Boolean()),
  authentication_redis_pass: Type.Optional(Type.String({ maxLength: 1024 })),
  shards_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 512 })),
  replication: Type.Optional(Type.Boolean()),
  sharding: Type.Optional(Type.Boolean()),
  // Read-only on the wire; accepted and ignored.
  status: Type.Optional(Type.String({ maxLength: 32 })),
  created_time: Type.Optional(Type.String({ maxLength: 32 })),
  last_changed_time: Type.Optional(Type.String({ maxLength: 32 })),
  endpoints: Type.Optional(Type.Array(Endpoint, { maxItems: 16 })),
  shard_list: Type.Optional(Type.Array(Type.Integer(), { maxItems: 512 })),
  authorized_names: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 1000 })),
  data_persistence: Type.Optional(Type.String({ maxLength: 16 })),
  proxy_policy: Type.Optional(Type.String({ maxLength: 32 })),
  redis_version: Type.Optional(Type.String({ maxLength: 16 })),
  version: Type.Optional(Type.String({ maxLength: 16 })),
};

export const NewBdbBody = Type.Object({ uid: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999 })), ...fields }, { additionalProperties: false });
export const BdbUpdateBody = Type.Object({ uid: Type.Optional(Type.Integer()), ...fields }, { additionalProperties: false });
