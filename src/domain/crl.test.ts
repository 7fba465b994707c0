import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpensslCa, type IssuedCertificate } from '../../test/helpers/openssl-ca.js';
import { findCrlIssuer, normalizeSerial, parseCrl } from './crl.js';
import { buildTrustAnchors, verifyClientChain } from './client-certificate.js';
import { DEFAULT_CRL_SETTINGS, describeCrls, distributionPointsOf, nextFetchTime, revocationStateOf, validateUploadedCrls, withFetchedCrl, type CrlDocument } from './crl-document.js';
import { RevocationIndex } from './crl-revocation.js';

let dir: string;
let root: OpensslCa;
let intermediate: OpensslCa;
let impostor: OpensslCa;
let revoked: IssuedCertificate;
let good: IssuedCertificate;
let viaIntermediate: IssuedCertificate;
let intermediate2: OpensslCa;
let viaIntermediate2: IssuedCertificate;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-crl-unit-'));
  root = await OpensslCa.create({ cn: 'CRL Root', cdp: 'http://127.0.0.1:9/root.crl' }, dir);
  intermediate = await OpensslCa.create({ cn: 'CRL Intermediate', parent: root }, dir);
  impostor = await OpensslCa.create({ cn: 'CRL Root' }, dir); // same name, another key
  revoked = await root.issueClient('revoked-user', { cdp: 'https://crl.example/root.crl' });
  good = await root.issueClient('good-user');
  viaIntermediate = await intermediate.issueClient('inter-user');
  intermediate2 = await OpensslCa.create({ cn: 'CRL Intermediate 2', parent: root }, dir);
  viaIntermediate2 = await intermediate2.issueClient('inter2-user');
  await root.revoke(revoked.certificate);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const now = (): Date => new Date();

describe('parseCrl', () => {
  it('reads an openssl ca -gencrl CRL: dates, number, revoked serials (PEM and DER alike)', async () => {
    const pem = await root.crl();
    const parsed = parseCrl(pem);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.revokedSerials).toEqual([normalizeSerial(new X509Certificate(revoked.certificate).serialNumber)]);
    expect(parsed.value.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    expect(parsed.value.crlNumber).toMatch(/^\d+$/);
    const der = parseCrl(await root.crlDer());
    expect(der.ok && der.value.revokedSerials.length).toBe(1);
  });

  it('refuses what is not a CRL, a truncated CRL, a certificate and two CRLs in one item', async () => {
    const pem = await root.crl();
    expect(parseCrl('hello').ok).toBe(false);
    expect(parseCrl(pem.slice(0, pem.length / 2))).toMatchObject({ ok: false });
    const body = pem.replace(/-----(BEGIN|END) X509 CRL-----/g, '').replace(/\s+/g, '');
    const cut = `-----BEGIN X509 CRL-----\n${body.slice(0, body.length - 40)}\n-----END X509 CRL-----\n`;
    const truncated = parseCrl(cut);
    expect(truncated.ok).toBe(false);
    expect(!truncated.ok && truncated.error).toMatch(/not a valid CRL|not valid PEM/);
    expect(parseCrl(root.certificate)).toMatchObject({ ok: false });
    expect(parseCrl(pem + pem)).toMatchObject({ ok: false });
  });
});

describe('findCrlIssuer', () => {
  it('finds the anchor whose key signed the CRL; another key with the same name is crl_signature_invalid', async () => {
    const anchors = buildTrustAnchors([new X509Certificate(root.certificate)]);
    const crl = parseCrl(await root.crl());
    expect(crl.ok && findCrlIssuer(crl.value, anchors).ok).toBe(true);
    const forged = parseCrl(await impostor.crl());
    expect(forged.ok && findCrlIssuer(forged.value, anchors)).toMatchObject({ ok: false, error_code: 'crl_signature_invalid' });
    const other = parseCrl(await intermediate.crl());
    expect(other.ok && findCrlIssuer(other.value, anchors)).toMatchObject({ ok: false, error_code: 'crl_issuer_not_trusted' });
  });
});

describe('validateUploadedCrls', () => {
  it('lists every failing item and refuses two CRLs of one CA', async () => {
    const anchors = buildTrustAnchors([new X509Certificate(root.certificate)]);
    const a = await root.crl();
    const result = validateUploadedCrls([a, await root.crl(), 'junk', await impostor.crl()], anchors, now());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.index, e.error_code])).toEqual([
      [1, 'duplicate_crl_issuer'],
      [2, 'invalid_crl'],
      [3, 'crl_signature_invalid'],
    ]);
  });
});

