// The one error type the REST API answers with, and the registry of every error_code it can send.
// The README's error table is kept in step with ERROR_CODES by test (src/lib/api-error.test.ts).

export const ERROR_CODES = {
  invalid_schema: 'The request body or parameters do not match the schema',
  unauthenticated: 'No valid credentials were presented',
  password_expired: 'The password has expired and must be changed',
  user_locked: 'The account is locked after too many failed logins',
  ambiguous_credentials: 'Both a client certificate and a password were sent',
  invalid_token: 'The JSON Web Token is malformed, badly signed, expired, or its user was deleted or changed password',
  certificate_not_trusted: 'The client certificate does not chain to a trusted CA',
  certificate_not_authorized: 'The client certificate subject fails the subject validation',
  unknown_certificate_user: 'No certificate user matches the client certificate subject',
  unauthorized_action: 'Only an admin may change another user’s password',
  new_password_same_as_current: 'The new password equals the current one',
  insufficient_permissions: 'The caller lacks the permission the endpoint requires',
  not_found: 'The resource does not exist',
  unknown_certificate: 'The certificate name is not one certplane knows',
  required_certificate: 'The certificate is required and cannot be deleted',
  certificate_in_use: 'The certificate is in use by an enabled feature',
  invalid_certificate: 'The certificate, chain or key is invalid',
  invalid_key: 'The private key cannot be used (unparsable, encrypted, or not a private key)',
  certificate_expired: 'The certificate has expired',
  certificate_not_yet_valid: 'The certificate is not valid yet',
  key_mismatch: 'The private key does not match the certificate',
  weak_key: 'The key is weaker than RSA 2048 / P-256',
  weak_signature: 'The certificate is signed with MD5 or SHA-1',
  missing_key: 'The certificate needs a private key',
  unexpected_key: 'This certificate name takes no private key',
  not_a_ca: 'The certificate must be a CA certificate',
  duplicate_certificate_name: 'The same certificate name appears twice in one request',
  missing_trusted_ca: 'Certificate authentication needs the mtls_trusted_ca certificate installed first',
  config_edit_conflict: 'The configuration was changed concurrently',
  nodes_not_updated: 'Not all nodes have applied the change',
  node_alive: 'The node is alive (its lease is held): only a node that is down can be removed',
  email_already_exists: 'A user with this email already exists',
  name_already_exists: 'An entity with this name already exists',
  subject_line_already_exists: 'A user with this certificate subject line already exists',
  invalid_subject_line: 'The certificate subject line is not a valid RFC 2253 subject (CN first; known attribute types; no control characters)',
  password_not_complex: 'The password does not satisfy the password policy',
  missing_password: 'Regular users need a password',
  change_last_admin_role_not_allowed: 'At least one admin user must remain',
  no_login_method: 'The change would leave no way to log in to the API (Basic authentication and certificate authentication both off)',
  unknown_role: 'A role uid does not exist',
  missing_db_name: 'A database needs a name',
  missing_memory_size: 'A database needs a memory_size',
  uid_exists: 'An entity with this uid already exists',
  port_unavailable: 'The database port is outside 10000-19999, reserved, or in use',
  duplicated_certs: 'The same certificate is listed more than once',
  invalid_sharding: 'The sharding settings are not supported',
  invalid_replication: 'The replication settings are not supported',
  unknown_redis_acl: 'A Redis ACL uid does not exist',
  invalid_param: 'A parameter has an invalid value',
  missing_field: 'A required field is missing',
  busy: 'The database is not active (being created, changed or deleted, or another action runs on it)',
  action_failed: 'The node running the database could not complete the action',
  no_responder_url: 'The proxy certificate has no OCSP responder URL (AIA) to enable or test OCSP with',
  invalid_ocsp_response: 'The OCSP responder cannot be reached or its response fails verification',
  ocsp_unsupported_by_capability: 'Not all nodes support the OCSP capability',
  payload_too_large: 'The request body is larger than the limit',
  unsupported_media_type: 'The request body must be application/json',
  store_unavailable: 'The cluster store cannot be reached',
  internal_error: 'An unexpected error occurred',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error_code: ErrorCode;
  description: string;
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly errorCode: ErrorCode,
    description?: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(description ?? ERROR_CODES[errorCode], options);
  }

  toBody(): ErrorBody & Record<string, unknown> {
    return { error_code: this.errorCode, description: this.message, message: this.message, ...this.extra };
  }
}
