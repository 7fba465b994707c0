import { beforeAll, describe, expect, it } from 'vitest';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { X509Certificate } from 'node:crypto';
import {
  buildTrustAnchors,
  MAX_PRESENTED_CHAIN,
  verifyClientCertificate,
  verifyClientChain,
  type ClientCertificateVerdict,
} from './client-certificate.js';
import { readCertificateExtensions } from './certificate-extensions.js';
import { createCa, hugeExponentKeyPair, issueCertificate, selfSigned, type TestCertificate } from '../../test/helpers/pki.js';

const now = new Date();
const x = (...certs: TestCertificate[]): X509Certificate[] => certs.map((c) => c.x509);
const verify = (chain: TestCertificate[], anchors: TestCertificate[]): ClientCertificateVerdict =>
  verifyClientCertificate(x(...chain), buildTrustAnchors(x(...anchors)), now);
const expectRefused = (verdict: ClientCertificateVerdict, description: RegExp): void => {
  expect(verdict.ok).toBe(false);
  if (!verdict.ok) expect(verdict.description).toMatch(description);
};

let root: TestCertificate;
let alice: TestCertificate;
let pinned: TestCertificate;

beforeAll(async () => {
  root = await createCa({ cn: 'Unit Root' });
  alice = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
  pinned = await selfSigned({ subject: 'CN=pinned,O=Acme', eku: ['clientAuth'] });
});

describe('readCertificateExtensions', () => {
  it('reads what @peculiar/x509 reads: basicConstraints with pathLen, keyUsage, extendedKeyUsage', async () => {
    const ca = await createCa({ cn: 'pathlen', pathLen: 2, keyUsage: ['keyCertSign', 'cRLSign'] });
    const leaf = await issueCertificate(ca, { cn: 'leaf', eku: ['serverAuth'] });
    for (const cert of [ca, leaf, pinned]) {
      const ours = readCertificateExtensions(cert.x509);
      const theirs = new x509.X509Certificate(cert.x509.raw);
      const bc = theirs.getExtension(x509.BasicConstraintsExtension);
      expect(ours.basicConstraints).toEqual(bc === null ? undefined : { ca: bc.ca, ...(bc.pathLength === undefined ? {} : { pathLen: bc.pathLength }) });
      const ku = theirs.getExtension(x509.KeyUsagesExtension);
      expect(ours.keyUsage?.has('keyCertSign')).toBe(ku === null ? undefined : (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0);
      expect(ours.keyUsage?.has('digitalSignature')).toBe(ku === null ? undefined : (ku.usages & x509.KeyUsageFlags.digitalSignature) !== 0);
      expect(ours.extKeyUsage).toEqual(theirs.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String));
    }
    expect(readCertificateExtensions(ca.x509).basicConstraints).toEqual({ ca: true, pathLen: 2 });
  });
});

