// The certificate chain a TLS client presented, leaf first, as Node links it (issuerCertificate); empty when
// the client sent no certificate. Shared by certificate login on the REST API and mutual TLS on databases.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

export function peerCertificateChain(socket: TLSSocket): X509Certificate[] {
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let node = socket.getPeerCertificate(true) as Partial<DetailedPeerCertificate> | undefined;
  while (node?.raw !== undefined && node.fingerprint256 !== undefined && !seen.has(node.fingerprint256)) {
    seen.add(node.fingerprint256);
    chain.push(new X509Certificate(node.raw));
    node = node.issuerCertificate;
  }
  return chain;
}
