import { describe, expect, it } from 'vitest';
import { mergeCipherFields } from './cipher-settings.js';

describe('mergeCipherFields', () => {
  it('returns only the four cipher fields, defaults for a document without them, the body’s valid changes', () => {
    const stored = { min_control_TLS_version: '1.2', name: 'c' } as unknown as Parameters<typeof mergeCipherFields>[0];
    expect(mergeCipherFields(stored, {})).toEqual({
      control_cipher_suites: 'ECDHE+AESGCM:ECDHE+CHACHA20',
      control_cipher_suites_tls_1_3: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
      data_cipher_list: 'ECDHE+AESGCM:ECDHE+CHACHA20',
      data_cipher_suites_tls_1_3: [],
      pq_key_exchange: true,
    });
    expect(mergeCipherFields({ pq_key_exchange: false }, {}).pq_key_exchange).toBe(false);
    expect(mergeCipherFields({ pq_key_exchange: true }, { pq_key_exchange: false }).pq_key_exchange).toBe(false);
    expect(mergeCipherFields(stored, { data_cipher_list: 'DEFAULT:!3DES', data_cipher_suites_tls_1_3: 'TLS_AES_128_GCM_SHA256' })).toMatchObject({
      data_cipher_list: 'DEFAULT:!3DES',
      data_cipher_suites_tls_1_3: ['TLS_AES_128_GCM_SHA256'],
    });
  });

  it('refuses what OpenSSL cannot use and a changed read-only TLS 1.3 list', () => {
    expect(() => mergeCipherFields({}, { control_cipher_suites: 'AES128-SHA' })).toThrow(/no TLS 1.2 cipher suite with forward secrecy/);
    expect(() => mergeCipherFields({}, { control_cipher_suites: 'NOPE' })).toThrow(/OpenSSL says/);
    expect(() => mergeCipherFields({}, { control_cipher_suites_tls_1_3: 'TLS_AES_128_GCM_SHA256' })).toThrow(/read-only/);
  });
});
