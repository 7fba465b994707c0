// Certificate revocation lists (RFC 5280 §5), a certplane extension (README "Certificate revocation lists"):
// parsing a CRL (PEM or DER), checking its signature against the CA that issued it, and finding that CA among
// the trust anchors for client certificates. Pure; no I/O. The DER is read by certplane itself (der.ts), so
// every step is bounded by the CRL's size and nothing but node:crypto verifies the signature.
//
// Accepted: v1/v2 complete CRLs. Refused: delta CRLs and any other CRL with a critical extension certplane does
// not process (issuingDistributionPoint included: an indirect or partitioned CRL must not be read as complete),
// and entries with a critical entry extension (certificateIssuer of indirect CRLs).
import { constants, createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { children, decodeOid, DerError, readTlv, type Tlv } from './der.js';
import { splitPem, type Result } from './pem.js';
import { issuerCapability, type TrustAnchors } from './client-certificate.js';
import { readCertificateExtensions } from './certificate-extensions.js';

/** The most revoked entries one CRL may list (a 10 MB CRL holds about 300 000). */
export const MAX_CRL_ENTRIES = 1_000_000;

const OID_CRL_NUMBER = '2.5.29.20';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
const OID_REASON_CODE = '2.5.29.21';
const OID_INVALIDITY_DATE = '2.5.29.24';
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** A CRL as read from its DER: what revocation checks and the API need. */
export interface ParsedCrl {
  der: Buffer;
  /** The DER of the issuer Name (compared byte for byte with a CA's subject). */
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** cRLNumber as a decimal string, when present. */
  crlNumber: string | undefined;
  /** Revoked serial numbers, normalized (normalizeSerial). */
  revokedSerials: string[];
  /** The bytes the signature covers, the algorithm and the signature. */
  tbs: Buffer;
  signatureOid: string;
  signatureParams: Buffer | undefined;
  signature: Buffer;
}

/** Uppercase hex without leading zeros: the form both node:crypto's serialNumber and CRL entries compare in. */
export function normalizeSerial(hex: string): string {
  const upper = hex.toUpperCase().replace(/^0+/, '');
  return upper === '' ? '0' : upper;
}

/** One PEM "X509 CRL" block (or DER bytes) → the CRL, or why not (never quoting the input). */
export function parseCrl(input: string | Buffer): Result<ParsedCrl> {
  let der: Buffer;
  if (typeof input === 'string') {
    let blocks;
    try {
      blocks = splitPem(input);
    } catch (error) {
      return { ok: false, error: `is not valid PEM: ${(error as Error).message}` };
    }
    if (blocks.length === 0) return { ok: false, error: 'contains no PEM block (expected -----BEGIN X509 CRL-----)' };
    if (blocks.length > 1) return { ok: false, error: `contains ${blocks.length} PEM blocks; send one CRL per item` };
    const block = blocks[0]!;
    if (block.type !== 'X509 CRL') return { ok: false, error: `contains a "${block.type}" PEM block where an X509 CRL is expected` };
    der = Buffer.from(block.body, 'base64');
  } else {
    der = input;
  }
  try {
    return { ok: true, value: readCrlDer(der) };
  } catch (error) {
    if (error instanceof DerError || error instanceof CrlFormatError) return { ok: false, error: `is not a valid CRL: ${error.message}` };
    throw error;
  }
}

class CrlFormatError extends Error {
  override name = 'CrlFormatError';
}

function expectTag<T extends Tlv>(tlv: T | undefined, tag: number, what: string): T {
  if (tlv === undefined || tlv.tag !== tag) throw new CrlFormatError(`${what} is missing or malformed`);
  return tlv;
}

function readCrlDer(der: Buffer): ParsedCrl {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30) throw new CrlFormatError('not a DER SEQUENCE');
  if (outer.end !== der.length) throw new CrlFormatError('trailing bytes after the CRL');
  const [tbsTlv, algTlv, sigTlv, ...extra] = items(der, outer);
  if (extra.length > 0) throw new CrlFormatError('unexpected fields after the signature');
  expectTag(tbsTlv, 0x30, 'tbsCertList');
  expectTag(algTlv, 0x30, 'signatureAlgorithm');
  expectTag(sigTlv, 0x03, 'signatureValue');
  const tbs = tbsTlv!;
  const fields = items(der, tbs);
  let i = 0;
  if (fields[i]?.tag === 0x02) i += 1; // version (v2); v1 has none
  expectTag(fields[i++], 0x30, 'signature algorithm in tbsCertList');
  const issuer = expectTag(fields[i++], 0x30, 'issuer');
  const thisUpdate = readTime(der, fields[i++], 'thisUpdate');
  let nextUpdate: Date | undefined;
  if (fields[i]?.tag === 0x17 || fields[i]?.tag === 0x18) nextUpdate = readTime(der, fields[i++], 'nextUpdate');
  const revokedSerials: string[] = [];
  if (fields[i]?.tag === 0x30) {
    const list = fields[i++]!;
    let at = list.start;
    while (at < list.end) {
      const entry = readTlv(der, at, list.end);
      at = entry.end;
      if (entry.tag !== 0x30) throw new CrlFormatError('a revoked entry is malformed');
      const parts = children(der, entry);
      const serial = expectTag(parts[0], 0x02, 'a revoked entry serial number');
      readTime(der, parts[1], 'a revocation date');
      if (parts[2] !== undefined) {
        for (const critical of criticalExtensions(der, expectTag(parts[2], 0x30, 'entry extensions'))) {
          if (critical !== OID_REASON_CODE && critical !== OID_INVALIDITY_DATE) {
            throw new CrlFormatError(`a revoked entry has a critical extension certplane does not process (${critical}); indirect CRLs are not supported`);
          }
        }
      }
      revokedSerials.push(normalizeSerial(der.subarray(serial.start, serial.end).toString('hex')));
      if (revokedSerials.length > MAX_CRL_ENTRIES) throw new CrlFormatError(`more than ${MAX_CRL_ENTRIES} revoked entries`);
    }
  }
  let crlNumber: string | undefined;
  if (fields[i]?.tag === 0xa0) {
    const wrapper = fields[i++]!;
    const list = expectTag(readTlv(der, wrapper.start, wrapper.end), 0x30, 'crlExtensions');
    for (const extension of children(der, list)) {
      const { oid, critical, value } = readExtension(der, extension);
      if (oid === OID_DELTA_CRL_INDICATOR) throw new CrlFormatError('it is a delta CRL; only complete CRLs are supported');
      if (oid === OID_CRL_NUMBER) {
        const number = expectTag(readTlv(der, value.start, value.end), 0x02, 'cRLNumber');
        crlNumber = BigInt(`0x${der.subarray(number.start, number.end).toString('hex') || '0'}`).toString(10);
      } else if (critical && oid !== OID_AUTHORITY_KEY_ID) {
        throw new CrlFormatError(`it has a critical extension certplane does not process (${oid})`);
      }
    }
  }
  if (i !== fields.length) throw new CrlFormatError('unexpected fields in tbsCertList');
  const algParts = items(der, algTlv!);
  const oidTlv = expectTag(algParts[0], 0x06, 'signature algorithm');
  const sig = sigTlv!;
  if (sig.end - sig.start < 2 || der[sig.start] !== 0) throw new CrlFormatError('signatureValue is malformed');
  return {
    der,
    issuerDer: whole(der, issuer),
    thisUpdate,
    nextUpdate,
    crlNumber,
    revokedSerials,
    tbs: whole(der, tbs),
    signatureOid: decodeOid(der.subarray(oidTlv.start, oidTlv.end)),
    signatureParams: algParts[1] === undefined ? undefined : whole(der, algParts[1]),
    signature: der.subarray(sig.start + 1, sig.end),
  };
}

