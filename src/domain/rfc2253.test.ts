import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  canonicalCertificateSubject,
  canonicalSubjectLine,
  checkSubjectLine,
  escapeRfc2253Value,
  MAX_SUBJECT_LINE_ATTRIBUTES,
  MAX_SUBJECT_LINE_LENGTH,
  parseSubjectLine,
  isValidSubjectLine,
  matchesAuthorizedSubjects,
  parseRfc2253,
  sanDnsNames,
  subjectAttributes,
  subjectToRfc2253,
} from './rfc2253.js';

let dir: string;

/** A self-signed certificate made by openssl with the given -subj (and extra args), read by Node. */
function makeCert(name: string, subj: string, extra: string[] = []): { cert: X509Certificate; file: string } {
  const file = path.join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', file,
      '-days', '1', '-utf8', '-subj', subj, ...extra],
    { stdio: 'pipe' },
  );
  return { cert: new X509Certificate(readFileSync(file)), file };
}

function opensslRfc2253(file: string): string {
  const out = execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'], {
    encoding: 'utf8',
  });
  return out.trim().replace(/^subject=/, '');
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'certplane-rfc2253-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('subjectToRfc2253 on real certificates', () => {
  it('turns an openssl-made subject into CN-first, comma-separated RFC 2253 without spaces', () => {
    const { cert, file } = makeCert('alice', '/C=US/ST=CA/L=SF/O=Acme/OU=Eng/CN=alice');
    expect(cert.subject).toBe('C=US\nST=CA\nL=SF\nO=Acme\nOU=Eng\nCN=alice');
    const line = subjectToRfc2253(cert.subject);
    expect(line).toBe('CN=alice,OU=Eng,O=Acme,L=SF,ST=CA,C=US');
    expect(line).toBe(opensslRfc2253(file));
    expect(isValidSubjectLine(line)).toBe(true);
  });

  it('keeps several OUs, most specific first, like openssl', () => {
    const { cert, file } = makeCert('ous', '/C=US/O=Acme/OU=Eng/OU=Platform/CN=bob');
    const line = subjectToRfc2253(cert.subject);
    expect(line).toBe('CN=bob,OU=Platform,OU=Eng,O=Acme,C=US');
    expect(line).toBe(opensslRfc2253(file));
    expect(subjectAttributes(cert.subject).OU).toEqual(['Eng', 'Platform']);
  });

  it('escapes special characters, multi-valued RDNs and non-ASCII exactly as openssl -nameopt RFC2253', () => {
    const { cert, file } = makeCert(
      'special',
      '/C=US/O=Acme\\, Inc+UID=u1/OU= lead#x;<>"q\\\\z /CN=#al=ice é',
      ['-multivalue-rdn'],
    );
    const line = subjectToRfc2253(cert.subject);
    expect(line).toBe(opensslRfc2253(file));
    expect(line).toBe('CN=\\#al=ice é,OU=\\ lead#x\\;\\<\\>\\"q\\\\z\\ ,UID=u1+O=Acme\\, Inc,C=US');
    const parsed = parseRfc2253(line);
    expect(parsed).toEqual({
      ok: true,
      value: [
        { type: 'CN', value: '#al=ice é' },
        { type: 'OU', value: ' lead#x;<>"q\\z ' },
        { type: 'UID', value: 'u1' },
        { type: 'O', value: 'Acme, Inc' },
        { type: 'C', value: 'US' },
      ],
    });
    expect(subjectAttributes(cert.subject)).toEqual({ CN: '#al=ice é', O: 'Acme, Inc', OU: [' lead#x;<>"q\\z '], C: 'US' });
  });
});

describe('subjectToRfc2253 on Node subject strings', () => {
  it('re-escapes control characters Node prints as \\XX', () => {
    expect(subjectToRfc2253('O=a\\0Ab\nCN=x')).toBe('CN=x,O=a\\0Ab');
  });

  it('decodes \\XX escapes that spell UTF-8 bytes', () => {
    expect(subjectToRfc2253('CN=\\C3\\A9t\\C3\\A9')).toBe('CN=été');
  });

  it('keeps OpenSSL short names such as emailAddress and serialNumber', () => {
    expect(subjectToRfc2253('DC=com\nemailAddress=a@b.c\nserialNumber=12\nCN=a\\,b')).toBe(
      'CN=a\\,b,serialNumber=12,emailAddress=a@b.c,DC=com',
    );
  });

  it('returns an empty string for an empty subject', () => {
    expect(subjectToRfc2253('')).toBe('');
  });
});

