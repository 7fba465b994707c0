import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueCertificate, type TestCertificate } from '../../test/helpers/pki.js';
import {
  DEFAULT_JOB_SCHEDULER,
  internalTrustBundle,
  isDueForRotation,
  isIssuedByInternalCa,
  isOverlapOver,
  jobSchedulerOf,
  mergeJobScheduler,
  planRotation,
  resolveRotateTarget,
  validateJobScheduler,
} from './internal-rotation.js';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');

let internalCa: TestCertificate;
let nextCa: TestCertificate;
let customerCa: TestCertificate;
let internal80: TestCertificate;
let internal20: TestCertificate;
let customer: TestCertificate;

beforeAll(async () => {
  [internalCa, nextCa, customerCa] = await Promise.all([createCa({ cn: 'certplane internal CA' }), createCa({ cn: 'certplane internal CA' }), createCa({ cn: 'Customer CA' })]);
  const at = (days: number) => ({ notBefore: new Date(NOW.getTime() - DAY), notAfter: new Date(NOW.getTime() + days * DAY), freshKey: true });
  [internal80, internal20, customer] = await Promise.all([issueCertificate(internalCa, at(80)), issueCertificate(internalCa, at(20)), issueCertificate(customerCa, at(20))]);
});

describe('resolveRotateTarget', () => {
  it('rotates every internode certificate without a name, one when named, and renews the CA for internal_ca', () => {
    expect(resolveRotateTarget(undefined)).toEqual({ ok: true, internode: ['ccs_internode_encryption', 'data_internode_encryption'], renewCa: false, explicit: false });
    expect(resolveRotateTarget('data_internode_encryption')).toEqual({ ok: true, internode: ['data_internode_encryption'], renewCa: false, explicit: true });
    expect(resolveRotateTarget('internal_ca')).toMatchObject({ ok: true, renewCa: true, explicit: true });
  });

  it.each(['api', 'proxy', 'mtls_trusted_ca', 'internal_ca_trust', 'nonsense', ''])('refuses %j as unsupported', (name) => {
    expect(resolveRotateTarget(name)).toMatchObject({ ok: false, error_code: 'unsupported_certificate_rotation' });
  });
});

describe('which certificates a rotation regenerates', () => {
  it('knows an internal certificate by its issuer: the internal CA (or the previous one during an overlap)', () => {
    const cas = [new X509Certificate(internalCa.certificate)];
    expect(isIssuedByInternalCa(internal80.chain, cas)).toBe(true);
    expect(isIssuedByInternalCa(customer.chain, cas)).toBe(false);
    // Same subject name, different key: not the issuer.
    expect(isIssuedByInternalCa(internal80.chain, [new X509Certificate(nextCa.certificate)])).toBe(false);
    expect(isIssuedByInternalCa(internal80.chain, [new X509Certificate(nextCa.certificate), ...cas])).toBe(true);
    expect(isIssuedByInternalCa('garbage', cas)).toBe(false);
  });

  it('is due within the threshold, and at or after expiry', () => {
    const notAfter = new Date(NOW.getTime() + 60 * DAY);
    expect(isDueForRotation(notAfter, NOW, 60)).toBe(true);
    expect(isDueForRotation(notAfter, NOW, 59)).toBe(false);
    expect(isDueForRotation(new Date(NOW.getTime() - DAY), NOW, 1)).toBe(true);
  });

  it('never plans a customer-provided certificate; with a threshold only the due ones; a missing record is issued', () => {
    const cas = [new X509Certificate(internalCa.certificate)];
    expect(
      planRotation({
        asked: ['ccs_internode_encryption', 'data_internode_encryption'],
        records: [
          { name: 'ccs_internode_encryption', certificate: internal80.chain },
          { name: 'data_internode_encryption', certificate: customer.chain },
        ],
        internalCas: cas,
        now: NOW,
      }),
    ).toEqual({ rotate: ['ccs_internode_encryption'], skipped: [{ name: 'data_internode_encryption', reason: 'customer_provided' }] });
    expect(
      planRotation({
        asked: ['ccs_internode_encryption', 'data_internode_encryption'],
        records: [
          { name: 'ccs_internode_encryption', certificate: internal80.chain },
          { name: 'data_internode_encryption', certificate: internal20.chain },
        ],
        internalCas: cas,
        now: NOW,
        dueWithinDays: 60,
      }),
    ).toEqual({ rotate: ['data_internode_encryption'], skipped: [{ name: 'ccs_internode_encryption', reason: 'not_due' }] });
    expect(planRotation({ asked: ['ccs_internode_encryption'], records: [{ name: 'ccs_internode_encryption', certificate: undefined }], internalCas: cas, now: NOW, dueWithinDays: 1 })).toEqual({
      rotate: ['ccs_internode_encryption'],
      skipped: [],
    });
  });
});

describe('the internal CA overlap', () => {
  it('trusts the current CA, and during a renewal also the previous one', () => {
    const renewal = { previous_ca: internalCa.certificate, started_at: NOW.toISOString(), retire_after: new Date(NOW.getTime() + DAY).toISOString() };
    const single = internalTrustBundle(nextCa.chain, undefined);
    expect(single.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    const both = internalTrustBundle(nextCa.certificate, renewal);
    expect(both.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(both.startsWith(nextCa.certificate.trim().split('\n')[0]!)).toBe(true);
    expect(isOverlapOver(renewal, NOW)).toBe(false);
    expect(isOverlapOver(renewal, new Date(NOW.getTime() + DAY))).toBe(true);
  });
});

describe('the job scheduler object', () => {
  it('has RS defaults: hourly, enabled, 60 days', () => {
    expect(jobSchedulerOf(undefined).cert_rotation_job_settings).toEqual({ cron_expression: '0 * * * *', enabled: true, expiry_days_before_rotation: 60 });
    expect(validateJobScheduler(DEFAULT_JOB_SCHEDULER)).toEqual({ ok: true });
  });

  it('merges per job object', () => {
    const merged = mergeJobScheduler(DEFAULT_JOB_SCHEDULER, { cert_rotation_job_settings: { enabled: false }, rotate_ccs_job_settings: { rotate_max_num: 5 } });
    expect(merged.cert_rotation_job_settings).toEqual({ cron_expression: '0 * * * *', enabled: false, expiry_days_before_rotation: 60 });
    expect(merged.rotate_ccs_job_settings.rotate_max_num).toBe(5);
    expect(DEFAULT_JOB_SCHEDULER.cert_rotation_job_settings.enabled).toBe(true);
  });

  it.each([
    [{ cert_rotation_job_settings: { cron_expression: 'nope' } }, 'invalid_cron_expression'],
    [{ node_checks_job_settings: { cron_expression: '99 * * * *' } }, 'invalid_cron_expression'],
    [{ cert_rotation_job_settings: { expiry_days_before_rotation: 0 } }, 'invalid_schema'],
    [{ cert_rotation_job_settings: { expiry_days_before_rotation: 91 } }, 'invalid_schema'],
    [{ cert_rotation_job_settings: { expiry_days_before_rotation: 2.5 } }, 'invalid_schema'],
  ])('refuses %j', (patch, code) => {
    expect(validateJobScheduler(mergeJobScheduler(DEFAULT_JOB_SCHEDULER, patch))).toMatchObject({ ok: false, error_code: code });
  });

  it.each([1, 90])('accepts %i days', (days) => {
    expect(validateJobScheduler(mergeJobScheduler(DEFAULT_JOB_SCHEDULER, { cert_rotation_job_settings: { expiry_days_before_rotation: days } }))).toEqual({ ok: true });
  });
});
