// Distinguished names: Node's X509Certificate.subject → RFC 2253 (the form of certificate_subject_line),
// parsing and validating subject lines, and matching client certificates to mtls_authorized_subjects.
//
// Node prints `subject` with OpenSSL's multiline format: one RDN per line, most significant first, values
// already escaped per RFC 2253 (`\,`, `\#`…, control characters as `\XX`), multi-valued RDNs as `A=x + B=y`,
// non-ASCII as raw UTF-8. subjectToRfc2253 gives what `openssl x509 -nameopt RFC2253,-esc_msb` prints: every
// attribute in reverse order, `,` between RDNs, `+` inside one, OpenSSL's short names (`emailAddress`,
// `serialNumber`), non-ASCII kept as UTF-8 rather than `\C3\A9` (what a person types into a subject line).
//
// Subject lines are written by people (`CN=alice, OU=Eng, O=Acme`): checkSubjectLine accepts spaces around
// separators and `=`, any case of attribute names, escapes and hex pairs, and gives one canonical form
// (canonicalSubject). Certificates go through the same function (canonicalCertificateSubject), so every
// comparison of a subject line with a certificate or another line compares canonical forms.

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface DnAttribute {
  type: string;
  value: string;
}

/** Subject attributes relevant to `full_subject` validation. Single-valued ones take the most specific value. */
export interface SubjectAttributes {
  CN?: string;
  O?: string;
  OU: string[];
  L?: string;
  ST?: string;
  C?: string;
}

export type SubjectValidationType = 'disabled' | 'san_cn' | 'full_subject';

/** One entry of the cluster's `mtls_authorized_subjects` (digest §4.2). */
export interface AuthorizedSubject {
  CN: string;
  O?: string;
  OU?: string[];
  L?: string;
  ST?: string;
  C?: string;
}

/**
 * Attribute types a certificate_subject_line may use, spelled as OpenSSL (and so subjectToRfc2253) prints
 * them. Lines may spell them in any case (`cn`, `SERIALNUMBER`); canonicalAttributeType maps them here.
 */
export const SUBJECT_LINE_ATTRIBUTE_TYPES: ReadonlySet<string> = new Set([
  'CN',
  'OU',
  'O',
  'L',
  'ST',
  'C',
  'emailAddress',
  'DC',
  'serialNumber',
  'UID',
]);

const ESCAPED_ANYWHERE = new Set([',', '+', '"', '\\', '<', '>', ';']);
/** Characters that may follow a backslash as themselves (RFC 2253 `pair`, plus `=` as RFC 4514 allows). */
const PAIR_CHARS = new Set([',', '=', '+', '<', '>', '#', ';', '\\', '"', ' ']);
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;

const utf8 = new TextEncoder();

function hex2(code: number): string {
  return code.toString(16).toUpperCase().padStart(2, '0');
}

/** Escapes one attribute value the way RFC 2253 §2.4 (and OpenSSL's ESC_2253 | ESC_CTRL) does. */
export function escapeRfc2253Value(value: string): string {
  const chars = [...value];
  return chars
    .map((ch, i) => {
      const code = ch.codePointAt(0) ?? 0;
      if (ESCAPED_ANYWHERE.has(ch)) return `\\${ch}`;
      if (code < 0x20 || code === 0x7f) return `\\${hex2(code)}`;
      if (i === 0 && (ch === '#' || ch === ' ')) return `\\${ch}`;
      if (i === chars.length - 1 && ch === ' ') return '\\ ';
      return ch;
    })
    .join('');
}

/** Collects a value's bytes (escapes may spell single UTF-8 bytes as `\XX`) and decodes them once at the end. */
class ValueBuilder {
  private readonly bytes: number[] = [];
  addChar(ch: string): void {
    for (const b of utf8.encode(ch)) this.bytes.push(b);
  }
  addByte(b: number): void {
    this.bytes.push(b);
  }
  decode(fatal: boolean): string | undefined {
    try {
      return new TextDecoder('utf-8', { fatal }).decode(new Uint8Array(this.bytes));
    } catch {
      return undefined;
    }
  }
}