/** The items inside a constructed item, each with the offset of its tag (for slicing whole items). */
function items(der: Buffer, parent: Tlv): Item[] {
  const out: Item[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const tlv = readTlv(der, at, parent.end);
    out.push({ ...tlv, offset: at });
    at = tlv.end;
  }
  return out;
}

interface Item extends Tlv {
  offset: number;
}

function whole(der: Buffer, item: Item): Buffer {
  return der.subarray(item.offset, item.end);
}

function readExtension(der: Buffer, extension: Tlv): { oid: string; critical: boolean; value: Tlv } {
  const parts = children(der, extension);
  const oidTlv = expectTag(parts[0], 0x06, 'an extension');
  const value = expectTag(parts[parts.length - 1], 0x04, 'an extension value');
  if (parts.length > 3) throw new CrlFormatError('an extension is malformed');
  const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.start] !== 0;
  return { oid: decodeOid(der.subarray(oidTlv.start, oidTlv.end)), critical, value };
}

function criticalExtensions(der: Buffer, list: Tlv): string[] {
  return children(der, list)
    .map((extension) => readExtension(der, extension))
    .filter((e) => e.critical)
    .map((e) => e.oid);
}

function readTime(der: Buffer, tlv: Tlv | undefined, what: string): Date {
  if (tlv === undefined || (tlv.tag !== 0x17 && tlv.tag !== 0x18)) throw new CrlFormatError(`${what} is missing or malformed`);
  const text = der.subarray(tlv.start, tlv.end).toString('latin1');
  const match = tlv.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) throw new CrlFormatError(`${what} is not a valid time`);
  let year = Number(match[1]);
  if (tlv.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  const date = new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6])));
  if (Number.isNaN(date.getTime())) throw new CrlFormatError(`${what} is not a valid time`);
  return date;
}

