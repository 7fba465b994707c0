// The certificate chain a TLS client presented, leaf first, as Node links it (issuerCertificate); empty when
// the client sent no certificate. Shared by certificate login on the REST API and mutual TLS on databases.
// `limit` bounds the certificates turned into X509Certificate objects: a caller that refuses chains longer
// than N passes N + 1 and pays nothing for the rest of a long chain.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

export function peerCertificateChain(socket: TLSSocket, limit = Number.POSITIVE_INFINITY): X509Certificate[] {
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let node = socket.getPeerCertificate(true) as Partial<DetailedPeerCertificate> | undefined;
  while (node?.raw !== undefined && node.fingerprint256 !== undefined && !seen.has(node.fingerprint256) && chain.length < limit) {
    seen.add(node.fingerprint256);
    chain.push(new X509Certificate(node.raw));
    node = node.issuerCertificate;
  }
  return chain;
}