/** Splits Node's multiline subject into RDNs (most significant first), each a list of unescaped entries. */
function parseNodeSubject(subject: string): DnAttribute[][] {
  const rdns: DnAttribute[][] = [];
  for (const line of subject.split('\n')) {
    if (line === '') continue;
    const entries: DnAttribute[] = [];
    // Entries of a multi-valued RDN are joined by ` + `; a literal `+` in a value is always escaped.
    let start = 0;
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\\') {
        i++;
        continue;
      }
      if (line[i] === '+') {
        entries.push(parseNodeEntry(line.slice(start, i).replace(/ $/, '')));
        start = line[i + 1] === ' ' ? i + 2 : i + 1;
      }
    }
    entries.push(parseNodeEntry(line.slice(start)));
    rdns.push(entries);
  }
  return rdns;
}

function parseNodeEntry(entry: string): DnAttribute {
  const eq = entry.indexOf('=');
  if (eq < 0) return { type: entry, value: '' };
  const type = entry.slice(0, eq);
  const raw = entry.slice(eq + 1);
  const out = new ValueBuilder();
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\\' && i + 1 < raw.length) {
      const pair = raw.slice(i + 1, i + 3);
      if (HEX_PAIR.test(pair)) {
        out.addByte(Number.parseInt(pair, 16));
        i += 2;
      } else {
        out.addChar(raw[i + 1] as string);
        i += 1;
      }
      continue;
    }
    // Iterate by UTF-16 unit; surrogate pairs re-encode correctly only as a whole code point.
    const cp = raw.codePointAt(i) ?? 0;
    const full = String.fromCodePoint(cp);
    out.addChar(full);
    i += full.length - 1;
  }
  return { type, value: out.decode(false) ?? '' };
}

/** Converts Node's `X509Certificate.subject` (or `.issuer`) to its RFC 2253 string: CN first, no spaces. */
export function subjectToRfc2253(subject: string): string {
  const rdns = parseNodeSubject(subject);
  return rdns
    .map((rdn) => rdn.map((a) => `${a.type}=${escapeRfc2253Value(a.value)}`).reverse().join('+'))
    .reverse()
    .join(',');
}

/** Longest certificate_subject_line accepted (the request schema has the same bound). */
export const MAX_SUBJECT_LINE_LENGTH = 4096;
/** Most attributes (over all RDNs) a subject line may hold; real certificate subjects have far fewer. */
export const MAX_SUBJECT_LINE_ATTRIBUTES = 64;

/** The form the reference's certificate-user page shows; quoted in every refusal. */
export const SUBJECT_LINE_TEMPLATE =
  'CN=<Common Name>, OU=<Organization Unit>, O=<Organization>, L=<Locality>, ST=<State/Province>, C=<Country>';

/** How much of a line a parse examined (characters), so tests bound the work on huge input by count. */
export interface SubjectParseStats {
  scanned: number;
}

/** A valid certificate_subject_line, understood. */
export interface SubjectLine {
  /** RDNs CN first, each a list of attributes with canonical type names and unescaped values. */
  rdns: DnAttribute[][];
  /** The one form every comparison uses (canonicalSubject). */
  canonical: string;
  /** The value of the CN of the first RDN. */
  cn: string;
}

/** C0 and C1 control characters, DEL, and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A UTF-16 surrogate not part of a pair (JSON allows `"\ud800"`); it has no UTF-8 form and can never match. */
const LONE_SURROGATE = /\p{Cs}/u;
const TYPE_CHAR = /[A-Za-z0-9.-]/;
const CANONICAL_TYPE = new Map([...SUBJECT_LINE_ATTRIBUTE_TYPES].map((t) => [t.toUpperCase(), t]));

