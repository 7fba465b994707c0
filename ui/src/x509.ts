// Reads X.509 certificates in the browser (the API returns PEM only): a minimal DER reader for what the pages
// show — subject, issuer, SANs, validity, CA flag — and the SHA-256 fingerprint through Web Crypto. Private keys
// are never parsed; splitPem only recognises CERTIFICATE blocks.

export interface DnEntry {
  type: string;
  value: string;
}

export interface CertificateInfo {
  /** RDNs in certificate order (most significant, e.g. C, first). */
  subjectRdns: DnEntry[][];
  subject: string;
  issuer: string;
  sans: string[];
  notBefore: Date;
  notAfter: Date;
  serial: string;
  isCa: boolean;
  der: Uint8Array;
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

class DerReader {
  constructor(private readonly bytes: Uint8Array) {}

  read(offset: number, limit = this.bytes.length): Tlv {
    const tag = this.byte(offset, limit);
    let length = this.byte(offset + 1, limit);
    let start = offset + 2;
    if (length & 0x80) {
      const width = length & 0x7f;
      if (width === 0 || width > 4) throw new Error('unsupported DER length');
      length = 0;
      for (let i = 0; i < width; i += 1) length = length * 256 + this.byte(start + i, limit);
      start += width;
    }
    const end = start + length;
    if (end > limit) throw new Error('truncated DER');
    return { tag, start, end };
  }

  children(parent: Tlv): Tlv[] {
    const result: Tlv[] = [];
    let offset = parent.start;
    while (offset < parent.end) {
      const child = this.read(offset, parent.end);
      result.push(child);
      offset = child.end;
    }
    return result;
  }

  slice(tlv: Tlv): Uint8Array {
    return this.bytes.subarray(tlv.start, tlv.end);
  }

  private byte(offset: number, limit: number): number {
    if (offset >= limit) throw new Error('truncated DER');
    return this.bytes[offset] as number;
  }
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function decodeString(tag: number, bytes: Uint8Array): string {
  switch (tag) {
    case 0x1e: {
      let text = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) text += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
      return text;
    }
    case 0x14:
      return Array.from(bytes, (b) => String.fromCharCode(b)).join('');
    default:
      return new TextDecoder().decode(bytes);
  }
}

function readName(reader: DerReader, name: Tlv): DnEntry[][] {
  return reader.children(name).map((set) =>
    reader.children(set).map((pair) => {
      const [oid, value] = reader.children(pair);
      if (!oid || !value) throw new Error('bad name');
      const dotted = decodeOid(reader.slice(oid));
      return { type: ATTRIBUTE_NAMES[dotted] ?? dotted, value: decodeString(value.tag, reader.slice(value)) };
    }),
  );
}

function readTime(reader: DerReader, tlv: Tlv): Date {
  const text = new TextDecoder().decode(reader.slice(tlv));
  const match = (tlv.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/).exec(text);
  if (!match) throw new Error(`bad time ${text}`);
  let year = Number(match[1]);
  if (tlv.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6])));
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return groups.join(':');
}

/** RFC 2253 escaping of one attribute value (as OpenSSL prints it). */
export function escapeDnValue(value: string): string {
  let escaped = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && escaped.length > 1) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/** RFC 2253 form: most specific RDN (CN) first, `,` between RDNs, `+` inside one. */