describe('escapeRfc2253Value', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', 'a\\,b'],
    ['a+b', 'a\\+b'],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['<tag>', '\\<tag\\>'],
    ['a;b', 'a\\;b'],
    ['#lead', '\\#lead'],
    ['mid#dle', 'mid#dle'],
    [' lead', '\\ lead'],
    ['trail ', 'trail\\ '],
    [' ', '\\ '],
    ['in side', 'in side'],
    ['a=b', 'a=b'],
    ['line\nbreak', 'line\\0Abreak'],
    ['é', 'é'],
  ])('escapes %j as %j', (value, escaped) => {
    expect(escapeRfc2253Value(value)).toBe(escaped);
    const parsed = parseRfc2253(`CN=${escaped}`);
    expect(parsed).toEqual({ ok: true, value: [{ type: 'CN', value }] });
  });
});

describe('parseRfc2253', () => {
  it('parses attributes in string order', () => {
    expect(parseRfc2253('CN=alice,OU=Eng,O=Acme')).toEqual({
      ok: true,
      value: [
        { type: 'CN', value: 'alice' },
        { type: 'OU', value: 'Eng' },
        { type: 'O', value: 'Acme' },
      ],
    });
  });

  it('accepts hex escapes, quoted values, hex-string values (decoded) and "+" multi-valued RDNs', () => {
    expect(parseRfc2253('CN=\\C3\\A9,O="Acme, Inc",UID=#0C024869+DC=x')).toEqual({
      ok: true,
      value: [
        { type: 'CN', value: 'é' },
        { type: 'O', value: 'Acme, Inc' },
        { type: 'UID', value: 'Hi' },
        { type: 'DC', value: 'x' },
      ],
    });
  });

  it('takes spaces around separators and "=" as layout, escaped and inner spaces as part of the value', () => {
    expect(parseSubjectLine('  CN = alice  smith , OU=Eng +UID = u1,O=\\ Acme\\  ')).toEqual({
      ok: true,
      value: [[{ type: 'CN', value: 'alice  smith' }], [{ type: 'OU', value: 'Eng' }, { type: 'UID', value: 'u1' }], [{ type: 'O', value: ' Acme ' }]],
    });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['CN', 'attribute type "CN"'],
    ['CN=a,', 'ends with ","'],
    ['CN=a, ', 'ends with ","'],
    ['CN=a+', 'ends with "+"'],
    ['CN=a,,O=b', 'attribute type such as CN'],
    ['C N=a', 'attribute type "C"'],
    ['CN=a;O=b', 'unescaped ";"'],
    ['CN=a<b', 'unescaped "<"'],
    ['CN=a"b', 'unescaped """'],
    ['CN="a"b', 'expected "," or "+"'],
    ['CN=a\\q', 'invalid escape'],
    ['CN=a\\', 'invalid escape'],
    ['CN="open', 'unterminated'],
    ['CN=#abc', 'hex string'],
    ['CN=#0402abcd', 'not a BER-encoded text string'],
    ['CN=\\FF', 'UTF-8'],
    ['_CN=a', 'attribute type such as CN'],
  ])('refuses %j', (line, reason) => {
    const parsed = parseRfc2253(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(reason);
  });
});

describe('checkSubjectLine: subject lines as people write them', () => {
  const TEMPLATE_CANONICAL = 'CN=alice,OU=Eng,O=Acme,L=San Francisco,ST=CA,C=US';
  it.each([
    // [as written, canonical]
    ['CN=alice, OU=Eng, O=Acme, L=San Francisco, ST=CA, C=US', TEMPLATE_CANONICAL], // the reference page's template
    ['CN=alice,OU=Eng,O=Acme,L=San Francisco,ST=CA,C=US', TEMPLATE_CANONICAL],
    ['CN = alice ,OU= Eng,  O =Acme, L=San Francisco,ST=CA ,C=US ', TEMPLATE_CANONICAL],
    ['cn=alice, ou=Eng, o=Acme, l=San Francisco, st=CA, c=US', TEMPLATE_CANONICAL],
    ['CN=alice', 'CN=alice'],
    ['CN=Acme\\, Inc', 'CN=Acme\\, Inc'],
    ['CN=Acme\\2C Inc', 'CN=Acme\\, Inc'], // hex pair and escaped comma: one name
    ['CN=Acme\\2c Inc', 'CN=Acme\\, Inc'],
    ['CN="Acme, Inc"', 'CN=Acme\\, Inc'],
    ['CN=a\\+b', 'CN=a\\+b'],
    ['CN=a\\2Bb', 'CN=a\\+b'],
    ['CN=say \\"hi\\"', 'CN=say \\"hi\\"'],
    ['CN=say \\22hi\\22', 'CN=say \\"hi\\"'],
    ['CN=back\\\\slash', 'CN=back\\\\slash'],
    ['CN=\\41lice', 'CN=Alice'],
    ['CN=\\C3\\A9t\\C3\\A9', 'CN=été'],
    ['CN=été', 'CN=été'],
    ['CN=\u{1F512} vault', 'CN=\u{1F512} vault'], // a paired surrogate (astral character) is a character
    ['CN=\\#hash', 'CN=\\#hash'],
    ['CN=#0C0568656C6C6F', 'CN=hello'], // BER UTF8String
    ['CN=\\ padded\\ ', 'CN=\\ padded\\ '],
    ['CN=x\\=y', 'CN=x=y'],
    // Multi-valued RDNs: entries sorted, whatever order they are written in.
    ['CN=svc+UID=42, O=Acme', 'CN=svc+UID=42,O=Acme'],
    ['UID=42 + CN=svc, O=Acme', 'CN=svc+UID=42,O=Acme'],
    ['CN=svc,OU=a,OU=b,DC=example,DC=com', 'CN=svc,OU=a,OU=b,DC=example,DC=com'],
    ['CN=x,emailAddress=x@example.com,serialNumber=1,UID=u', 'CN=x,emailAddress=x@example.com,serialNumber=1,UID=u'],
    ['CN=x, EMAILADDRESS=x@example.com, SERIALNUMBER=1', 'CN=x,emailAddress=x@example.com,serialNumber=1'],
  ])('accepts %j as %j', (line, canonical) => {
    const checked = checkSubjectLine(line);
    expect(checked).toMatchObject({ ok: true, value: { canonical } });
    expect(isValidSubjectLine(line)).toBe(true);
    expect(canonicalSubjectLine(line)).toBe(canonical);
    // The canonical form is itself a valid line with the same canonical form.
    expect(canonicalSubjectLine(canonical)).toBe(canonical);
  });

  it('gives the CN of the first RDN, unescaped', () => {
    expect(checkSubjectLine('CN=Acme\\2C Inc+UID=1, O=x')).toMatchObject({ ok: true, value: { cn: 'Acme, Inc' } });
  });

  it('keeps value case and inner spacing: different names stay different', () => {
    expect(canonicalSubjectLine('CN=Alice')).not.toBe(canonicalSubjectLine('CN=alice'));
    expect(canonicalSubjectLine('CN=a  b')).not.toBe(canonicalSubjectLine('CN=a b'));
    expect(canonicalSubjectLine('CN=a\\,b')).not.toBe(canonicalSubjectLine('CN=a+b'));
    expect(canonicalSubjectLine('CN=a,O=b')).not.toBe(canonicalSubjectLine('CN=a+O=b'));
  });

  it.each([
    ['C=US, ST=CA, L=SF, O=Acme, OU=Eng, CN=alice', 'forward order', 'CN=alice, OU=Eng, O=Acme, L=SF, ST=CA, C=US'],
    ['O=Acme,CN=alice', 'forward order', 'CN=alice, O=Acme'],
    ['OU=Eng,O=Acme', 'the first attribute must be CN', ''],
    ['CN=alice, STREET=Main', 'unknown attribute type "STREET" (use CN, OU, O, L, ST, C, emailAddress, DC, serialNumber, UID)', ''],
    ['CN=alice,2.5.4.3=x', 'unknown attribute type "2.5.4.3"', ''],
    ['CN=', 'the value of CN is empty', ''],
    ['CN=alice, O=', 'the value of O is empty', ''],
    ['CN=  , O=a', 'the value of CN is empty', ''],
    ['CN=alice\u0000', 'control character U+0000 at position 8', ''],
    ['CN=alice\n, O=x', 'control character U+000A', ''],
    ['CN=alice\r', 'control character U+000D', ''],
    ['CN=a\tb', 'control character U+0009', ''],
    ['CN=a\u007fb', 'control character U+007F', ''],
    ['CN=a\u0085b', 'control character U+0085', ''],
    ['CN=a\u2028b', 'control character U+2028', ''],
    ['CN=a\\00b', 'the value of CN holds the control character U+0000', ''],
    ['CN=a\\0Ab', 'the value of CN holds the control character U+000A', ''],
    ['CN=alice,O=a;b', 'unescaped ";"', ''],
    ['CN=a\ud800b', 'unpaired UTF-16 surrogate U+D800 at position 4', ''],
    ['CN=a\udfff', 'unpaired UTF-16 surrogate U+DFFF', ''],
  ])('refuses %j saying %j', (line, reason, suggestion) => {
    const checked = checkSubjectLine(line);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.error).toContain(reason);
      if (suggestion !== '') expect(checked.error).toContain(`"${suggestion}"`);
    }
    expect(isValidSubjectLine(line)).toBe(false);
    expect(canonicalSubjectLine(line)).toBeUndefined();
  });

  it('refuses 10 000 characters without scanning them', () => {
    const stats = { scanned: -1 };
    const checked = checkSubjectLine(`CN=${'a'.repeat(9_997)}`, stats);
    expect(checked).toEqual({ ok: false, error: `the subject line is 10000 characters long; at most ${MAX_SUBJECT_LINE_LENGTH} are allowed` });
    expect(stats.scanned).toBe(0);
  });

  it('refuses 1 000 RDNs after reading at most the allowed number of attributes', () => {
    const line = `CN=a${',C=x'.repeat(999)}`;
    expect(line.length).toBeLessThanOrEqual(MAX_SUBJECT_LINE_LENGTH);
    const stats = { scanned: -1 };
    const checked = checkSubjectLine(line, stats);
    expect(checked).toEqual({ ok: false, error: `the subject has more than ${MAX_SUBJECT_LINE_ATTRIBUTES} attributes` });
    // Stopped right after the 64th attribute: 4 characters for CN=a, 4 for each ",C=x".
    expect(stats.scanned).toBeLessThanOrEqual(4 + 4 * MAX_SUBJECT_LINE_ATTRIBUTES);
    const multiValued = `CN=a${'+UID=x'.repeat(999)}`.slice(0, MAX_SUBJECT_LINE_LENGTH);
    expect(checkSubjectLine(multiValued, stats)).toMatchObject({ ok: false, error: expect.stringContaining('more than') });
    expect(stats.scanned).toBeLessThanOrEqual(6 * (MAX_SUBJECT_LINE_ATTRIBUTES + 1));
  });

  it('accepts exactly the limits', () => {
    const attributes = `CN=a${',C=x'.repeat(MAX_SUBJECT_LINE_ATTRIBUTES - 1)}`;
    expect(isValidSubjectLine(attributes)).toBe(true);
    const long = `CN=${'a'.repeat(MAX_SUBJECT_LINE_LENGTH - 3)}`;
    expect(isValidSubjectLine(long)).toBe(true);
  });

  it('reads each character a bounded number of times (one forward pass)', () => {
    const stats = { scanned: -1 };
    const line = `CN=${'\\,'.repeat(2000)}`;
    expect(isValidSubjectLine(line)).toBe(true);
    checkSubjectLine(line, stats);
    expect(stats.scanned).toBe(line.length);
  });
});

