// Test-time PKI: CAs, issued and self-signed certificates (any validity, RSA 1024+, EC, SHA-1/MD5 signatures,
// OCSP URL), and encrypted keys. Key pairs are cached per (algorithm, role) unless `freshKey` is set.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPair, sign, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';

x509.cryptoProvider.set(webcrypto);

export type Hash = 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA-1' | 'MD5';
export type Curve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';

export interface CertificateOptions {
  /** Common name; default `test`. Ignored when `subject` is given. */
  cn?: string;
  /** Full subject in RFC 2253 order (CN first), e.g. `CN=a,OU=b,O=c`; encoded so RFC 2253 renders it back. */
  subject?: string;
  /** `DNS:x`, `IP:1.2.3.4`, `email:a@b`, `URI:https://x`; a bare value is an IP when it parses as one, else DNS. */
  sans?: string[];
  /** Default: one hour ago (or a day before notAfter, whichever is earlier). */
  notBefore?: Date;
  /** Default: 365 days after notBefore (10 years for createCa). */
  notAfter?: Date;
  /** RSA modulus size (default 2048; 1024 allowed). Ignored when `curve` is set. */
  keyBits?: number;
  /** Use an EC key on this curve instead of RSA (`secp256k1` only for issued, non-CA certificates). */
  curve?: Curve;
  isCa?: boolean;
  /** Extended key usages by name (`serverAuth`, `clientAuth`, ...) or OID. Default for non-CA: server + client. */
  eku?: string[];
  /** Adds Authority Information Access with this OCSP responder URL. */
  ocspUrl?: string;
  /** Signature hash used by the issuer (default SHA-256). MD5 needs an RSA issuer. */
  hash?: Hash;
  /** Generate a new key pair instead of the cached one for this role. */
  freshKey?: boolean;
  /** Serial number in hex. Default random. */
  serial?: string;
  /** basicConstraints pathLenConstraint (CA certificates). */
  pathLen?: number;
  /** keyUsage by name instead of the default; `[]` leaves the extension out. */
  keyUsage?: Array<'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign'>;
  /** RSA public exponent (default 65537). Implies a fresh key. */
  publicExponent?: number;
  /** Use this key pair (e.g. from hugeExponentKeyPair) instead of a generated one. */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
  /** More extensions, as given: OID, criticality and the DER of the extension value. */
  extraExtensions?: Array<{ oid: string; critical: boolean; value: Uint8Array }>;
}

export interface TestCertificate {
  /** This certificate alone, PEM with trailing newline. */
  certificate: string;
  /** Its private key, PKCS#8 PEM. */
  key: string;
  /** This certificate followed by its issuers up to the root, PEM. */
  chain: string;
  x509: X509Certificate;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const DAY = 86_400_000;
const generateKeyPairAsync = promisify(generateKeyPair);
const keyCache = new Map<string, Promise<{ privateKey: KeyObject; publicKey: KeyObject }>>();

const NODE_CURVE: Record<Curve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1', secp256k1: 'secp256k1' };

function newKeyPair(opts: CertificateOptions): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (opts.curve) return generateKeyPairAsync('ec', { namedCurve: NODE_CURVE[opts.curve] });
  return generateKeyPairAsync('rsa', { modulusLength: opts.keyBits ?? 2048, publicExponent: opts.publicExponent ?? 0x10001 });
}

function keyPairFor(opts: CertificateOptions, role: string): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  if (opts.keyPair) return Promise.resolve(opts.keyPair);
  if (opts.freshKey || opts.publicExponent !== undefined) return newKeyPair(opts);
  const id = `${opts.curve ?? `rsa${opts.keyBits ?? 2048}`}:${role}`;
  let pair = keyCache.get(id);
  if (!pair) {
    pair = newKeyPair(opts);
    keyCache.set(id, pair);
  }
  return pair;
}

/**
 * An RSA key pair whose public exponent is about as long as the modulus (the attack of issue 17.4: every
 * signature check with its public key costs as much as a private-key operation without CRT).
 */