describe('RevocationIndex', () => {
  async function documentWith(crlPems: string[], policy: 'accept' | 'refuse'): Promise<{ index: RevocationIndex; anchors: ReturnType<typeof buildTrustAnchors> }> {
    const anchors = buildTrustAnchors([root, intermediate, intermediate2].map((ca) => new X509Certificate(ca.certificate)));
    const valid = validateUploadedCrls(crlPems, anchors, now());
    if (!valid.ok) throw new Error(JSON.stringify(valid.errors));
    const doc: CrlDocument = { settings: { ...DEFAULT_CRL_SETTINGS, enabled: true, missing_or_expired: policy }, crls: valid.crls.map((c) => c.stored) };
    return { index: new RevocationIndex(revocationStateOf(doc)!), anchors };
  }

  function pathOf(chain: string, anchors: ReturnType<typeof buildTrustAnchors>): X509Certificate[] {
    const certs = chain.split(/(?=-----BEGIN CERTIFICATE-----)/).map((pem) => new X509Certificate(pem));
    const verdict = verifyClientChain(certs, anchors);
    if (!verdict.ok) throw new Error(verdict.description);
    return [...verdict.path];
  }

  it('refuses a revoked leaf and accepts a good one', async () => {
    const { index, anchors } = await documentWith([await root.crl(), await intermediate.crl()], 'refuse');
    expect(index.check(pathOf(revoked.chain, anchors), anchors, now())).toMatchObject({ ok: false, error_code: 'certificate_revoked' });
    expect(index.check(pathOf(good.chain, anchors), anchors, now())).toEqual({ ok: true });
    expect(index.check(pathOf(viaIntermediate.chain, anchors), anchors, now())).toEqual({ ok: true });
  });

  it('refuses a leaf whose intermediate CA (an anchor) is revoked by the root', async () => {
    await root.revoke(intermediate.certificate);
    const { index, anchors } = await documentWith([await root.crl(), await intermediate.crl()], 'refuse');
    const verdict = index.check(pathOf(viaIntermediate.chain, anchors), anchors, now());
    expect(verdict).toMatchObject({ ok: false, error_code: 'certificate_revoked' });
    expect(!verdict.ok && verdict.description).toContain('CRL Intermediate');
  });

  it('applies missing_or_expired to a CA without a CRL or with an expired one', async () => {
    const refuse = await documentWith([await root.crl()], 'refuse');
    expect(refuse.index.check(pathOf(viaIntermediate2.chain, refuse.anchors), refuse.anchors, now())).toMatchObject({ ok: false, error_code: 'revocation_unknown' });
    const accept = await documentWith([await root.crl()], 'accept');
    expect(accept.index.check(pathOf(viaIntermediate2.chain, accept.anchors), accept.anchors, now())).toMatchObject({ ok: true, warning: expect.stringContaining('unknown') });
    const expired = await root.crl({ lastUpdate: new Date(Date.now() - 7_200_000), nextUpdate: new Date(Date.now() - 3_600_000) });
    const old = await documentWith([expired], 'refuse');
    expect(old.index.check(pathOf(good.chain, old.anchors), old.anchors, now())).toMatchObject({ ok: false, error_code: 'revocation_unknown' });
    // Revoked stays revoked, however old the CRL.
    expect(old.index.check(pathOf(revoked.chain, old.anchors), old.anchors, now())).toMatchObject({ ok: false, error_code: 'certificate_revoked' });
  });
});

describe('the stored document', () => {
  it('uses the newest CRL of a CA; a fetched CRL older than the stored one changes nothing', async () => {
    const anchors = buildTrustAnchors([new X509Certificate(root.certificate)]);
    const older = validateUploadedCrls([await root.crl({ lastUpdate: new Date(Date.now() - 600_000) })], anchors, now());
    const newer = validateUploadedCrls([await root.crl()], anchors, now());
    if (!older.ok || !newer.ok) throw new Error('invalid');
    const fetchedNewer = { ...newer.crls[0]!, stored: { ...newer.crls[0]!.stored, source: 'fetched' as const, url: 'http://x/crl' } };
    const fetchedOlder = { ...older.crls[0]!, stored: { ...older.crls[0]!.stored, source: 'fetched' as const, url: 'http://x/crl' } };
    const crls = withFetchedCrl([older.crls[0]!.stored], fetchedNewer)!;
    expect(crls).toHaveLength(2);
    expect(withFetchedCrl(crls, fetchedOlder)).toBeUndefined();
    const view = describeCrls({ settings: { ...DEFAULT_CRL_SETTINGS, enabled: true, fetch: true }, crls }, now());
    expect(view.map((v) => [v.source, v.in_use, v.revoked_count > 0, v.issuer])).toEqual([
      ['uploaded', false, true, 'CN=CRL Root'],
      ['fetched', true, true, 'CN=CRL Root'],
    ]);
  });

  it('is off unless enabled', () => {
    expect(revocationStateOf({ settings: { ...DEFAULT_CRL_SETTINGS, missing_or_expired: 'refuse' }, crls: [] })).toBeUndefined();
  });

  it('reads the http(s) CRL distribution points of a certificate', () => {
    expect(distributionPointsOf(new X509Certificate(root.certificate))).toEqual(['http://127.0.0.1:9/root.crl']);
    expect(distributionPointsOf(new X509Certificate(revoked.certificate))).toEqual(['https://crl.example/root.crl']);
    expect(distributionPointsOf(new X509Certificate(good.certificate))).toEqual([]);
  });
});

describe('nextFetchTime', () => {
  const at = new Date('2030-01-01T00:00:00Z');
  it('refetches before next_update, after the interval at the latest, never within a minute', () => {
    const day = { thisUpdate: at, nextUpdate: new Date(at.getTime() + 86_400_000) };
    expect(nextFetchTime(at, day, 3_600_000).toISOString()).toBe('2030-01-01T01:00:00.000Z');
    expect(nextFetchTime(at, day, 86_400_000 * 7).toISOString()).toBe('2030-01-01T19:12:00.000Z');
    expect(nextFetchTime(at, { thisUpdate: at, nextUpdate: new Date(at.getTime() + 30_000) }, 3_600_000).toISOString()).toBe('2030-01-01T00:01:00.000Z');
    expect(nextFetchTime(at, { thisUpdate: at, nextUpdate: undefined }, 3_600_000).toISOString()).toBe('2030-01-01T01:00:00.000Z');
  });
});
