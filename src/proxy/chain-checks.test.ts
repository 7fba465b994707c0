import { beforeAll, describe, expect, it } from 'vitest';
import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import { buildTrustAnchors } from '../domain/client-certificate.js';
import type { EndpointClientAuth } from '../domain/database-endpoint.js';
import { ChainChecks } from './chain-checks.js';
import { createCa, issueCertificate, type TestCertificate } from '../../test/helpers/pki.js';

let root: TestCertificate;
let alice: TestCertificate;
let mallory: TestCertificate;
let stranger: TestCertificate;

beforeAll(async () => {
  root = await createCa({ cn: 'Checks Root' });
  alice = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
  mallory = await issueCertificate(root, { subject: 'CN=mallory,O=Acme', eku: ['clientAuth'] });
  stranger = await issueCertificate(await createCa({ cn: 'Other Root' }), { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
});

function checksFor(authorized: EndpointClientAuth['authorizedSubjects']): ChainChecks {
  const auth: EndpointClientAuth = { ca: [root.certificate], uploadedFingerprints: [], validationType: 'full_subject', authorizedSubjects: authorized, allowOutdated: false };
  return new ChainChecks(auth, buildTrustAnchors([root.x509]));
}

/** A certificates() callback that counts its calls. */
function counted(chain: X509Certificate[]): { parse: () => X509Certificate[]; calls: () => number } {
  let calls = 0;
  return {
    parse: () => {
      calls += 1;
      return chain;
    },
    calls: () => calls,
  };
}

describe('ChainChecks', () => {
  it('checks a chain once and remembers the result for the same key', () => {
    const checks = checksFor([{ CN: 'alice', O: 'Acme' }]);
    const chain = counted([alice.x509]);
    const first = checks.check('alice', chain.parse);
    expect(first.chain.ok).toBe(true);
    expect(first.authorized).toBe(true);
    expect(first.subjectLine).toBe('CN=alice,O=Acme');
    expect(checks.check('alice', chain.parse)).toBe(first);
    expect(chain.calls()).toBe(1);
  });

  it('refuses an unauthorized subject and an untrusted chain (whose subject it never reads)', () => {
    const checks = checksFor([{ CN: 'alice', O: 'Acme' }]);
    const refused = checks.check('mallory', () => [mallory.x509]);
    expect(refused.chain.ok).toBe(true);
    expect(refused.authorized).toBe(false);
    expect(refused.subject).toBe('CN=mallory,O=Acme');
    const untrusted = checks.check('stranger', () => [stranger.x509]);
    expect(untrusted.chain.ok).toBe(false);
    expect(untrusted).toMatchObject({ authorized: false, subjectLine: '' });
  });

  it('keeps at most 1024 chains, the oldest going first', () => {
    const checks = checksFor([{ CN: 'alice', O: 'Acme' }]);
    const first = counted([alice.x509]);
    checks.check('key-0', first.parse);
    for (let i = 1; i <= 1024; i++) checks.check(`key-${i}`, () => [alice.x509]);
    checks.check('key-0', first.parse);
    expect(first.calls()).toBe(2);
  });
});
