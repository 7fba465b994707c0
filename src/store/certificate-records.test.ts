import { describe, expect, it } from 'vitest';
import {
  certificateRecordKey,
  certificateRecordUnchanged,
  isSameCertificateRecord,
  parseCertificateRecord,
  putCertificateRecordOp,
  serializeCertificateRecord,
} from './certificate-records.js';
import { keys } from './keys.js';

describe('certificate records', () => {
  it('round-trips a record with and without a key, never storing an absent key', () => {
    expect(parseCertificateRecord(serializeCertificateRecord({ certificate: 'C', key: 'K' }))).toEqual({ certificate: 'C', key: 'K' });
    expect(serializeCertificateRecord({ certificate: 'C' })).toBe('{"certificate":"C"}');
    expect(parseCertificateRecord('{"certificate":"C","extra":1}')).toEqual({ certificate: 'C' });
  });

  it('compares certificate and key; absent equals absent', () => {
    expect(isSameCertificateRecord(undefined, undefined)).toBe(true);
    expect(isSameCertificateRecord({ certificate: 'C' }, { certificate: 'C' })).toBe(true);
    expect(isSameCertificateRecord({ certificate: 'C', key: 'K' }, { certificate: 'C' })).toBe(false);
    expect(isSameCertificateRecord({ certificate: 'C' }, undefined)).toBe(false);
  });

  it('writes and guards under keys.certificate', () => {
    expect(certificateRecordKey('api')).toBe(keys.certificate('api'));
    expect(putCertificateRecordOp('api', { certificate: 'C' })).toEqual({ type: 'put', key: keys.certificate('api'), value: '{"certificate":"C"}' });
    expect(certificateRecordUnchanged('api', undefined)).toEqual({ key: keys.certificate('api'), target: 'version', op: '==', value: 0 });
    expect(certificateRecordUnchanged('api', { modRevision: 7 })).toEqual({ key: keys.certificate('api'), target: 'mod', op: '==', value: 7 });
  });
});
