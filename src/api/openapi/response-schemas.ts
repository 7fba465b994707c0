// The success bodies GET /v1/openapi.json states where the shape is cheap to say (fields named as in the
// reference responses, /work/shared/fixtures/rs-responses); every other route answers "a JSON object".
// Open schemas (additional fields allowed): they describe what a client can rely on, not everything sent.

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
});
const listOf = (item: string): Schema => ({ type: 'array', items: { $ref: `#/components/schemas/${item}` } });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** Named schemas, under components.schemas. */
export const RESPONSE_COMPONENTS: Record<string, Schema> = {
  Bootstrap: object(
    {
      bootstrap_status: object({ state: { type: 'string', enum: ['completed'] }, start_time: str, end_time: str }, ['state']),
      local_node_info: object({ uid: str, available_addresses: { type: 'array', items: object({ address: str, format: str, if_name: str, private: bool }) } }),
    },
    ['bootstrap_status'],
  ),
  User: object(
    {
      uid: int,
      name: str,
      email: str,
      role: str,
      role_uids: { type: 'array', items: int },
      auth_method: { type: 'string', enum: ['regular', 'certificate'] },
      certificate_subject_line: str,
      status: str,
      password_issue_date: str,
      email_alerts: bool,
    },
    ['uid', 'email', 'role', 'auth_method'],
  ),
  OcspSettings: object(
    { ocsp_functionality: bool, query_frequency: int, recovery_frequency: int, recovery_max_tries: int, responder_url: str, response_timeout: int },
    ['ocsp_functionality', 'query_frequency', 'recovery_frequency', 'recovery_max_tries', 'responder_url', 'response_timeout'],
  ),
  OcspStatus: object(
    {
      cert_status: { type: 'string', enum: ['GOOD', 'REVOKED', 'UNKNOWN'] },
      responder_url: str,
      produced_at: str,
      this_update: str,
      next_update: str,
      revocation_time: str,
      last_query_time: str,
      last_query_error: str,
      consecutive_failures: int,
    },
    ['cert_status'],
  ),
  Certificates: {
    type: 'object',
    description: '`<name>_cert` (PEM) for every installed certificate; `<name>_key` only for callers holding update_cluster',
    patternProperties: { '^[a-z_]+_(cert|key)$': str },
  },
  Node: object(
    {
      uid: int,
      addr: str,
      status: { type: 'string', enum: ['active', 'down'] },
      software_version: str,
      certplane_version: str,
      node_name: str,
      certificates_revision: int,
      certificates_applied_at: str,
      certificates_error: { type: ['string', 'null'] },
      is_leader: bool,
    },
    ['uid', 'addr', 'status'],
  ),
  AccessToken: object({ access_token: str }, ['access_token']),
};

/** The success body of a route, by `METHOD url` (Fastify's form of the url). */
export const RESPONSE_SCHEMAS: Record<string, Schema> = {
  'GET /v1/bootstrap': ref('Bootstrap'),
  'GET /v1/cluster/certificates': ref('Certificates'),
  'GET /v1/users': listOf('User'),
  'GET /v1/users/:uid': ref('User'),
  'POST /v1/users': ref('User'),
  'PUT /v1/users/:uid': ref('User'),
  'POST /v1/users/authorize': ref('AccessToken'),
  'POST /v1/users/refresh_jwt': ref('AccessToken'),
  'GET /v1/ocsp': ref('OcspSettings'),
  'PUT /v1/ocsp': ref('OcspSettings'),
  'GET /v1/ocsp/status': ref('OcspStatus'),
  'POST /v1/ocsp/test': ref('OcspStatus'),
  'GET /v1/nodes': listOf('Node'),
  'GET /v1/nodes/:uid': ref('Node'),
  'GET /v1/roles': { type: 'array', items: { type: 'object' } },
  'GET /v1/redis_acls': { type: 'array', items: { type: 'object' } },
  'GET /v1/bdbs': { type: 'array', items: { type: 'object' } },
  'GET /v1/logs': { type: 'array', items: object({ time: str, type: str, severity: str }, ['time', 'type']) },
  'GET /v1/openapi.json': { type: 'object', description: 'This OpenAPI 3.1 document', required: ['openapi', 'paths'] },
};

/** A route whose body is not stated here: a JSON object (see the README and the RS API reference for its fields). */
export const GENERIC_RESPONSE: Schema = { type: 'object' };
