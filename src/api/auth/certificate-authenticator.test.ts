import { beforeAll, describe, expect, it } from 'vitest';
import type { TLSSocket } from 'node:tls';
import { CertificateAuthenticator } from './certificate-authenticator.js';
import type { ClusterStore } from '../../store/cluster-store.js';
import type { UsersRepository } from '../state/users-repository.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import type { UserRecord } from '../../domain/users.js';
import { ApiError } from '../../lib/api-error.js';
import { createCa, issueCertificate, type TestCertificate } from '../../../test/helpers/pki.js';

let root: TestCertificate;
let other: TestCertificate;
let alice: TestCertificate;

beforeAll(async () => {
  [root, other] = await Promise.all([createCa({ cn: 'Auth Root' }), createCa({ cn: 'Auth Other' })]);
  alice = await issueCertificate(root, { subject: 'CN=alice,O=Acme', eku: ['clientAuth'], notAfter: new Date(Date.now() + 86_400_000) });
});

function fakeSocket(certs: TestCertificate[]): TLSSocket {
  const node = (i: number): object | undefined =>
    certs[i] === undefined ? undefined : { raw: certs[i].x509.raw, fingerprint256: certs[i].x509.fingerprint256, issuerCertificate: node(i + 1) };
  return { getPeerCertificate: () => node(0) } as unknown as TLSSocket;
}

function setup(trusted: { pem: string }, clock: { now: Date }) {
  const store = { get: async () => ({ value: JSON.stringify({ certificate: trusted.pem }) }) } as unknown as ClusterStore;
  const user = { uid: 7, name: 'alice', auth_method: 'certificate' } as unknown as UserRecord;
  const users = { findBySubjectLine: async () => user } as unknown as UsersRepository;
  return new CertificateAuthenticator(store, users, { now: () => clock.now });
}

const cluster = { mtls_client_cert_subject_validation_type: 'disabled', mtls_authorized_subjects: [] } as unknown as ClusterDocument;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof ApiError ? error.errorCode : String(error);
  }
}

describe('CertificateAuthenticator: verify once per connection', () => {
  it('checks the chain once per connection and anchor set; each request re-checks only the dates', async () => {
    const trusted = { pem: root.certificate };
    const clock = { now: new Date() };
    const auth = setup(trusted, clock);
    const socket = fakeSocket([alice]);
    const peer = auth.peerOf(socket)!;
    expect(await codeOf(auth.authenticate(peer, cluster))).toBe('ok');
    const verdict = peer.verdict;
    expect(verdict?.chain.ok).toBe(true);
    expect(await codeOf(auth.authenticate(auth.peerOf(socket)!, cluster))).toBe('ok');
    expect(peer.verdict).toBe(verdict); // not checked again

    clock.now = new Date(Date.now() + 2 * 86_400_000);
    expect(await codeOf(auth.authenticate(peer, cluster))).toBe('client_certificate_expired');
    expect(peer.verdict).toBe(verdict);

    clock.now = new Date();
    trusted.pem = other.certificate; // mtls_trusted_ca replaced: the open connection is checked again
    expect(await codeOf(auth.authenticate(peer, cluster))).toBe('certificate_not_trusted');
    expect(peer.verdict).not.toBe(verdict);
  });
});
