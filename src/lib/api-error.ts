// The one error type the REST API answers with, and the registry of every error_code it can send with its HTTP
// status: a code has one status, callers never pick one. The README's error table is generated from ERROR_CODES
// (npm run docs:errors) and kept in step by test (src/lib/api-error.test.ts).

export interface ErrorCodeEntry {
  /** The HTTP status every response with this error_code has. */
  status: number;
  /** What the code means (the README's table; the default description). */
  text: string;
}

export const ERROR_CODES = {
  invalid_schema: { status: 400, text: 'The request body or parameters do not match the schema' },
  unauthenticated: { status: 401, text: 'No valid credentials were presented' },
  password_expired: { status: 401, text: 'The password has expired and must be changed' },
  user_locked: { status: 401, text: 'The account is locked after too many failed logins' },
  ambiguous_credentials: { status: 400, text: 'Both a client certificate and a password were sent' },
  invalid_token: { status: 401, text: 'The JSON Web Token is malformed, badly signed, expired, or its user was deleted or changed password' },
  certificate_not_trusted: { status: 401, text: 'The client certificate does not chain to a trusted CA' },
  certificate_not_authorized: { status: 401, text: 'The client certificate subject fails the subject validation' },
  unknown_certificate_user: { status: 401, text: 'No certificate user matches the client certificate subject' },
  client_certificate_expired: { status: 401, text: 'The client certificate (or a CA in its chain) has expired' },
  client_certificate_not_yet_valid: { status: 401, text: 'The client certificate (or a CA in its chain) is not valid yet' },
  unauthorized_action: { status: 403, text: 'Only an admin may change another user’s password' },
  new_password_same_as_current: { status: 400, text: 'The new password equals the current one' },
  insufficient_permissions: { status: 403, text: 'The caller lacks the permission the endpoint requires' },
  not_found: { status: 404, text: 'The resource does not exist' },
  unknown_certificate: { status: 403, text: 'The certificate name is not one certplane knows' },
  required_certificate: { status: 403, text: 'The certificate is required and cannot be deleted' },
  certificate_in_use: { status: 403, text: 'The certificate is in use by an enabled feature' },
  invalid_certificate: { status: 400, text: 'The certificate, chain or key is invalid' },
  invalid_key: { status: 400, text: 'The private key cannot be used (unparsable, encrypted, or not a private key)' },
  certificate_expired: { status: 406, text: 'The certificate has expired' },
  certificate_not_yet_valid: { status: 400, text: 'The certificate is not valid yet' },
  key_mismatch: { status: 400, text: 'The private key does not match the certificate' },
  weak_key: { status: 400, text: 'The key is weaker than RSA 2048 / P-256' },
  weak_signature: { status: 400, text: 'The certificate is signed with MD5 or SHA-1' },
  missing_key: { status: 400, text: 'The certificate needs a private key' },
  unexpected_key: { status: 400, text: 'This certificate name takes no private key' },
  not_a_ca: { status: 400, text: 'The certificate must be a CA certificate' },
  duplicate_certificate_name: { status: 400, text: 'The same certificate name appears twice in one request' },
  missing_trusted_ca: { status: 400, text: 'Certificate authentication needs the mtls_trusted_ca certificate installed first' },
  config_edit_conflict: { status: 409, text: 'The configuration was changed concurrently' },
  nodes_not_updated: { status: 409, text: 'Not all nodes have applied the change' },
  node_apply_failed: { status: 500, text: 'A node tried to apply the change and failed (for example it could not remove the files); it converges later' },
  node_alive: { status: 409, text: 'The node is alive (its lease is held): only a node that is down can be removed' },
  email_already_exists: { status: 409, text: 'A user with this email already exists' },
  name_already_exists: { status: 409, text: 'An entity with this name already exists' },
  subject_line_already_exists: { status: 409, text: 'A user with this certificate subject line already exists' },
  invalid_subject_line: { status: 400, text: 'The certificate subject line is not a valid RFC 2253 subject (CN first; known attribute types; no control characters)' },
  password_not_complex: { status: 400, text: 'The password does not satisfy the password policy' },
  missing_password: { status: 400, text: 'Regular users need a password' },
  change_last_admin_role_not_allowed: { status: 406, text: 'At least one admin user must remain' },
  no_login_method: { status: 406, text: 'The change would leave no way to log in to the API (Basic authentication and certificate authentication both off)' },
  unknown_role: { status: 400, text: 'A role uid does not exist' },
  missing_db_name: { status: 400, text: 'A database needs a name' },
  missing_memory_size: { status: 400, text: 'A database needs a memory_size' },
  uid_exists: { status: 409, text: 'An entity with this uid already exists' },
  port_unavailable: { status: 406, text: 'The database port is outside 10000-19999, reserved, or in use' },
  duplicated_certs: { status: 400, text: 'The same certificate is listed more than once' },
  invalid_sharding: { status: 406, text: 'The sharding settings are not supported' },
  invalid_replication: { status: 406, text: 'The replication settings are not supported' },
  unknown_redis_acl: { status: 400, text: 'A Redis ACL uid does not exist' },
  invalid_param: { status: 406, text: 'A parameter has an invalid value' },
  missing_field: { status: 400, text: 'A required field is missing' },
  busy: { status: 409, text: 'The database is not active (being created, changed or deleted, or another action runs on it)' },
  action_failed: { status: 500, text: 'The node running the database could not complete the action' },
  no_responder_url: { status: 400, text: 'The proxy certificate has no OCSP responder URL (AIA) to enable or test OCSP with' },
  invalid_ocsp_response: { status: 500, text: 'The OCSP responder cannot be reached or its response fails verification' },
  ocsp_unsupported_by_capability: { status: 406, text: 'Not all nodes support the OCSP capability' },
  payload_too_large: { status: 413, text: 'The request body is larger than the limit' },
  unsupported_media_type: { status: 415, text: 'The request body must be application/json' },
  csrf_failed: { status: 403, text: 'A state-changing request on the Cluster Manager port lacks the session’s X-CSRF-Token, or comes from another origin' },
  certificate_login_disabled: { status: 401, text: 'A client certificate was presented but certificate login (mtls_certificate_authentication) is off' },
  too_many_sessions: { status: 503, text: 'The Cluster Manager UI has reached its limit of open sessions; try again after idle sessions expire' },
  store_unavailable: { status: 503, text: 'The cluster store cannot be reached' },
  internal_error: { status: 500, text: 'An unexpected error occurred' },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error_code: ErrorCode;
  description: string;
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  /** The HTTP status, from the registry. */
  readonly statusCode: number;
  constructor(
    readonly errorCode: ErrorCode,
    description?: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(description ?? ERROR_CODES[errorCode].text, options);
    this.statusCode = ERROR_CODES[errorCode].status;
  }

  toBody(): ErrorBody & Record<string, unknown> {
    return { error_code: this.errorCode, description: this.message, message: this.message, ...this.extra };
  }
}