/** The DER of a certificate's subject Name (tbsCertificate's sixth field, fifth without a version). */
export function subjectNameDer(cert: X509Certificate): Buffer {
  const der = cert.raw;
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.start, outer.end);
  const fields = items(der, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4];
  if (subject === undefined) throw new CrlFormatError('certificate without a subject');
  return whole(der, subject);
}

const HASH_OF_SIGNATURE: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

const PSS_HASHES: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Whether `key` verifies the CRL's signature (false for an algorithm certplane does not accept: MD5, SHA-1 PSS…). */
export function verifyCrlSignature(crl: ParsedCrl, key: KeyObject): boolean {
  try {
    if (crl.signatureOid === RSASSA_PSS) {
      const hash = pssHash(crl.signatureParams);
      if (hash === undefined) return false;
      return verify(hash, crl.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, crl.signature);
    }
    const hash = HASH_OF_SIGNATURE[crl.signatureOid];
    if (hash === undefined || hash === 'sha1') return false;
    return verify(hash, crl.tbs, key, crl.signature);
  } catch {
    return false;
  }
}

function pssHash(params: Buffer | undefined): string | undefined {
  if (params === undefined) return undefined; // SHA-1 default: not accepted
  try {
    const seq = readTlv(params, 0);
    const first = children(params, seq)[0];
    if (first?.tag !== 0xa0) return undefined;
    const alg = readTlv(params, first.start, first.end);
    const oid = readTlv(params, alg.start, alg.end);
    return PSS_HASHES[decodeOid(params.subarray(oid.start, oid.end))];
  } catch {
    return undefined;
  }
}

/**
 * Identifies the CA that issued a certificate for revocation purposes: its subject and its public key (a CA
 * re-issued with the same name and key is the same issuer; a CA with another key is not). Hex SHA-256 of both.
 */
export function issuerIdentity(cert: X509Certificate): string {
  const cached = identities.get(cert);
  if (cached !== undefined) return cached;
  const subject = createHash('sha256').update(subjectNameDer(cert)).digest('hex');
  const key = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
  const identity = `${subject}:${key}`;
  identities.set(cert, identity);
  return identity;
}

const identities = new WeakMap<X509Certificate, string>();

/** Whether a CA may sign CRLs: it may issue under the trust rule, and a keyUsage (if any) has cRLSign. */
function maySignCrls(cert: X509Certificate): boolean {
  try {
    const extensions = readCertificateExtensions(cert);
    if (!issuerCapability(extensions).ok) return false;
    return extensions.keyUsage === undefined || extensions.keyUsage.has('cRLSign');
  } catch {
    return false;
  }
}

export type CrlIssuerVerdict =
  | { ok: true; issuer: X509Certificate }
  | { ok: false; error_code: 'crl_issuer_not_trusted' | 'crl_signature_invalid'; description: string };

/**
 * The trust anchor that issued this CRL: same subject (DER), allowed to sign CRLs, and its key verifies the
 * signature. A CRL named for an anchor but not signed by its key is crl_signature_invalid; one whose issuer is
 * no anchor is crl_issuer_not_trusted.
 */
export function findCrlIssuer(crl: ParsedCrl, anchors: TrustAnchors): CrlIssuerVerdict {
  const candidates: X509Certificate[] = [];
  for (const issuers of anchors.issuersBySubject.values()) {
    for (const { cert } of issuers) {
      if (subjectNameDer(cert).equals(crl.issuerDer)) candidates.push(cert);
    }
  }
  if (candidates.length === 0) {
    return { ok: false, error_code: 'crl_issuer_not_trusted', description: 'Its issuer is not one of the trust anchors for client certificates (mtls_trusted_ca, a database\'s authentication_ssl_client_certs)' };
  }
  for (const cert of candidates) {
    if (maySignCrls(cert) && verifyCrlSignature(crl, cert.publicKey)) return { ok: true, issuer: cert };
  }
  return {
    ok: false,
    error_code: 'crl_signature_invalid',
    description: `Its signature does not verify with the key of the CA ${candidates[0]!.subject.replaceAll('\n', ', ')} (signed by another key, altered, a weak algorithm, or the CA lacks cRLSign)`,
  };
}
