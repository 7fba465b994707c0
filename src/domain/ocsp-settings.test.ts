import { describe, expect, it } from 'vitest';
import { createCa, issueCertificate } from '../../test/helpers/pki.js';
import { applyOcspUpdate, OCSP_DEFAULTS, ocspConfigView, ocspResponderUrlOf, ocspSettingsOrDefaults } from './ocsp-settings.js';

describe('ocsp settings', () => {
  it('defaults to RS values and renders the fixture shape', () => {
    expect(ocspConfigView(ocspSettingsOrDefaults(undefined), '')).toEqual({
      ocsp_functionality: false,
      query_frequency: 3600,
      recovery_frequency: 60,
      recovery_max_tries: 5,
      responder_url: '',
      response_timeout: 1,
    });
  });

  it('merges a partial update', () => {
    const result = applyOcspUpdate(OCSP_DEFAULTS, { query_frequency: 3800, response_timeout: 2 }, 'http://ocsp.example/');
    expect(result).toEqual({ ok: true, settings: { ...OCSP_DEFAULTS, query_frequency: 3800, response_timeout: 2 } });
  });

  it.each([
    ['query_frequency', 59], ['query_frequency', 86_401], ['recovery_frequency', 59], ['recovery_frequency', 86_401],
    ['recovery_max_tries', 0], ['recovery_max_tries', 101], ['response_timeout', 0], ['response_timeout', 61], ['query_frequency', 60.5],
  ] as const)('rejects %s = %s as invalid_schema', (field, value) => {
    const result = applyOcspUpdate(OCSP_DEFAULTS, { [field]: value }, 'http://ocsp.example/');
    expect(result).toMatchObject({ ok: false, error_code: 'invalid_schema' });
  });

  it('accepts the range bounds', () => {
    const low = applyOcspUpdate(OCSP_DEFAULTS, { query_frequency: 60, recovery_frequency: 60, recovery_max_tries: 1, response_timeout: 1 }, '');
    const high = applyOcspUpdate(OCSP_DEFAULTS, { query_frequency: 86_400, recovery_frequency: 86_400, recovery_max_tries: 100, response_timeout: 60 }, '');
    expect(low.ok && high.ok).toBe(true);
  });

  it('treats responder_url as read-only: the derived value is accepted, another is invalid_schema', () => {
    expect(applyOcspUpdate(OCSP_DEFAULTS, { responder_url: 'http://ocsp.example/' }, 'http://ocsp.example/').ok).toBe(true);
    expect(applyOcspUpdate(OCSP_DEFAULTS, { responder_url: 'http://evil.example/' }, 'http://ocsp.example/')).toMatchObject({ ok: false, error_code: 'invalid_schema' });
    expect(applyOcspUpdate(OCSP_DEFAULTS, { responder_url: '' }, '').ok).toBe(true);
  });

  it('refuses to enable OCSP without a responder URL, but allows other changes', () => {
    expect(applyOcspUpdate(OCSP_DEFAULTS, { ocsp_functionality: true }, '')).toMatchObject({ ok: false, error_code: 'no_responder_url' });
    expect(applyOcspUpdate(OCSP_DEFAULTS, { ocsp_functionality: false, query_frequency: 120 }, '').ok).toBe(true);
  });

  it('derives responder_url from the AIA of the leaf of a chain', async () => {
    const ca = await createCa({ curve: 'P-256' });
    const withUrl = await issueCertificate(ca, { curve: 'P-256', ocspUrl: 'http://127.0.0.1:8888/ocsp' });
    const without = await issueCertificate(ca, { curve: 'P-256' });
    expect(ocspResponderUrlOf(withUrl.chain)).toBe('http://127.0.0.1:8888/ocsp');
    expect(ocspResponderUrlOf(without.chain)).toBe('');
    expect(ocspResponderUrlOf(undefined)).toBe('');
    expect(ocspResponderUrlOf('not pem')).toBe('');
  });
});
