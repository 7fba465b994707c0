// Everything the REST API needs, wired by the composition root (src/node). The API reaches the node agent
// only through the store.
import type { ClusterStore } from '../store/cluster-store.js';
import type { Clock } from '../lib/clock.js';
import type { UsersRepository } from './state/users-repository.js';
import type { PasswordAuthenticator } from './auth/password-authenticator.js';
import type { CertificateAuthenticator } from './auth/certificate-authenticator.js';
import type { LoginRefusalLog } from './auth/login-refusal-events.js';
import type { JwtAuthenticator } from './auth/jwt-authenticator.js';
import type { ClusterSettingsView } from '../domain/cluster-settings.js';
import type { OcspOperations } from '../domain/ocsp-status.js';
import type { InternalRotationOperations } from '../domain/internal-rotation.js';

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
  /** JSON Web Tokens (Authorization: Bearer), POST /v1/users/authorize and /v1/users/refresh_jwt. */
  tokens: JwtAuthenticator;
  /** The cluster document as this node sees it (watched), for the per-request authentication path. */
  settings: ClusterSettingsView;
  /** How long a cluster-wide change waits for every node before answering 409 (or 500 for deletes). */
  applyTimeoutMs: number;
  localNode: LocalNodeInfo;
  bodyLimitBytes: number;
  /** POST /v1/ocsp/test: queries the OCSP responder (src/ocsp, wired by the composition root). */
  ocsp: OcspOperations;
  /** POST /v1/cluster/certificates/rotate: regenerates internal certificates (src/rotation, wired by the composition root). */
  internalRotation?: InternalRotationOperations;
  /** Lockouts and refused certificate logins as /v1/logs events (rate-limited); none in unit tests. */
  loginRefusals?: LoginRefusalLog;
  /** Told of every client-certificate login on the API, accepted or refused with its error code (metrics). */
  certificateLogins?: CertificateLoginObserver;
}

/** Counts client-certificate logins (wired by the composition root to the metrics exporter); must not throw. */
export interface CertificateLoginObserver {
  succeeded(): void;
  failed(reason: string): void;
}