describe('verifyClientCertificate (trust rule)', () => {
  it('accepts a leaf issued by a CA anchor, and a pinned certificate that is itself an anchor', () => {
    expect(verify([alice], [root])).toEqual({ ok: true });
    expect(verify([pinned], [pinned])).toEqual({ ok: true });
  });

  it('refuses a certificate signed with a pinned (non-CA) anchor’s key: pins never issue', async () => {
    const forged = await issueCertificate(pinned, { subject: 'CN=boss,O=Acme', eku: ['clientAuth'] });
    expect(forged.x509.verify(pinned.x509.publicKey)).toBe(true);
    expectRefused(verify([forged], [pinned]), /does not chain/);
    expectRefused(verify([forged, pinned], [pinned, root]), /does not chain/);
  });

  it('refuses a path through a presented intermediate without CA:TRUE', async () => {
    const notCa = await issueCertificate(root, { cn: 'Not a CA', isCa: false, eku: [], keyUsage: ['digitalSignature', 'keyCertSign'] });
    const leaf = await issueCertificate(notCa, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    expectRefused(verify([leaf, notCa], [root]), /does not chain/);
    expectRefused(verify([leaf], [notCa]), /does not chain/);
  });

  it('refuses an issuer whose keyUsage lacks keyCertSign (anchor or intermediate)', async () => {
    const noSign = await createCa({ cn: 'No keyCertSign', keyUsage: ['digitalSignature', 'cRLSign'] });
    const leaf = await issueCertificate(noSign, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    expectRefused(verify([leaf], [noSign]), /does not chain/);
    const middle = await issueCertificate(root, { cn: 'Middle without keyCertSign', isCa: true, keyUsage: ['digitalSignature'] });
    const below = await issueCertificate(middle, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    expectRefused(verify([below, middle], [root]), /does not chain/);
    // Without keyUsage at all, CA:TRUE is enough.
    const plain = await createCa({ cn: 'No keyUsage', keyUsage: [] });
    expect(verify([await issueCertificate(plain, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] })], [plain])).toEqual({ ok: true });
  });

  it('honours pathLenConstraint of anchors and intermediates', async () => {
    const strict = await createCa({ cn: 'PathLen 0 Root', pathLen: 0 });
    const sub = await issueCertificate(strict, { cn: 'Sub CA', isCa: true });
    const leaf = await issueCertificate(sub, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    expectRefused(verify([leaf, sub], [strict]), /does not chain/);
    // The pathLen-0 CA may issue leaves directly.
    expect(verify([await issueCertificate(strict, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] })], [strict])).toEqual({ ok: true });
    // pathLen 0 on an intermediate: a sub-CA below it is refused, a leaf below it accepted.
    const mid = await issueCertificate(root, { cn: 'Mid PathLen 0', isCa: true, pathLen: 0 });
    const subMid = await issueCertificate(mid, { cn: 'Below Mid', isCa: true });
    const deep = await issueCertificate(subMid, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    expectRefused(verify([deep, subMid, mid], [root]), /does not chain/);
    expect(verify([await issueCertificate(mid, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] }), mid], [root])).toEqual({ ok: true });
    // pathLen 1 allows one sub-CA.
    const one = await createCa({ cn: 'PathLen 1 Root', pathLen: 1 });
    const oneSub = await issueCertificate(one, { cn: 'One Sub', isCa: true });
    expect(verify([await issueCertificate(oneSub, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] }), oneSub], [one])).toEqual({ ok: true });
  });

  it('refuses a leaf whose extendedKeyUsage lacks clientAuth, issued or pinned; no EKU is fine', async () => {
    const server = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: ['serverAuth'] });
    expectRefused(verify([server], [root]), /clientAuth/);
    expectRefused(verify([server], [server]), /clientAuth/);
    const noEku = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: [] });
    expect(verify([noEku], [root])).toEqual({ ok: true });
  });

  it('refuses a CA with nameConstraints as an issuer, critical or not (anchor or intermediate), naming the reason', async () => {
    // The review's attack: a partner sub-CA limited to O=PartnerCo issues O=OurCorp, CN=admin.
    for (const critical of [true, false]) {
      const partner = await issueCertificate(root, { subject: 'CN=Partner CA,O=PartnerCo', isCa: true, pathLen: 0, extraExtensions: [partnerOnly(critical)] });
      expect(readCertificateExtensions(partner.x509).nameConstraints).toBe(true);
      const admin = await issueCertificate(partner, { subject: 'CN=admin,O=OurCorp', eku: ['clientAuth'] });
      expect(admin.x509.verify(partner.x509.publicKey)).toBe(true);
      expectRefused(verify([admin, partner], [root]), /CN=Partner CA.*nameConstraints, which certplane does not enforce/);
      expectRefused(verify([admin], [partner]), /CN=Partner CA.*nameConstraints, which certplane does not enforce/);
      expectRefused(verify([admin], [partner, root]), /nameConstraints/);
    }
  });

  it('refuses a critical extension it does not process on the leaf, on an intermediate and on the issuing anchor', async () => {
    const unknown = { oid: '1.3.6.1.4.1.55555.1', critical: true, value: new Uint8Array([0x05, 0x00]) };
    const leaf = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'], extraExtensions: [unknown] });
    expect(readCertificateExtensions(leaf.x509).unprocessedCritical).toEqual(['1.3.6.1.4.1.55555.1']);
    expectRefused(verify([leaf], [root]), /client certificate has a critical extension certplane does not process \(1\.3\.6\.1\.4\.1\.55555\.1\)/);
    expectRefused(verify([leaf], [leaf]), /critical extension/); // a pin too
    const middle = await issueCertificate(root, { cn: 'Middle with unknown critical', isCa: true, extraExtensions: [unknown] });
    const below = await issueCertificate(middle, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    expectRefused(verify([below, middle], [root]), /CN=Middle with unknown critical has a critical extension certplane does not process/);
    const anchor = await createCa({ cn: 'Anchor with unknown critical', extraExtensions: [unknown] });
    expectRefused(verify([await issueCertificate(anchor, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] })], [anchor]), /critical extension certplane does not process/);
    // policyConstraints (RFC 5280 requires it critical) is not processed either.
    const policy = await createCa({ cn: 'Policy constrained', extraExtensions: [{ oid: '2.5.29.36', critical: true, value: new Uint8Array([0x30, 0x03, 0x80, 0x01, 0x00]) }] });
    expectRefused(verify([await issueCertificate(policy, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] })], [policy]), /2\.5\.29\.36/);
  });

  it('accepts an unknown extension that is not critical, on the leaf and on the CAs', async () => {
    const unknown = { oid: '1.3.6.1.4.1.55555.1', critical: false, value: new Uint8Array([0x05, 0x00]) };
    const anchor = await createCa({ cn: 'Anchor with unknown', extraExtensions: [unknown] });
    const middle = await issueCertificate(anchor, { cn: 'Middle with unknown', isCa: true, extraExtensions: [unknown] });
    const leaf = await issueCertificate(middle, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'], extraExtensions: [unknown] });
    expect(readCertificateExtensions(leaf.x509)).toMatchObject({ nameConstraints: false, unprocessedCritical: [] });
    expect(verify([leaf, middle], [anchor])).toEqual({ ok: true });
    // Critical extensions it does process (basicConstraints, keyUsage here) are fine.
    expect(readCertificateExtensions(root.x509).unprocessedCritical).toEqual([]);
  });

  it('checks validity dates on the whole path', async () => {
    const expired = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'], notBefore: new Date(Date.now() - 9e8), notAfter: new Date(Date.now() - 1e8) });
    expect(verify([expired], [root])).toMatchObject({ ok: false, error_code: 'certificate_expired' });
  });
});

