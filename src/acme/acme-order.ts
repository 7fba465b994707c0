// One ACME order (RFC 8555 §7.4) with acme-client's protocol calls: account (created once, reused), new order
// for the identifiers (DNS names and IPs: acme-client's auto() asks for DNS names only, so the steps are
// spelled out here), one challenge per authorization (http-01 answered by every node from the store, dns-01
// through the node's hook command), finalize with a CSR for a fresh P-256 key, download the chain.
import * as acme from 'acme-client';
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import type { AcmeChallenge } from '../domain/acme.js';
import { dnsChallengeRecordName } from '../domain/acme.js';

export interface HttpChallengeStore {
  put(token: string, keyAuthorization: string): Promise<void>;
  remove(token: string): Promise<void>;
}

export interface DnsHook {
  set(recordName: string, value: string, identifier: string): Promise<void>;
  clear(recordName: string, value: string, identifier: string): Promise<void>;
}

export interface OrderRequest {
  directoryUrl: string;
  /** PEM bundle for the ACME server's HTTPS certificate; empty: the system trust store. */
  caBundle: string;
  accountKey: string;
  accountUrl?: string;
  contactEmail: string;
  identifiers: Array<{ type: 'dns' | 'ip'; value: string }>;
  challenge: AcmeChallenge;
  http: HttpChallengeStore;
  /** Undefined: this node has no hook (dns-01 fails with a clear error). */
  dns: DnsHook | undefined;
  /** Per HTTP request to the ACME server. */
  requestTimeoutMs: number;
  /** Polling of pending challenges and orders: attempts and the first/last delay. */
  poll: { attempts: number; minMs: number; maxMs: number };
}

export interface OrderResult {
  /** PEM chain, leaf first, as the server sent it. */
  certificate: string;
  /** PKCS#8 PEM of the new key. */
  key: string;
  accountUrl: string;
}

export class AcmeOrderError extends Error {
  override name = 'AcmeOrderError';
}

/**
 * acme-client sends every request through one axios instance; the CA bundle and the timeout are set on it before
 * each order. Orders run one at a time (the leader's renewer), so there is never a second order with other settings.
 */
function configureTransport(caBundle: string, timeoutMs: number): void {
  const agent = new https.Agent(caBundle.trim() === '' ? { keepAlive: false } : { keepAlive: false, ca: caBundle });
  acme.axios.defaults.httpsAgent = agent;
  acme.axios.defaults.timeout = timeoutMs;
  acme.axios.defaults.proxy = false;
}

export async function orderCertificate(request: OrderRequest): Promise<OrderResult> {
  if (request.challenge === 'dns-01' && request.dns === undefined) {
    throw new AcmeOrderError('dns-01 needs a hook command on the leader (--acme-dns-hook / CERTPLANE_ACME_DNS_HOOK)');
  }
  configureTransport(request.caBundle, request.requestTimeoutMs);
  const client = new acme.Client({
    directoryUrl: request.directoryUrl,
    accountKey: request.accountKey,
    ...(request.accountUrl === undefined ? {} : { accountUrl: request.accountUrl }),
    backoffAttempts: request.poll.attempts,
    backoffMin: request.poll.minMs,
    backoffMax: request.poll.maxMs,
  });
  await client.createAccount({
    termsOfServiceAgreed: true,
    ...(request.contactEmail === '' ? {} : { contact: [`mailto:${request.contactEmail}`] }),
  });
  const order = await client.createOrder({ identifiers: request.identifiers });
  const authorizations = await client.getAuthorizations(order);
  const cleanups: Array<() => Promise<void>> = [];
  try {
    for (const authz of authorizations) {
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === request.challenge);
      if (challenge === undefined) {
        throw new AcmeOrderError(`the ACME server offers no ${request.challenge} challenge for ${authz.identifier.value}`);
      }
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      if (challenge.type === 'http-01') {
        const token = (challenge as { token: string }).token;
        await request.http.put(token, keyAuthorization);
        cleanups.push(() => request.http.remove(token));
      } else {
        const dns = request.dns as DnsHook;
        const record = dnsChallengeRecordName(authz.identifier.value);
        await dns.set(record, keyAuthorization, authz.identifier.value);
        cleanups.push(() => dns.clear(record, keyAuthorization, authz.identifier.value));
      }
      await client.completeChallenge(challenge);
      try {
        await client.waitForValidStatus(challenge);
      } catch (error) {
        throw new AcmeOrderError(`the ${request.challenge} challenge for ${authz.identifier.value} failed: ${messageOf(error)}`, { cause: error });
      }
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const firstDns = request.identifiers.find((i) => i.type === 'dns')?.value;
  const [, csr] = await acme.crypto.createCsr(
    { ...(firstDns === undefined || firstDns.length > 64 ? {} : { commonName: firstDns }), altNames: request.identifiers.map((i) => i.value) },
    key,
  );
  const finalized = await client.finalizeOrder(order, csr);
  const valid = finalized.status === 'valid' ? finalized : await client.waitForValidStatus(finalized);
  const certificate = await client.getCertificate(valid);
  return { certificate, key, accountUrl: client.getAccountUrl() };
}

export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
