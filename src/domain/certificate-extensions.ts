// The X.509 v3 extensions that decide who may issue certificates and what a certificate may be used for
// (basicConstraints, keyUsage, extendedKeyUsage), read straight from the DER. node:crypto exposes only `ca`;
// a full ASN.1 parser (@peculiar/x509) costs ~1.4 ms a certificate here, work an unauthenticated client
// could make us do for every certificate it presents. Pure; throws CertificateExtensionError on malformed DER.
import type { X509Certificate } from 'node:crypto';
import { children, decodeOid, readTlv, type Tlv } from './der.js';

export interface CertificateExtensions {
  /** basicConstraints; undefined when the extension is absent (then the certificate is not a CA). */
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** keyUsage bits by name; undefined when the extension is absent (no restriction). */
  keyUsage?: ReadonlySet<KeyUsage>;
  /** extendedKeyUsage OIDs; undefined when the extension is absent (no restriction). */
  extKeyUsage?: readonly string[];
  /** Whether the certificate has a nameConstraints extension (critical or not); certplane does not enforce them. */
  nameConstraints: boolean;
  /** OIDs of the critical extensions certplane does not process (RFC 5280 §4.2: such a certificate is refused). */
  unprocessedCritical: readonly string[];
}

export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const EKU_ANY = '2.5.29.37.0';

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_NAME_CONSTRAINTS = '2.5.29.30';

/**
 * The extensions that may be critical: the three read here, and those whose content does not change whom the
 * trust rule accepts (key identifiers only help to find issuers; subjectAltName and certificatePolicies are not
 * used to decide anything, and accepting any policy is what RFC 5280 path validation does without an explicit
 * policy requirement). Any other critical extension (nameConstraints, policyConstraints, ...) refuses the
 * certificate.
 */
export const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID_BASIC_CONSTRAINTS,
  OID_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.17', // subjectAltName
  '2.5.29.32', // certificatePolicies
]);

export class CertificateExtensionError extends Error {
  override name = 'CertificateExtensionError';
}

/** Reads basicConstraints, keyUsage and extendedKeyUsage of a certificate, and which extensions it does not process. */
export function readCertificateExtensions(cert: X509Certificate): CertificateExtensions {
  const der = cert.raw;
  const outer = readTlv(der, 0, der.length);
  const tbs = readTlv(der, outer.start, outer.end);
  const out: CertificateExtensions = { nameConstraints: false, unprocessedCritical: [] };
  const unprocessedCritical: string[] = [];
  for (const field of children(der, tbs)) {
    if (field.tag !== 0xa3) continue; // [3] EXPLICIT Extensions
    const list = readTlv(der, field.start, field.end);
    for (const extension of children(der, list)) {
      const parts = children(der, extension);
      const oidTlv = parts[0];
      const value = parts[parts.length - 1];
      if (oidTlv?.tag !== 0x06 || value?.tag !== 0x04) throw new CertificateExtensionError('malformed extension');
      const oid = decodeOid(der.subarray(oidTlv.start, oidTlv.end));
      if (parts.length > 3) throw new CertificateExtensionError('malformed extension');
      const critical = parts.length === 3 ? readBoolean(der, parts[1]!) : false;
      if (critical && !PROCESSED_EXTENSIONS.has(oid)) unprocessedCritical.push(oid);
      if (oid === OID_NAME_CONSTRAINTS) out.nameConstraints = true;
      if (oid === OID_BASIC_CONSTRAINTS) out.basicConstraints = readBasicConstraints(der, value);
      else if (oid === OID_KEY_USAGE) out.keyUsage = readKeyUsage(der, value);
      else if (oid === OID_EXT_KEY_USAGE) out.extKeyUsage = readExtKeyUsage(der, value);
    }
  }
  out.unprocessedCritical = unprocessedCritical;
  return out;
}

/** Extension.critical: a BOOLEAN; anything else there is malformed (fail closed). */
function readBoolean(der: Buffer, tlv: Tlv): boolean {
  if (tlv.tag !== 0x01 || tlv.end - tlv.start !== 1) throw new CertificateExtensionError('malformed extension');
  return der[tlv.start] !== 0;
}

function readBasicConstraints(der: Buffer, value: Tlv): { ca: boolean; pathLen?: number } {
  const seq = readTlv(der, value.start, value.end);
  const result: { ca: boolean; pathLen?: number } = { ca: false };
  for (const item of children(der, seq)) {
    if (item.tag === 0x01) result.ca = item.end > item.start && der[item.start] !== 0;
    else if (item.tag === 0x02) result.pathLen = readSmallInteger(der, item);
  }
  return result;
}

function readKeyUsage(der: Buffer, value: Tlv): ReadonlySet<KeyUsage> {
  const bits = readTlv(der, value.start, value.end);
  if (bits.tag !== 0x03 || bits.end <= bits.start) throw new CertificateExtensionError('malformed keyUsage');
  const usages = new Set<KeyUsage>();
  for (const [i, usage] of KEY_USAGES.entries()) {
    const byte = der[bits.start + 1 + (i >> 3)];
    if (byte !== undefined && bits.start + 1 + (i >> 3) < bits.end && (byte & (0x80 >> (i & 7))) !== 0) usages.add(usage);
  }
  return usages;
}

function readExtKeyUsage(der: Buffer, value: Tlv): string[] {
  const seq = readTlv(der, value.start, value.end);
  return children(der, seq).map((oid) => {
    if (oid.tag !== 0x06) throw new CertificateExtensionError('malformed extendedKeyUsage');
    return decodeOid(der.subarray(oid.start, oid.end));
  });
}

function readSmallInteger(der: Buffer, tlv: Tlv): number {
  if (tlv.end - tlv.start > 4) return Number.MAX_SAFE_INTEGER; // a path length beyond any chain we accept
  let n = 0;
  for (let i = tlv.start; i < tlv.end; i++) n = n * 256 + (der[i] ?? 0);
  if ((der[tlv.start] ?? 0) & 0x80) throw new CertificateExtensionError('negative pathLenConstraint');
  return n;
}