export async function hugeExponentKeyPair(bits = 2048): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const base = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const jwk = base.privateKey.export({ format: 'jwk' });
  const big = (v: string | undefined): bigint => BigInt(`0x${Buffer.from(v ?? '', 'base64url').toString('hex')}`);
  const b64 = (v: bigint): string => {
    const hex = v.toString(16);
    return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
  };
  const p = big(jwk.p);
  const q = big(jwk.q);
  const n = p * q;
  const phi = (p - 1n) * (q - 1n);
  for (;;) {
    const e = (big(Buffer.from(webcrypto.getRandomValues(new Uint8Array(bits / 8 - 1))).toString('base64url')) | 1n) | (1n << BigInt(bits - 16));
    const d = modInverse(e % phi, phi);
    if (d === undefined) continue;
    const privateKey = createPrivateKey({
      key: { kty: 'RSA', n: b64(n), e: b64(e), d: b64(d), p: jwk.p, q: jwk.q, dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)), qi: jwk.qi },
      format: 'jwk',
    });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
}

function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [a, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) return undefined;
  return ((oldS % m) + m) % m;
}

/** A self-signed root CA (CA:true, keyCertSign). A fresh key unless `freshKey: false`. */
export function createCa(opts: CertificateOptions = {}): Promise<TestCertificate> {
  const notAfter = opts.notAfter ?? new Date((opts.notBefore?.getTime() ?? Date.now()) + 3650 * DAY);
  return build({ cn: 'Test Root CA', ...opts, notAfter, isCa: true, freshKey: opts.freshKey ?? true }, undefined, 'ca');
}

/** A certificate signed by `issuer` (a CA from createCa, or an intermediate issued with `isCa: true`). */
export function issueCertificate(issuer: TestCertificate, opts: CertificateOptions = {}): Promise<TestCertificate> {
  return build(opts, issuer, opts.isCa ? 'intermediate' : 'leaf');
}

/** A self-signed certificate that is not a CA by default (like the cluster's autogenerated ones). */
export function selfSigned(opts: CertificateOptions = {}): Promise<TestCertificate> {
  return build(opts, undefined, opts.isCa ? 'ca' : 'self');
}

/** The key re-exported encrypted: PKCS#8 `ENCRYPTED PRIVATE KEY`, or legacy `RSA PRIVATE KEY` + Proc-Type. */
export function encryptKey(key: TestCertificate | KeyObject, passphrase: string, format: 'pkcs8' | 'pkcs1' = 'pkcs8'): string {
  const k = 'privateKey' in key ? key.privateKey : key;
  return k.export({ type: format, format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

async function build(opts: CertificateOptions, issuer: TestCertificate | undefined, role: string): Promise<TestCertificate> {
  const { privateKey, publicKey } = await keyPairFor(opts, role);
  const hash = opts.hash ?? 'SHA-256';
  const signer = issuer?.privateKey ?? privateKey;
  const notAfter = opts.notAfter ?? new Date((opts.notBefore?.getTime() ?? Date.now()) + 365 * DAY);
  const notBefore = opts.notBefore ?? new Date(Math.min(Date.now() - 3_600_000, notAfter.getTime() - DAY));
  const subjectPublicKey = await x509.PublicKey.create(publicKey.export({ type: 'spki', format: 'der' }));

  const keyUsage =
    opts.keyUsage === undefined
      ? opts.isCa
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : opts.keyUsage.reduce((flags, name) => flags | x509.KeyUsageFlags[name], 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(opts.isCa === true, opts.pathLen, true),
    ...(opts.keyUsage?.length === 0 ? [] : [new x509.KeyUsagesExtension(keyUsage, true)]),
    await x509.SubjectKeyIdentifierExtension.create(subjectPublicKey),
  ];
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(await x509.PublicKey.create(spki(issuer.publicKey))));
  const eku = opts.eku ?? (opts.isCa ? [] : ['serverAuth', 'clientAuth']);
  if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(eku.map(ekuOid)));
  if (opts.sans?.length) extensions.push(new x509.SubjectAlternativeNameExtension(opts.sans.map(generalName)));
  if (opts.ocspUrl) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: opts.ocspUrl }));
  for (const extra of opts.extraExtensions ?? []) extensions.push(new x509.Extension(extra.oid, extra.critical, extra.value));

  const subject = opts.subject ? rfc2253ToJsonName(opts.subject) : [{ CN: [opts.cn ?? 'test'] }];
  const signingHash = hash === 'MD5' ? 'SHA-256' : hash;
  const signingAlgorithm = algorithmFor(signer, signingHash);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', signer.export({ type: 'pkcs8', format: 'der' }), signingAlgorithm, false, ['sign']);
  const generated = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serial ?? randomSerial(),
    subject,
    issuer: issuer ? new x509.X509Certificate(issuer.x509.raw).subjectName : subject,
    notBefore,
    notAfter,
    publicKey: subjectPublicKey,
    signingKey,
    signingAlgorithm,
    extensions,
  });
  let der: Buffer = Buffer.from(generated.rawData);
  if (hash === 'MD5') der = resignRsa(der, signer, 'md5');

  const node = new X509Certificate(der);
  const certificate = node.toString();
  return {
    certificate,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    chain: certificate + (issuer?.chain ?? ''),
    x509: node,
    privateKey,
    publicKey,
  };
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

