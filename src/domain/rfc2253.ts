// Distinguished names: Node's X509Certificate.subject → RFC 2253 (the form of certificate_subject_line),
// parsing and validating subject lines, and matching client certificates to mtls_authorized_subjects.
//
// Node prints `subject` with OpenSSL's multiline format: one RDN per line, most significant first, values
// already escaped per RFC 2253 (`\,`, `\#`…, control characters as `\XX`), multi-valued RDNs as `A=x + B=y`,
// non-ASCII as raw UTF-8. subjectToRfc2253 gives what `openssl x509 -nameopt RFC2253,-esc_msb` prints: every
// attribute in reverse order, `,` between RDNs, `+` inside one, OpenSSL's short names (`emailAddress`,
// `serialNumber`), non-ASCII kept as UTF-8 rather than `\C3\A9` (what a person types into a subject line).

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
 * Attribute types a certificate_subject_line may use. `serialNumber` is how OpenSSL (and so
 * subjectToRfc2253) spells SERIALNUMBER; both are accepted so a line copied from `openssl x509` matches.
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
  'SERIALNUMBER',
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

interface ParsedLine {
  attributes: DnAttribute[];
  /** A space directly after a separating `,` or `+` (accepted by the parser, refused in subject lines). */
  spaceAfterSeparator: boolean;
}

function parseLine(line: string): Result<ParsedLine> {
  const fail = (error: string): Result<ParsedLine> => ({ ok: false, error });
  if (line.length === 0) return fail('the subject is empty');
  const attributes: DnAttribute[] = [];
  let spaceAfterSeparator = false;
  let i = 0;
  for (;;) {
    // attributeType "="
    const eq = line.indexOf('=', i);
    if (eq < 0) return fail(`expected "type=value" at position ${i}`);
    const type = line.slice(i, eq);
    if (!ATTRIBUTE_TYPE.test(type)) return fail(`invalid attribute type "${type}" at position ${i}`);
    i = eq + 1;

    // attributeValue
    const out = new ValueBuilder();
    let value: string;
    if (line[i] === '#') {
      const match = /^#(?:[0-9A-Fa-f]{2})+(?=$|[,+])/.exec(line.slice(i));
      if (!match) return fail(`invalid hex string value of ${type}`);
      value = match[0];
      i += value.length;
    } else if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return fail(`unterminated quoted value of ${type}`);
        const ch = line[i] as string;
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\') {
          const r = readEscape(line, i, out);
          if (r < 0) return fail(`invalid escape in the value of ${type} at position ${i}`);
          i = r;
          continue;
        }
        const full = String.fromCodePoint(line.codePointAt(i) ?? 0);
        out.addChar(full);
        i += full.length;
      }
      const decoded = out.decode(true);
      if (decoded === undefined) return fail(`the value of ${type} is not valid UTF-8`);
      value = decoded;
    } else {
      if (line[i] === ' ') return fail(`unescaped leading space in the value of ${type}`);
      let lastWasUnescapedSpace = false;
      while (i < line.length && line[i] !== ',' && line[i] !== '+') {
        const ch = line[i] as string;
        if (ch === '\\') {
          const r = readEscape(line, i, out);
          if (r < 0) return fail(`invalid escape in the value of ${type} at position ${i}`);
          i = r;
          lastWasUnescapedSpace = false;
          continue;
        }
        if (ch === '"' || ch === '<' || ch === '>' || ch === ';') {
          return fail(`unescaped "${ch}" in the value of ${type} at position ${i}`);
        }
        const full = String.fromCodePoint(line.codePointAt(i) ?? 0);
        out.addChar(full);
        lastWasUnescapedSpace = ch === ' ';
        i += full.length;
      }
      if (lastWasUnescapedSpace) return fail(`unescaped trailing space in the value of ${type}`);
      const decoded = out.decode(true);
      if (decoded === undefined) return fail(`the value of ${type} is not valid UTF-8`);
      value = decoded;
    }
    attributes.push({ type, value });

    // separator or end
    if (i >= line.length) break;
    const sep = line[i];
    if (sep !== ',' && sep !== '+') return fail(`expected "," or "+" at position ${i}`);
    i++;
    while (line[i] === ' ') {
      spaceAfterSeparator = true;
      i++;
    }
    if (i >= line.length) return fail(`the subject ends with "${sep}"`);
  }
  return { ok: true, value: { attributes, spaceAfterSeparator } };
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
 * Parses an RFC 2253 distinguished name into its attributes in string order (CN first for a subject line),
 * values unescaped; hex-string values (`#04…`) are returned as written. Multi-valued RDNs (`+`) are
 * flattened. Spaces after a separator are tolerated here (RFC 2253 §4); isValidSubjectLine refuses them.
 */
export function parseRfc2253(line: string): Result<DnAttribute[]> {
  const parsed = parseLine(line);
  return parsed.ok ? { ok: true, value: parsed.value.attributes } : parsed;
}

/** Validates a certificate_subject_line (digest §4.3) and says why it is not valid. */
export function checkSubjectLine(line: string): Result<DnAttribute[]> {
  const parsed = parseLine(line);
  if (!parsed.ok) return parsed;
  const { attributes, spaceAfterSeparator } = parsed.value;
  if (spaceAfterSeparator) return { ok: false, error: 'no spaces are allowed after the commas' };
  if (attributes[0]?.type !== 'CN') return { ok: false, error: 'the first attribute must be CN' };
  for (const { type, value } of attributes) {
    if (!SUBJECT_LINE_ATTRIBUTE_TYPES.has(type)) {
      return {
        ok: false,
        error: `unsupported attribute type "${type}" (use ${[...SUBJECT_LINE_ATTRIBUTE_TYPES].join(', ')})`,
      };
    }
    if (value === '') return { ok: false, error: `the value of ${type} is empty` };
  }
  return { ok: true, value: attributes };
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

/**
 * The DNS names of Node's `X509Certificate.subjectAltName`, e.g. `DNS:a.example.com, IP Address:127.0.0.1`.
 * Node JSON-quotes values holding special characters (`DNS:"x\u002cy"`); those are decoded.
 */
export function sanDnsNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
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
      next = subjectAltName.indexOf(', ', colon + 1);
      value = subjectAltName.slice(colon + 1, next < 0 ? undefined : next);
    }
    if (type === 'DNS' && value !== undefined) names.push(value);
    if (next < 0) break;
    i = next + 2;
  }
  return names;
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