describe('canonicalCertificateSubject: certificates and subject lines meet in one form', () => {
  it.each([
    ['/C=US/ST=CA/L=San Francisco/O=Acme/OU=Eng/CN=alice', 'CN=alice, OU=Eng, O=Acme, L=San Francisco, ST=CA, C=US', []],
    ['/O=Acme\\, Inc/CN=bob', 'CN=bob, O=Acme\\2C Inc', []],
    ['/O=Acme/CN=svc+UID=42', 'UID=42+CN=svc, O=Acme', ['-multivalue-rdn']],
    ['/O=Acme/CN=a "quoted" \\+ plus', 'CN=a \\"quoted\\" \\+ plus,O=Acme', []],
    ['/DC=com/DC=example/CN=été', 'CN=\\C3\\A9t\\C3\\A9, DC=example, DC=com', []],
  ] as const)('a certificate made with -subj %j matches the line %j', (subj, line, extra) => {
    const { cert } = makeCert(`canon-${subj.length}-${line.length}`, subj, [...extra]);
    expect(canonicalCertificateSubject(cert.subject)).toBe(canonicalSubjectLine(line));
  });

  it('is the subject line form for the same name written by openssl', () => {
    const { cert, file } = makeCert('canon-openssl', '/C=US/O=Acme/OU=Eng/CN=carol');
    expect(canonicalCertificateSubject(cert.subject)).toBe(canonicalSubjectLine(opensslRfc2253(file)));
  });
});

