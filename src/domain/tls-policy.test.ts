import { describe, expect, it } from 'vitest';
import { cipherListShapeProblem, controlTlsPolicy, dataTlsPolicy, parseTls13Suites, TLS_1_2_FLOOR } from './tls-policy.js';

describe('tls policy', () => {
  it('builds control and data cipher strings with TLS 1.3 suites first and the ECDHE/AEAD floor last', () => {
    const control = controlTlsPolicy({ min_control_TLS_version: '1.3', min_data_TLS_version: '1.2', control_cipher_suites: 'ECDHE-RSA-AES256-GCM-SHA384' }, true);
    expect(control.minVersion).toBe('TLSv1.3');
    expect(control.ciphers).toBe(`TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES256-GCM-SHA384:${TLS_1_2_FLOOR}`);
    expect(dataTlsPolicy(undefined, true)).toEqual({ minVersion: 'TLSv1.2', ecdhCurve: 'X25519MLKEM768:X25519:P-256', ciphers: `TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE+AESGCM:ECDHE+CHACHA20:${TLS_1_2_FLOOR}` });
    expect(dataTlsPolicy({ data_cipher_suites_tls_1_3: ['TLS_AES_256_GCM_SHA384'] }, true).ciphers.startsWith('TLS_AES_256_GCM_SHA384:ECDHE+AESGCM')).toBe(true);
  });

  it('offers the hybrid post-quantum group first unless pq_key_exchange is off or the runtime lacks it', () => {
    const cluster = { min_control_TLS_version: '1.2', min_data_TLS_version: '1.2' } as const;
    expect(controlTlsPolicy(cluster, true).ecdhCurve).toBe('X25519MLKEM768:X25519:P-256');
    expect(controlTlsPolicy({ ...cluster, pq_key_exchange: true }, true).ecdhCurve).toBe('X25519MLKEM768:X25519:P-256');
    expect(controlTlsPolicy({ ...cluster, pq_key_exchange: false }, true).ecdhCurve).toBe('X25519:P-256');
    expect(controlTlsPolicy(cluster, false).ecdhCurve).toBe('X25519:P-256');
    expect(dataTlsPolicy({ pq_key_exchange: false }, true).ecdhCurve).toBe('X25519:P-256');
    expect(dataTlsPolicy(undefined, false).ecdhCurve).toBe('X25519:P-256');
  });

  it('checks the shape of a TLS 1.2 list and the names of TLS 1.3 suites', () => {
    expect(cipherListShapeProblem('x', 'DEFAULT:!3DES')).toBeUndefined();
    expect(cipherListShapeProblem('x', 'HIGH:@SECLEVEL=0')).toContain('@SECLEVEL');
    expect(cipherListShapeProblem('x', 'a b')).toContain('not an OpenSSL cipher list');
    expect(cipherListShapeProblem('x', 'TLS_AES_128_GCM_SHA256')).toContain('TLS 1.3');
    expect(parseTls13Suites('TLS_AES_256_GCM_SHA384:TLS_AES_256_GCM_SHA384')).toEqual({ ok: true, value: ['TLS_AES_256_GCM_SHA384'] });
    expect(parseTls13Suites(['TLS_AES_128_CCM_8_SHA256']).ok).toBe(false);
  });
});