export function rfc2253(rdns: readonly (readonly DnEntry[])[]): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${escapeDnValue(a.value)}`).join('+'))
    .join(',');
}

export function parseCertificate(der: Uint8Array): CertificateInfo {
  const reader = new DerReader(der);
  const certificate = reader.read(0);
  const [tbs] = reader.children(certificate);
  if (!tbs) throw new Error('not a certificate');
  const fields = reader.children(tbs);
  let index = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = fields[index++];
  index++; // signature algorithm
  const issuer = fields[index++];
  const validity = fields[index++];
  const subject = fields[index++];
  index++; // subject public key info
  if (!serial || !issuer || !validity || !subject) throw new Error('not a certificate');
  const [notBefore, notAfter] = reader.children(validity);
  if (!notBefore || !notAfter) throw new Error('bad validity');
  const sans: string[] = [];
  let isCa = false;
  const extensionsWrapper = fields.slice(index).find((f) => f.tag === 0xa3);
  if (extensionsWrapper) {
    const [extensions] = reader.children(extensionsWrapper);
    for (const extension of extensions ? reader.children(extensions) : []) {
      const parts = reader.children(extension);
      const oid = parts[0] ? decodeOid(reader.slice(parts[0])) : '';
      const octets = parts[parts.length - 1];
      if (!octets) continue;
      const inner = new DerReader(reader.slice(octets));
      const value = inner.read(0);
      if (oid === '2.5.29.17') {
        for (const name of inner.children(value)) {
          const bytes = inner.slice(name);
          if (name.tag === 0x82) sans.push(`DNS:${new TextDecoder().decode(bytes)}`);
          else if (name.tag === 0x87) sans.push(`IP:${ipText(bytes)}`);
          else if (name.tag === 0x81) sans.push(`email:${new TextDecoder().decode(bytes)}`);
          else if (name.tag === 0x86) sans.push(`URI:${new TextDecoder().decode(bytes)}`);
        }
      } else if (oid === '2.5.29.19') {
        const [first] = inner.children(value);
        isCa = first?.tag === 0x01 && inner.slice(first)[0] !== 0;
      }
    }
  }
  const serialBytes = reader.slice(serial);
  const subjectRdns = readName(reader, subject);
  return {
    subjectRdns,
    subject: rfc2253(subjectRdns),
    issuer: rfc2253(readName(reader, issuer)),
    sans,
    notBefore: readTime(reader, notBefore),
    notAfter: readTime(reader, notAfter),
    serial: Array.from(serialBytes, (b) => b.toString(16).padStart(2, '0')).join(':').toUpperCase(),
    isCa,
    der: der.subarray(0, certificate.end),
  };
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** The DER of every CERTIFICATE block of a PEM text (other blocks are ignored). */
export function splitPem(pem: string): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (const match of pem.matchAll(CERTIFICATE_BLOCK)) {
    const binary = atob((match[1] ?? '').replace(/\s+/g, ''));
    result.push(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
  return result;
}

/** The certificates of a PEM text, leaf first; throws when one cannot be read. */
export function parsePem(pem: string): CertificateInfo[] {
  return splitPem(pem).map(parseCertificate);
}

export async function fingerprint(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** Whole days until notAfter (rounded down, so 0 on the last day); negative once expired. */
export function daysLeft(notAfter: Date, now = Date.now()): number {
  return Math.floor((notAfter.getTime() - now) / 86_400_000);
}

/** "12 days left", "expires today", or "expired 3 days ago". */
export function remainingText(notAfter: Date, now = Date.now()): string {
  const plural = (n: number): string => `${n} ${n === 1 ? 'day' : 'days'}`;
  if (notAfter.getTime() < now) {
    const ago = Math.floor((now - notAfter.getTime()) / 86_400_000);
    return ago === 0 ? 'expired today' : `expired ${plural(ago)} ago`;
  }
  const left = daysLeft(notAfter, now);
  return left === 0 ? 'expires today' : `${plural(left)} left`;
}

const CANONICAL_TYPES = new Map(Object.values(ATTRIBUTE_NAMES).map((name) => [name.toUpperCase(), name]));
CANONICAL_TYPES.set('E', 'emailAddress');
CANONICAL_TYPES.set('EMAIL', 'emailAddress');

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      current += c + (text[i + 1] as string);
      i += 1;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeValue(value: string): string {
  return value.replace(/\\([0-9A-Fa-f]{2}|.)/g, (_, escaped: string) => (escaped.length === 2 ? String.fromCharCode(Number.parseInt(escaped, 16)) : escaped));
}

/**
 * The comparable form of a subject line as a person types it (`CN=alice, OU=Eng, O=Acme`): spaces around
 * separators dropped, attribute names in their canonical case, values re-escaped, multi-valued RDNs sorted.
 * Undefined when it is not `TYPE=value` pairs. The server's check (checkSubjectLine) stays authoritative.
 */
export function comparableSubjectLine(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  const rdns: string[] = [];
  for (const rdn of splitUnescaped(line, ',')) {
    const entries: string[] = [];
    for (const pair of splitUnescaped(rdn, '+')) {
      const equals = pair.indexOf('=');
      if (equals <= 0) return undefined;
      const type = pair.slice(0, equals).trim();
      const canonical = CANONICAL_TYPES.get(type.toUpperCase()) ?? type;
      entries.push(`${canonical}=${escapeDnValue(unescapeValue(pair.slice(equals + 1).trim()))}`);
    }
    rdns.push(entries.sort().join('+'));
  }
  return rdns.join(',');
}

/** The comparable form of a certificate's subject (CN first), matching comparableSubjectLine. */
export function comparableCertificateSubject(info: CertificateInfo): string {
  return [...info.subjectRdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${escapeDnValue(a.value)}`).sort().join('+'))
    .join(',');
}