function algorithmFor(key: KeyObject, hash: Exclude<Hash, 'MD5'>): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const named = Object.entries(NODE_CURVE).find(([, v]) => v === curve)?.[0];
    if (!named || named === 'secp256k1') throw new Error(`pki: cannot sign with EC curve ${curve}`);
    return { name: 'ECDSA', namedCurve: named, hash };
  }
  return { name: 'RSASSA-PKCS1-v1_5', hash };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01; // positive, no leading zero
  return Buffer.from(bytes).toString('hex');
}

const EKU_NAMES: Record<string, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
  codeSigning: x509.ExtendedKeyUsage.codeSigning,
  emailProtection: x509.ExtendedKeyUsage.emailProtection,
  timeStamping: x509.ExtendedKeyUsage.timeStamping,
  ocspSigning: x509.ExtendedKeyUsage.ocspSigning,
};

function ekuOid(name: string): string {
  return EKU_NAMES[name] ?? name;
}

function generalName(san: string): x509.JsonGeneralName {
  const m = /^(DNS|IP|email|URI):(.*)$/i.exec(san);
  if (!m) return { type: isIP(san) ? 'ip' : 'dns', value: san };
  const kind = (m[1] ?? '').toLowerCase();
  const value = m[2] ?? '';
  return { type: kind === 'uri' ? 'url' : (kind as 'dns' | 'ip' | 'email'), value };
}

/** `CN=a,OU=b,O=c` (RFC 2253, most specific first) → DER order O, OU, CN. Backslash escapes are honoured. */
function rfc2253ToJsonName(dn: string): x509.JsonName {
  const rdns: string[] = [];
  let cur = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (ch === '\\' && i + 1 < dn.length) {
      cur += dn[++i];
    } else if (ch === ',') {
      rdns.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  rdns.push(cur);
  return rdns.reverse().map((rdn) => {
    const eq = rdn.indexOf('=');
    if (eq <= 0) throw new Error(`pki: bad RDN "${rdn}" in "${dn}"`);
    return { [rdn.slice(0, eq).trim()]: [rdn.slice(eq + 1)] };
  });
}

// ---- MD5: WebCrypto cannot sign with it, so swap the algorithm OID in place (same length) and re-sign ----

const SHA256_RSA = Buffer.from('06092a864886f70d01010b', 'hex');
const MD5_RSA = Buffer.from('06092a864886f70d010104', 'hex');

function resignRsa(der: Buffer, key: KeyObject, digest: 'md5'): Buffer {
  if (key.asymmetricKeyType !== 'rsa') throw new Error('pki: MD5 signatures need an RSA issuer');
  const out = Buffer.from(der);
  let at = out.indexOf(SHA256_RSA);
  while (at >= 0) {
    MD5_RSA.copy(out, at);
    at = out.indexOf(SHA256_RSA, at + 1);
  }
  const outer = tlv(out, 0);
  const tbs = tlv(out, outer.start);
  const algId = tlv(out, tbs.end);
  const bits = tlv(out, algId.end);
  const signature = sign(digest, out.subarray(tbs.offset, tbs.end), key);
  if (signature.length !== bits.end - bits.start - 1) throw new Error('pki: unexpected signature length');
  signature.copy(out, bits.start + 1);
  return out;
}

function tlv(buf: Buffer, offset: number): { offset: number; start: number; end: number } {
  let len = buf[offset + 1] ?? 0;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] ?? 0);
    start += n;
  }
  return { offset, start, end: start + len };
}
