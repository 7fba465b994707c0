// The X.509 v3 extensions that decide who may issue certificates and what a certificate may be used for
// (basicConstraints, keyUsage, extendedKeyUsage), read straight from the DER. node:crypto exposes only `ca`;
// a full ASN.1 parser (@peculiar/x509) costs ~1.4 ms a certificate here, work an unauthenticated client
// could make us do for every certificate it presents. Pure; throws CertificateExtensionError on malformed DER.
import type { X509Certificate } from 'node:crypto';

export interface CertificateExtensions {
  /** basicConstraints; undefined when the extension is absent (then the certificate is not a CA). */
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** keyUsage bits by name; undefined when the extension is absent (no restriction). */
  keyUsage?: ReadonlySet<KeyUsage>;
  /** extendedKeyUsage OIDs; undefined when the extension is absent (no restriction). */
  extKeyUsage?: readonly string[];
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

export class CertificateExtensionError extends Error {
  override name = 'CertificateExtensionError';
}

/** Reads basicConstraints, keyUsage and extendedKeyUsage of a certificate. */
export function readCertificateExtensions(cert: X509Certificate): CertificateExtensions {
  const der = cert.raw;
  const outer = readTlv(der, 0, der.length);
  const tbs = readTlv(der, outer.start, outer.end);
  const out: CertificateExtensions = {};
  for (const field of children(der, tbs)) {
    if (field.tag !== 0xa3) continue; // [3] EXPLICIT Extensions
    const list = readTlv(der, field.start, field.end);
    for (const extension of children(der, list)) {
      const parts = children(der, extension);
      const oidTlv = parts[0];
      const value = parts[parts.length - 1];
      if (oidTlv?.tag !== 0x06 || value?.tag !== 0x04) throw new CertificateExtensionError('malformed extension');
      const oid = decodeOid(der.subarray(oidTlv.start, oidTlv.end));
      if (oid === OID_BASIC_CONSTRAINTS) out.basicConstraints = readBasicConstraints(der, value);
      else if (oid === OID_KEY_USAGE) out.keyUsage = readKeyUsage(der, value);
      else if (oid === OID_EXT_KEY_USAGE) out.extKeyUsage = readExtKeyUsage(der, value);
    }
  }
  return out;
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

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const tlv = readTlv(der, at, parent.end);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

function readTlv(der: Buffer, offset: number, limit: number): Tlv {
  const tag = byteAt(der, offset, limit);
  let len = byteAt(der, offset + 1, limit);
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new CertificateExtensionError('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + byteAt(der, start + i, limit);
    start += n;
  }
  if (start + len > limit) throw new CertificateExtensionError('DER value runs past its container');
  return { tag, start, end: start + len };
}

function byteAt(der: Buffer, i: number, limit: number): number {
  const b = der[i];
  if (b === undefined || i >= limit) throw new CertificateExtensionError('DER value runs past its container');
  return b;
}

function decodeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