function codePointLabel(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The canonical spelling of an attribute type (case-insensitive: `cn` → `CN`, `SERIALNUMBER` → `serialNumber`). */
export function canonicalAttributeType(type: string): string | undefined {
  return CANONICAL_TYPE.get(type.toUpperCase());
}

/**
 * Decodes a hex-string value (`#0C03616263`): the BER encoding of a UTF8String, PrintableString, IA5String or
 * BMPString becomes its text, so `CN=#0C03616263` and `CN=abc` are one name. Anything else is undefined.
 */
function decodeBerString(hex: string): string | undefined {
  const bytes = Buffer.from(hex, 'hex');
  const tag = bytes[0];
  let length = bytes[1];
  let offset = 2;
  if (tag === undefined || length === undefined) return undefined;
  if (length === 0x81 || length === 0x82) {
    const width = length - 0x80;
    if (bytes.length < 2 + width) return undefined;
    length = width === 1 ? (bytes[2] ?? 0) : bytes.readUInt16BE(2);
    offset += width;
  } else if (length > 0x7f) {
    return undefined;
  }
  if (bytes.length !== offset + length) return undefined;
  const content = bytes.subarray(offset);
  try {
    switch (tag) {
      case 0x0c:
        return new TextDecoder('utf-8', { fatal: true }).decode(content);
      case 0x13:
      case 0x16:
        return content.every((b) => b < 0x80) ? content.toString('latin1') : undefined;
      case 0x1e:
        return length % 2 === 0 ? new TextDecoder('utf-16be', { fatal: true }).decode(content) : undefined;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * One forward pass over a subject line (RFC 4514 / 2253 syntax, leniently spaced): `type=value` entries,
 * `,` between RDNs, `+` inside one. Spaces around `,`, `+` and `=` and at either end are not part of a value;
 * escaped characters (`\,` `\+` `\"` `\ `, hex pairs such as `\2C`) are. Never goes back, stops at the first
 * error or after MAX_SUBJECT_LINE_ATTRIBUTES entries.
 */
class SubjectLineParser {
  pos = 0;
  constructor(private readonly line: string) {}

  parse(): Result<DnAttribute[][]> {
    const line = this.line;
    const fail = (error: string): Result<DnAttribute[][]> => ({ ok: false, error });
    const rdns: DnAttribute[][] = [];
    let rdn: DnAttribute[] = [];
    let count = 0;
    this.skipSpaces();
    if (this.pos >= line.length) return fail('the subject is empty');
    for (;;) {
      count++;
      if (count > MAX_SUBJECT_LINE_ATTRIBUTES) return fail(`the subject has more than ${MAX_SUBJECT_LINE_ATTRIBUTES} attributes`);
      const typeStart = this.pos;
      while (this.pos < line.length && TYPE_CHAR.test(line[this.pos] as string)) this.pos++;
      const type = line.slice(typeStart, this.pos);
      this.skipSpaces();
      if (type === '') return fail(`expected an attribute type such as CN at position ${this.pos}`);
      if (line[this.pos] !== '=') {
        return fail(`expected "=" after the attribute type "${type}" at position ${this.pos} (each attribute is type=value)`);
      }
      if (!ATTRIBUTE_TYPE.test(type)) return fail(`invalid attribute type "${type}" at position ${typeStart}`);
      this.pos++;
      this.skipSpaces();
      const value = this.readValue(type);
      if (!value.ok) return value;
      rdn.push({ type, value: value.value });

      if (this.pos >= line.length) break;
      const sep = line[this.pos] as string;
      if (sep !== ',' && sep !== '+') return fail(`expected "," or "+" at position ${this.pos}`);
      this.pos++;
      if (sep === ',') {
        rdns.push(rdn);
        rdn = [];
      }
      this.skipSpaces();
      if (this.pos >= line.length) return fail(`the subject ends with "${sep}"`);
    }
    rdns.push(rdn);
    return { ok: true, value: rdns };
  }

  private skipSpaces(): void {
    while (this.line[this.pos] === ' ') this.pos++;
  }

  private readValue(type: string): Result<string> {
    const line = this.line;
    const fail = (error: string): Result<string> => ({ ok: false, error });
    const out = new ValueBuilder();
    if (line[this.pos] === '#') {
      const start = this.pos + 1;
      let end = start;
      while (end < line.length && HEX_DIGIT.test(line[end] as string)) end++;
      const hex = line.slice(start, end);
      this.pos = end;
      if (hex.length === 0 || hex.length % 2 !== 0) return fail(`invalid hex string value of ${type}`);
      const decoded = decodeBerString(hex);
      if (decoded === undefined) return fail(`the hex string value of ${type} is not a BER-encoded text string; write the text instead`);
      this.skipSpaces();
      return { ok: true, value: decoded };
    }
    if (line[this.pos] === '"') {
      this.pos++;
      for (;;) {
        if (this.pos >= line.length) return fail(`unterminated quoted value of ${type}`);
        const ch = line[this.pos] as string;
        if (ch === '"') {
          this.pos++;
          break;
        }
        if (ch === '\\') {
          const next = readEscape(line, this.pos, out);
          if (next < 0) return fail(`invalid escape in the value of ${type} at position ${this.pos}`);
          this.pos = next;
          continue;
        }
        const full = String.fromCodePoint(line.codePointAt(this.pos) ?? 0);
        out.addChar(full);
        this.pos += full.length;
      }
      this.skipSpaces();
    } else {
      // Unescaped spaces are held back: kept when more of the value follows, dropped before a separator.
      let pendingSpaces = 0;
      const flush = (): void => {
        for (; pendingSpaces > 0; pendingSpaces--) out.addChar(' ');
      };
      while (this.pos < line.length && line[this.pos] !== ',' && line[this.pos] !== '+') {
        const ch = line[this.pos] as string;
        if (ch === ' ') {
          pendingSpaces++;
          this.pos++;
          continue;
        }
        flush();
        if (ch === '\\') {
          const next = readEscape(line, this.pos, out);
          if (next < 0) return fail(`invalid escape in the value of ${type} at position ${this.pos}`);
          this.pos = next;
          continue;
        }
        if (ch === '"' || ch === '<' || ch === '>' || ch === ';') {
          return fail(`unescaped "${ch}" in the value of ${type} at position ${this.pos} (write \\${ch})`);
        }
        const full = String.fromCodePoint(line.codePointAt(this.pos) ?? 0);
        out.addChar(full);
        this.pos += full.length;
      }
    }
    const decoded = out.decode(true);
    if (decoded === undefined) return fail(`the value of ${type} is not valid UTF-8`);
    return { ok: true, value: decoded };
  }
}

const HEX_DIGIT = /[0-9A-Fa-f]/;

/**
 * Parses a subject line into RDNs in string order (CN first for a subject line), values unescaped, types as
 * written. Syntax only: checkSubjectLine adds the rules of certificate_subject_line.
 */
export function parseSubjectLine(line: string, stats?: SubjectParseStats): Result<DnAttribute[][]> {
  const parser = new SubjectLineParser(line);
  const result = parser.parse();
  if (stats) stats.scanned = parser.pos;
  return result;
}

/** Reads the escape at line[i] (a backslash) into out; returns the next index, or -1 when invalid. */
function readEscape(line: string, i: number, out: ValueBuilder): number {
  const pair = line.slice(i + 1, i + 3);
  if (HEX_PAIR.test(pair)) {
    out.addByte(Number.parseInt(pair, 16));
    return i + 3;
  }
  const next = line[i + 1];
  if (next !== undefined && PAIR_CHARS.has(next)) {
    out.addChar(next);
    return i + 2;
  }
  return -1;
}

/**
 * Parses an RFC 2253 distinguished name into its attributes in string order, values unescaped, multi-valued
 * RDNs flattened. Spaces around separators and `=` are tolerated.
 */
export function parseRfc2253(line: string): Result<DnAttribute[]> {
  const parsed = parseSubjectLine(line);
  return parsed.ok ? { ok: true, value: parsed.value.flat() } : parsed;
}

/**
 * The canonical RFC 2253 form of RDNs given CN first: canonical type names, values escaped as OpenSSL does
 * (escapeRfc2253Value), the entries of a multi-valued RDN sorted, no spaces. Two spellings of one name give
 * one string; every subject comparison (user uniqueness, API login, database login) compares these.
 */
export function canonicalSubject(rdns: readonly (readonly DnAttribute[])[]): string {
  return rdns
    .map((rdn) =>
      rdn
        .map((a) => `${canonicalAttributeType(a.type) ?? a.type}=${escapeRfc2253Value(a.value)}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

/** The canonical form of a client certificate's subject (Node's `X509Certificate.subject`). */
export function canonicalCertificateSubject(subject: string): string {
  return canonicalSubject(parseNodeSubject(subject).reverse());
}

/** The canonical form of a valid subject line; undefined when the line is not valid. */
export function canonicalSubjectLine(line: string): string | undefined {
  const checked = checkSubjectLine(line);
  return checked.ok ? checked.value.canonical : undefined;
}

function renderSpaced(rdns: readonly (readonly DnAttribute[])[]): string {
  return rdns.map((rdn) => rdn.map((a) => `${a.type}=${escapeRfc2253Value(a.value)}`).join('+')).join(', ');
}

/**
 * Validates a certificate_subject_line and says exactly why it is not valid. Bounded before any parsing
 * (length), then in one pass (control characters), then while parsing (attribute count).
 */
export function checkSubjectLine(line: string, stats?: SubjectParseStats): Result<SubjectLine> {
  const fail = (error: string): Result<SubjectLine> => ({ ok: false, error });
  if (stats) stats.scanned = 0;
  if (line.length > MAX_SUBJECT_LINE_LENGTH) {
    return fail(`the subject line is ${line.length} characters long; at most ${MAX_SUBJECT_LINE_LENGTH} are allowed`);
  }
  const control = CONTROL_CHARACTER.exec(line);
  if (control) {
    return fail(`control character ${codePointLabel(control[0])} at position ${control.index} (a subject line is one line of printable text)`);
  }
  const surrogate = LONE_SURROGATE.exec(line);
  if (surrogate) return fail(`unpaired UTF-16 surrogate ${codePointLabel(surrogate[0])} at position ${surrogate.index} (not a character)`);
  const parsed = parseSubjectLine(line, stats);
  if (!parsed.ok) return parsed;
  const rdns: DnAttribute[][] = [];
  for (const rdn of parsed.value) {
    const entries: DnAttribute[] = [];
    for (const { type, value } of rdn) {
      const canonicalType = canonicalAttributeType(type);
      if (canonicalType === undefined) {
        return fail(`unknown attribute type "${type}" (use ${[...SUBJECT_LINE_ATTRIBUTE_TYPES].join(', ')})`);
      }
      if (value === '') return fail(`the value of ${type} is empty`);
      const hidden = CONTROL_CHARACTER.exec(value);
      if (hidden) return fail(`the value of ${type} holds the control character ${codePointLabel(hidden[0])}`);
      entries.push({ type: canonicalType, value });
    }
    rdns.push(entries);
  }
  const hasCn = (rdn: readonly DnAttribute[] | undefined): boolean => rdn?.some((a) => a.type === 'CN') ?? false;
  if (!hasCn(rdns[0])) {
    if (rdns.length > 1 && hasCn(rdns[rdns.length - 1])) {
      return fail(
        `the attributes are in forward order (CN last); a subject line lists them most specific first: "${renderSpaced([...rdns].reverse())}"`,
      );
    }
    return fail('the first attribute must be CN');
  }
  const cn = (rdns[0] as DnAttribute[]).find((a) => a.type === 'CN')?.value as string;
  return { ok: true, value: { rdns, canonical: canonicalSubject(rdns), cn } };
}

export function isValidSubjectLine(line: string): boolean {
  return checkSubjectLine(line).ok;
}

/** The CN, O, OU (all of them), L, ST and C of Node's `X509Certificate.subject`, unescaped. */
export function subjectAttributes(subject: string): SubjectAttributes {
  const result: SubjectAttributes = { OU: [] };
  for (const { type, value } of parseNodeSubject(subject).flat()) {
    switch (type) {
      case 'OU':
        result.OU.push(value);
        break;
      case 'CN':
      case 'O':
      case 'L':
      case 'ST':
      case 'C':
        // Later lines are more specific (Node lists the most significant RDN first).
        result[type] = value;
        break;
      default:
        break;
    }
  }
  return result;
}

/** The DNS names of Node's `X509Certificate.subjectAltName`, e.g. `DNS:a.example.com, IP Address:127.0.0.1`. */
export function sanDnsNames(subjectAltName: string | undefined): string[] {
  return sanEntries(subjectAltName)
    .filter((entry) => entry.type === 'DNS')
    .map((entry) => entry.value);
}

/**
 * The entries of Node's `X509Certificate.subjectAltName` (`DNS:a, IP Address:127.0.0.1`); values holding
 * special characters come JSON-quoted (`DNS:"x\u002cy"`) and are decoded.
 */
export function sanEntries(subjectAltName: string | undefined): Array<{ type: string; value: string }> {
  if (!subjectAltName) return [];
  const out: Array<{ type: string; value: string }> = [];
  let i = 0;
  while (i < subjectAltName.length) {
    const colon = subjectAltName.indexOf(':', i);
    if (colon < 0) break;
    const type = subjectAltName.slice(i, colon);
    let value: string | undefined;
    let next: number;
    if (subjectAltName[colon + 1] === '"') {
      let j = colon + 2;
      while (j < subjectAltName.length && subjectAltName[j] !== '"') j += subjectAltName[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(subjectAltName.slice(colon + 1, j + 1)) as string;
      } catch {
        value = undefined;
      }
      next = subjectAltName.indexOf(', ', j + 1);
    } else {
      // An IPv6 value holds colons, but never ", ".
      next = subjectAltName.indexOf(', ', colon + 1);
      value = subjectAltName.slice(colon + 1, next < 0 ? undefined : next);
    }
    if (value !== undefined) out.push({ type, value });
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

function isSpecified(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((v) => sb.has(v));
}

function matchesFullSubject(attrs: SubjectAttributes, entry: AuthorizedSubject): boolean {
  if (attrs.CN !== entry.CN) return false;
  for (const key of ['O', 'L', 'ST', 'C'] as const) {
    if (isSpecified(entry[key]) && attrs[key] !== entry[key]) return false;
  }
  if (entry.OU !== undefined && entry.OU.length > 0 && !sameSet(attrs.OU, entry.OU)) return false;
  return true;
}

/**
 * Whether a client certificate passes the cluster's subject validation (DESIGN.md, digest §4.2), after its
 * chain has been verified against mtls_trusted_ca:
 * - `disabled`: always.
 * - `san_cn`: a subject CN or a SAN DNS name equals the CN of some entry.
 * - `full_subject`: some entry whose every given attribute equals the certificate's (CN always; O, L, ST, C
 *   when given and non-empty; OU, when given and non-empty, as a set). Case-sensitive.
 * An unknown validation type matches nothing.
 */
export function matchesAuthorizedSubjects(
  cert: { subject: string; subjectAltName?: string | undefined },
  type: SubjectValidationType,
  authorized: readonly AuthorizedSubject[],
): boolean {
  switch (type) {
    case 'disabled':
      return true;
    case 'san_cn': {
      const names = new Set([
        ...parseNodeSubject(cert.subject)
          .flat()
          .filter((a) => a.type === 'CN')
          .map((a) => a.value),
        ...sanDnsNames(cert.subjectAltName),
      ]);
      return authorized.some((entry) => names.has(entry.CN));
    }
    case 'full_subject': {
      const attrs = subjectAttributes(cert.subject);
      return authorized.some((entry) => matchesFullSubject(attrs, entry));
    }
    default:
      return false;
  }
}
