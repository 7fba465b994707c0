// What one database endpoint of the proxy needs to serve a database: the desired state the node agent hands
// to src/proxy (pure data, so agent and proxy share it without importing each other).
import type { AuthorizedSubject, SubjectValidationType } from './rfc2253.js';

export interface EndpointClientAuth {
  /** Trust anchors: the database's authentication_ssl_client_certs and the cluster's mtls_trusted_ca (PEM). */
  ca: string[];
  /**
   * SHA-256 (lowercase hex) of the certificates uploaded in authentication_ssl_client_certs. A client whose own
   * certificate is one of them skips subject validation (digest §7.2: validation applies to CA uploads only).
   */
  uploadedFingerprints: string[];
  validationType: SubjectValidationType;
  authorizedSubjects: AuthorizedSubject[];
  /** mtls_allow_outdated_certs: accept expired client certificates. */
  allowOutdated: boolean;
}

export interface EndpointTls {
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher string (TLS 1.3 suites and the TLS ≤1.2 list with certplane's floor, domain/tls-policy). */
  ciphers?: string;
  /** Node's `ecdhCurve`: key-exchange groups, most preferred first (domain/tls-policy keyExchangeGroups). */
  ecdhCurve?: string;
  /** Present when enforce_client_authentication is enabled. */
  clientAuth?: EndpointClientAuth;
}

export interface EndpointCertificateUser {
  /** The user's certificate_subject_line in canonical form (rfc2253.ts canonicalSubject), compared with the
   *  canonical form of the client certificate's subject. */
  subjectLine: string;
  /** Internal redis user the proxy logs the backend connection in as. */
  username: string;
  password: string;
}

/** A password user of the database: the proxy checks the password with certplane's own check (by uid). */
export interface EndpointPasswordUser {
  userUid: number;
  /** The certplane name; a client may AUTH with it or with the redis username. */
  name: string;
  /** The redis username the proxy logs the backend connection in as. */
  username: string;
  /** The node's secret for that redis user. */
  password: string;
}

/** The database's `default` redis user, as the proxy logs clients in to it. */
export interface EndpointDefaultUser {
  enabled: boolean;
  /** SHA-256 (hex) of authentication_redis_pass; absent when the database has none (open). */
  passwordSha256?: string;
  /** The node's secret for the default redis user. */
  password: string;
}

export interface DatabaseEndpointConfig {
  uid: number;
  address: string;
  port: number;
  /** redis-server's Unix socket. */
  backendSocketPath: string;
  /** Absent for tls_mode "disabled" (and "replica_ssl": TLS there is for replication links only). */
  tls?: EndpointTls;
  certificateUsers: EndpointCertificateUser[];
  /** Absent: no password user can log in (AUTH is refused by the proxy). */
  passwordUsers?: EndpointPasswordUser[];
  /** Absent: the proxy never logs anyone in as `default`. */
  defaultUser?: EndpointDefaultUser;
}
