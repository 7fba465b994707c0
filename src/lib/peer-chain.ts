// The certificate chain a TLS client presented, leaf first, as Node links it (issuerCertificate); empty when
// the client sent no certificate. Shared by certificate login on the REST API and mutual TLS on databases.
// `limit` bounds the certificates read: a caller that refuses chains longer than N passes N + 1 and pays nothing
// for the rest of a long chain.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

export interface PresentedChain {
  /** The SHA-256 fingerprints of the certificates, leaf first, joined: the same key means the same chain. */
  key: string;
  /** The certificates as X509Certificate objects (parsed on the first call only). */
  certificates: () => X509Certificate[];
}

export function presentedChain(socket: TLSSocket, limit = Number.POSITIVE_INFINITY): PresentedChain {
  const raws: Buffer[] = [];
  const fingerprints: string[] = [];
  if (typeof socket.getPeerCertificate === 'function') {
    let node = socket.getPeerCertificate(true) as Partial<DetailedPeerCertificate> | undefined;
    while (node?.raw !== undefined && node.fingerprint256 !== undefined && !fingerprints.includes(node.fingerprint256) && raws.length < limit) {
      fingerprints.push(node.fingerprint256);
      raws.push(node.raw);
      node = node.issuerCertificate;
    }
  }
  let parsed: X509Certificate[] | undefined;
  return { key: fingerprints.join(','), certificates: () => (parsed ??= raws.map((raw) => new X509Certificate(raw))) };
}

export function peerCertificateChain(socket: TLSSocket, limit = Number.POSITIVE_INFINITY): X509Certificate[] {
  return presentedChain(socket, limit).certificates();
}