describe('bounded work per presented chain', () => {
  it(`refuses more than ${MAX_PRESENTED_CHAIN} presented certificates before checking any signature`, () => {
    const chain = Array.from({ length: MAX_PRESENTED_CHAIN + 1 }, () => alice.x509);
    const verdict = verifyClientChain(chain, buildTrustAnchors([root.x509]));
    expect(verdict).toMatchObject({ ok: false });
    if (!verdict.ok) expect(verdict.description).toMatch(/at most 10/);
  });

  it('refuses a presented certificate with a huge public exponent without using its key', async () => {
    const huge = await createCa({ cn: 'Huge', keyPair: await hugeExponentKeyPair(2048) });
    const leaf = await issueCertificate(huge, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    const started = performance.now();
    const verdict = verifyClientChain([leaf.x509, huge.x509], buildTrustAnchors([root.x509]));
    expect(performance.now() - started).toBeLessThan(50);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.description).toMatch(/exponent/);
    // As an anchor, a huge-exponent CA never issues (and an upload refuses it: key-bounds.ts).
    expect(verify([leaf], [huge])).toMatchObject({ ok: false });
  }, 60_000);

  it('looks issuers up by name: 200 anchors cost no more than one', async () => {
    const others = await Promise.all(Array.from({ length: 20 }, (_, i) => createCa({ cn: `Other ${i}`, freshKey: false })));
    const anchors = buildTrustAnchors(x(...Array.from({ length: 10 }, () => others).flat(), root));
    const started = performance.now();
    for (let i = 0; i < 20; i++) expect(verifyClientCertificate([alice.x509], anchors, now)).toEqual({ ok: true });
    expect((performance.now() - started) / 20).toBeLessThan(20);
  });

  it('stops after a bounded number of signature checks among same-named CAs', async () => {
    // Ten presented CAs that all carry the root's name (self-issued, no key ids match-able): the search gives up.
    const fakes = await Promise.all(Array.from({ length: MAX_PRESENTED_CHAIN - 1 }, () => selfSigned({ cn: 'Unit Root', isCa: true, freshKey: false })));
    const leaf = await issueCertificate(fakes[0]!, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'] });
    const verdict = verifyClientChain(x(leaf, ...fakes), buildTrustAnchors([root.x509]));
    expect(verdict.ok).toBe(false);
  });
});

/** nameConstraints permitted;dirName:O=PartnerCo, DER built by hand (@peculiar/x509 has no class for it). */
function partnerOnly(critical: boolean): { oid: string; critical: boolean; value: Uint8Array } {
  const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([tag, body.length]), body]);
  };
  const name = tlv(0x30, tlv(0x31, tlv(0x30, Buffer.from([0x06, 0x03, 0x55, 0x04, 0x0a]), tlv(0x0c, Buffer.from('PartnerCo')))));
  return { oid: '2.5.29.30', critical, value: tlv(0x30, tlv(0xa0, tlv(0x30, tlv(0xa4, name)))) };
}