describe('subjectAttributes', () => {
  it('collects CN, O, OU, L, ST, C, unescaped, ignoring other types', () => {
    expect(subjectAttributes('C=US\nST=CA\nL=SF\nO=Acme\\, Inc\nOU=a\nOU=b\nDC=com\nCN=alice')).toEqual({
      C: 'US',
      ST: 'CA',
      L: 'SF',
      O: 'Acme, Inc',
      OU: ['a', 'b'],
      CN: 'alice',
    });
  });

  it('gives an empty OU list when the subject has none', () => {
    expect(subjectAttributes('CN=x')).toEqual({ CN: 'x', OU: [] });
  });
});

describe('sanDnsNames', () => {
  it('keeps only DNS entries and decodes Node-quoted ones', () => {
    expect(
      sanDnsNames('DNS:a.example.com, DNS:b, IP Address:127.0.0.1, email:x@y.z, DNS:"x\\u002cy.com", URI:http://x/'),
    ).toEqual(['a.example.com', 'b', 'x,y.com']);
    expect(sanDnsNames(undefined)).toEqual([]);
    expect(sanDnsNames('')).toEqual([]);
  });

  it('reads the SAN of a real certificate', () => {
    const { cert } = makeCert('san', '/CN=client.example.com', [
      '-addext',
      'subjectAltName=DNS:app1.example.com,DNS:client.example.com,IP:127.0.0.1,DNS:app1-prod.example.com',
    ]);
    expect(sanDnsNames(cert.subjectAltName)).toEqual([
      'app1.example.com',
      'client.example.com',
      'app1-prod.example.com',
    ]);
  });
});

