// Validation of the cluster's cipher fields on PUT /v1/cluster (README "TLS policy"): a TLS ≤1.2 list must be
// one OpenSSL parses and that leaves at least one suite with forward secrecy and AEAD once certplane's floor is
// applied (OpenSSL is asked: tls.createSecureContext throws "no cipher match"); TLS 1.3 lists are names from a
// fixed set; control_cipher_suites_tls_1_3 is read-only as in Redis Enterprise.
import tls from 'node:tls';
import { ApiError } from '../../../lib/api-error.js';
import { cipherListShapeProblem, clusterCipherDefaults, CONTROL_TLS_1_3_SUITES, listenerCiphers, parseTls13Suites } from '../../../domain/tls-policy.js';

export interface CipherFieldsUpdate {
  control_cipher_suites?: string | undefined;
  control_cipher_suites_tls_1_3?: string | undefined;
  data_cipher_list?: string | undefined;
  data_cipher_suites_tls_1_3?: string | string[] | undefined;
  pq_key_exchange?: boolean | undefined;
}

export interface CipherFields {
  control_cipher_suites: string;
  control_cipher_suites_tls_1_3: string;
  data_cipher_list: string;
  data_cipher_suites_tls_1_3: string[];
  /** Offer the hybrid post-quantum group X25519MLKEM768 first (README "Post-quantum key exchange"). */
  pq_key_exchange: boolean;
}

/** The stored fields (defaults for documents written before they existed) with the body's changes, validated. */
export function mergeCipherFields(stored: Partial<CipherFields>, body: CipherFieldsUpdate): CipherFields {
  const current: CipherFields = { ...clusterCipherDefaults() };
  for (const field of Object.keys(current) as Array<keyof CipherFields>) {
    if (stored[field] !== undefined) Object.assign(current, { [field]: stored[field] });
  }
  if (body.control_cipher_suites_tls_1_3 !== undefined && body.control_cipher_suites_tls_1_3 !== current.control_cipher_suites_tls_1_3) {
    throw new ApiError('invalid_schema', `'control_cipher_suites_tls_1_3' is read-only (${CONTROL_TLS_1_3_SUITES})`);
  }
  const next: CipherFields = { ...current };
  for (const field of ['control_cipher_suites', 'data_cipher_list'] as const) {
    const value = body[field];
    if (value === undefined || value === current[field]) continue;
    checkTls12List(field, value);
    next[field] = value;
  }
  if (body.data_cipher_suites_tls_1_3 !== undefined) {
    const parsed = parseTls13Suites(body.data_cipher_suites_tls_1_3);
    if (!parsed.ok) throw new ApiError('invalid_param', parsed.reason);
    next.data_cipher_suites_tls_1_3 = parsed.value;
  }
  if (body.pq_key_exchange !== undefined) next.pq_key_exchange = body.pq_key_exchange;
  return next;
}

function checkTls12List(field: string, value: string): void {
  const problem = cipherListShapeProblem(field, value);
  if (problem !== undefined) throw new ApiError('invalid_param', problem);
  try {
    tls.createSecureContext({ ciphers: listenerCiphers(value, CONTROL_TLS_1_3_SUITES) });
  } catch (error) {
    throw new ApiError(
      'invalid_param',
      `'${field}' selects no TLS 1.2 cipher suite with forward secrecy (ECDHE) and AEAD (GCM, CCM, ChaCha20-Poly1305): OpenSSL says ${(error as Error).message}`,
    );
  }
}
