// Everything the REST API needs, wired by the composition root (src/node). The API reaches the node agent
// only through the store.
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import type { UsersRepository } from './state/users-repository.js';
import type { PasswordAuthenticator } from './auth/password-authenticator.js';
import type { CertificateAuthenticator } from './auth/certificate-authenticator.js';

export interface LocalNodeInfo {
  uid: string;
  address: string;
  started_at: string;
}

export interface ApiDeps {
  store: ClusterStore;
  clock: Clock;
  users: UsersRepository;
  passwords: PasswordAuthenticator;
  certificates: CertificateAuthenticator;
  /** How long a cluster-wide change waits for every node before answering 409 (or 500 for deletes). */
  applyTimeoutMs: number;
  localNode: LocalNodeInfo;
  bodyLimitBytes: number;
}