describe('matchesAuthorizedSubjects', () => {
  const client = {
    subject: 'C=US\nST=CA\nL=SF\nO=Acme\nOU=Eng\nOU=Ops\nCN=client.example.com',
    subjectAltName: 'DNS:app1.example.com, DNS:client.example.com, DNS:app1-prod.example.com, IP Address:10.0.0.1',
  };

  it('accepts anything when validation is disabled', () => {
    expect(matchesAuthorizedSubjects(client, 'disabled', [])).toBe(true);
  });

  describe('san_cn', () => {
    it('accepts a SAN DNS name listed as CN', () => {
      expect(matchesAuthorizedSubjects(client, 'san_cn', [{ CN: 'nope' }, { CN: 'app1-prod.example.com' }])).toBe(true);
    });

    it('accepts the subject CN', () => {
      expect(matchesAuthorizedSubjects({ subject: 'O=Acme\nCN=svc' }, 'san_cn', [{ CN: 'svc' }])).toBe(true);
    });

    it('ignores the other subject attributes of the entry', () => {
      expect(matchesAuthorizedSubjects(client, 'san_cn', [{ CN: 'client.example.com', O: 'Other' }])).toBe(true);
    });

    it('refuses when no CN or SAN DNS name is listed, comparing case-sensitively', () => {
      expect(matchesAuthorizedSubjects(client, 'san_cn', [{ CN: 'App1.example.com' }])).toBe(false);
      expect(matchesAuthorizedSubjects(client, 'san_cn', [{ CN: '10.0.0.1' }])).toBe(false);
      expect(matchesAuthorizedSubjects(client, 'san_cn', [])).toBe(false);
    });
  });

  describe('full_subject', () => {
    it('accepts an entry whose attributes all equal the certificate, OU as a set in any order', () => {
      expect(
        matchesAuthorizedSubjects(client, 'full_subject', [
          { CN: 'client.example.com', O: 'Acme', OU: ['Ops', 'Eng'], L: 'SF', ST: 'CA', C: 'US' },
        ]),
      ).toBe(true);
    });

    it('treats attributes the entry leaves out (or empty) as unconstrained', () => {
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ CN: 'client.example.com' }])).toBe(true);
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ CN: 'client.example.com', OU: [], O: '' }])).toBe(
        true,
      );
    });

    it('refuses a missing or extra OU, a different attribute, or a different case', () => {
      const base = { CN: 'client.example.com', O: 'Acme' };
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ ...base, OU: ['Eng'] }])).toBe(false);
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ ...base, OU: ['Eng', 'Ops', 'QA'] }])).toBe(false);
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ ...base, C: 'GB' }])).toBe(false);
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ ...base, O: 'acme' }])).toBe(false);
      expect(matchesAuthorizedSubjects(client, 'full_subject', [{ CN: 'app1.example.com' }])).toBe(false);
    });

    it('accepts when any one entry matches', () => {
      expect(
        matchesAuthorizedSubjects(client, 'full_subject', [
          { CN: 'client.example.com', O: 'Other' },
          { CN: 'client.example.com', OU: ['Eng', 'Ops'] },
        ]),
      ).toBe(true);
    });
  });

  it('matches nothing for an unknown validation type', () => {
    expect(matchesAuthorizedSubjects(client, 'bogus' as never, [{ CN: 'client.example.com' }])).toBe(false);
  });
});
