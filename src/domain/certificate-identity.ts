// The identity-change guard (issue 15.3, a certplane extension): what a client that reached `api`, `cm` or
// `proxy` by name and verified it against a root would lose if the certificate were replaced. Pure.
//
// Identity of a certificate:
// - its names: the DNS names and IP addresses of its subjectAltName; when it has neither (no DNS or IP SAN),
//   its subject CN (an IP when it parses as one, else a DNS name), as TLS clients fall back to the CN then
//   (RFC 6125 §6.4.4). DNS names compare case-insensitively without a trailing dot, IPs in canonical form.
// - its root: when the last certificate of the chain is self-signed, that certificate (subject and public key);
//   otherwise the issuer DN of the last certificate (the trust anchor the chain leaves out).
//
// A replacement keeps a name when it lists the same name, or (for a name that is not itself a wildcard) a
// wildcard `*.rest` whose rest equals the name minus its first label. A wildcard name is kept only by the same
// wildcard. It keeps the root when the root subjects are equal and, where both chains carry the root, the
// root keys are equal too.
//
// The certificates certplane generated at cluster creation (self-signed, subject CN=<cluster name>, SANs
// <cluster name>, *.<cluster name> and 127.0.0.1, or the IP form) are exempt: no client can trust them except
// by pinning that very certificate, and replacing them with a CA-issued one is the first thing operators do.
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { isSelfSigned } from './pem.js';
import { sanEntries, subjectToRfc2253 } from './rfc2253.js';

/** The certificate names the guard protects (the externally facing server certificates). */
export const GUARDED_CERTIFICATE_NAMES: ReadonlySet<string> = new Set(['api', 'cm', 'proxy']);

export interface CertificateIdentity {
  /** Lowercase DNS names, possibly wildcards (`*.example.com`). */
  dnsNames: string[];
  /** Canonical IP addresses. */
  ips: string[];
  root: { subject: string; publicKey?: string };
}

export interface IdentityLoss {
  lost_names: string[];
  lost_ips: string[];
  /** Set when the root differs: the RFC 2253 subjects of the current and the new root. */
  old_root?: string;
  new_root?: string;
  description: string;
}

/** The names and root of a chain (leaf first). */
export function certificateIdentity(chain: readonly X509Certificate[]): CertificateIdentity {
  const leaf = chain[0];
  if (leaf === undefined) throw new Error('certificateIdentity: empty chain');
  const entries = sanEntries(leaf.subjectAltName);
  let dnsNames = entries.filter((e) => e.type === 'DNS').map((e) => normalizeDns(e.value));
  let ips = entries.filter((e) => e.type === 'IP Address').map((e) => canonicalIp(e.value)).filter((ip): ip is string => ip !== undefined);
  if (dnsNames.length === 0 && ips.length === 0) {
    const cn = commonName(leaf.subject);
    if (cn !== undefined && cn !== '') {
      const ip = canonicalIp(cn);
      if (ip !== undefined) ips = [ip];
      else dnsNames = [normalizeDns(cn)];
    }
  }
  const last = chain[chain.length - 1] as X509Certificate;
  const root = isSelfSigned(last)
    ? { subject: safeRfc2253(last.subject), publicKey: last.publicKey.export({ type: 'spki', format: 'der' }).toString('hex') }
    : { subject: safeRfc2253(last.issuer) };
  return { dnsNames: unique(dnsNames), ips: unique(ips), root };
}

/**
 * What replacing `current` with `next` loses, or undefined when nothing is lost (or `current` is a
 * certificate certplane generated for the cluster `clusterName`).
 */
export function identityLoss(name: string, current: readonly X509Certificate[], next: readonly X509Certificate[], clusterName: string): IdentityLoss | undefined {
  if (isGeneratedDefault(current, clusterName)) return undefined;
  const before = certificateIdentity(current);
  const after = certificateIdentity(next);
  const lostNames = before.dnsNames.filter((n) => !coversDns(after.dnsNames, n));
  const lostIps = before.ips.filter((ip) => !after.ips.includes(ip));
  const rootChanged = !sameRoot(before.root, after.root);
  if (lostNames.length === 0 && lostIps.length === 0 && !rootChanged) return undefined;
  const parts: string[] = [];
  if (lostNames.length > 0) parts.push(`no longer covers ${lostNames.join(', ')}`);
  if (lostIps.length > 0) parts.push(`no longer covers IP ${lostIps.join(', ')}`);
  if (rootChanged) parts.push(`is issued by a different root (current: ${before.root.subject}; new: ${after.root.subject})`);
  const loss: IdentityLoss = {
    lost_names: lostNames,
    lost_ips: lostIps,
    description: `The new ${name} certificate ${parts.join(' and ')}; send "allow_identity_change": true to replace it anyway`,
  };
  if (rootChanged) {
    loss.old_root = before.root.subject;
    loss.new_root = after.root.subject;
  }
  return loss;
}

/** Whether a set of names (as a certificate lists them) covers `name`. */
export function coversDns(names: readonly string[], name: string): boolean {
  const wanted = normalizeDns(name);
  if (names.includes(wanted)) return true;
  if (wanted.startsWith('*.')) return false;
  const dot = wanted.indexOf('.');
  if (dot <= 0) return false;
  return names.includes(`*${wanted.slice(dot)}`);
}

/** The certificates certplane generates at cluster creation (src/node/cluster-pki.ts), recognized by shape. */
export function isGeneratedDefault(chain: readonly X509Certificate[], clusterName: string): boolean {
  const leaf = chain[0];
  if (leaf === undefined || chain.length !== 1 || leaf.ca || !isSelfSigned(leaf)) return false;
  if (leaf.subject !== `CN=${clusterName.slice(0, 64)}`) return false;
  const identity = certificateIdentity(chain);
  const ip = canonicalIp(clusterName);
  const expectedDns = ip === undefined ? [normalizeDns(clusterName), `*.${normalizeDns(clusterName)}`] : [];
  const expectedIps = unique([...(ip === undefined ? [] : [ip]), '127.0.0.1']);
  return sameSet(identity.dnsNames, expectedDns) && sameSet(identity.ips, expectedIps);
}

function sameRoot(a: CertificateIdentity['root'], b: CertificateIdentity['root']): boolean {
  if (a.subject !== b.subject) return false;
  return a.publicKey === undefined || b.publicKey === undefined || a.publicKey === b.publicKey;
}

function normalizeDns(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The canonical text of an IPv4 or IPv6 address, or undefined when `value` is not one. */
export function canonicalIp(value: string): string | undefined {
  const v = value.trim();
  const kind = isIP(v);
  if (kind === 4) return v;
  if (kind === 6) return new URL(`http://[${v}]/`).hostname.slice(1, -1);
  return undefined;
}

function commonName(subject: string): string | undefined {
  // Node's X509Certificate.subject: one `TYPE=value` per line; the most specific CN is the last one.
  const cns = subject.split('\n').filter((line) => line.startsWith('CN='));
  return cns.length === 0 ? undefined : (cns[cns.length - 1] as string).slice(3);
}

function safeRfc2253(subject: string): string {
  try {
    return subjectToRfc2253(subject);
  } catch {
    return subject.split('\n').reverse().join(',');
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((v) => sb.has(v));
}
