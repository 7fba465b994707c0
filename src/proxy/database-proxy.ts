// The database proxy: one listener per database endpoint in front of the database's redis-server (reached on
// its Unix socket). Per connection: optional TLS with the cluster's `proxy` certificate, optional mutual TLS
// with subject validation, certificate user → backend login (AUTH as the user's redis user with the node's
// secret for it), then a byte pipe both ways. Client → backend bytes go through a RESP command scanner that
// holds AUTH and HELLO-with-AUTH (re-AUTH may come at any time): the proxy checks the password itself
// (password users: certplane's password check with the REST API's lockout; `default`: the digest of
// authentication_redis_pass) and sends redis the same command with the node's secret, or with a throwaway
// password when the check fails, so redis answers in pipeline order and never sees a client's password. An
// open database (default user on, no password) has its connections logged in as `default` by the proxy.
//
// Each endpoint is a plain TCP listener; a TLS connection is handed to a (non-listening) tls.Server built from
// the endpoint's current settings. A settings change builds a new tls.Server for new connections and leaves
// open ones on the one they started with; the `proxy` certificate is swapped with setSecureContext (through
// the TLS context registry), which also affects new handshakes only. Rejected handshakes are logged with the
// reason (certificate problems, garbage instead of a ClientHello, handshake timeouts against slowloris).
import net from 'node:net';
import tls, { type SecureContextOptions } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseEndpointConfig, EndpointTls } from '../domain/database-endpoint.js';
import { subjectToRfc2253 } from '../domain/rfc2253.js';
import { parseCertificateChain } from '../domain/pem.js';
import { buildTrustAnchors, checkPathValidity, MAX_PRESENTED_CHAIN, type TrustAnchors } from '../domain/client-certificate.js';
import type { RevocationIndex } from '../domain/crl-revocation.js';
import { presentedChain } from '../lib/peer-chain.js';
import { ChainChecks } from './chain-checks.js';
import { createHash, randomBytes, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { encodeCommand } from '../lib/resp.js';
import { forwardClientCommands } from './client-commands.js';
import { parseLoginCommand } from './login-command.js';
import { negotiatedGroup } from '../lib/tls-groups.js';
import { loginFailureOfVerdict, type ProxyStats } from './proxy-stats.js';

/**
 * certplane's own password check, for password users logging in through a database (the node wires
 * PasswordAuthenticator.checkUserPassword): same lockout policy and counter as the REST API. Async and by
 * value only, so the proxy can move to its own process.
 */
export interface DatabasePasswordCheck {
  check(userUid: number, password: string): Promise<'ok' | 'wrong' | 'locked' | 'expired'>;
}

/** Why a password login through a database was refused (what the node records in /v1/logs). */
export type DatabaseLoginRefusalReason = 'unknown_user' | 'default_user_disabled' | 'wrong_password' | 'locked' | 'expired';

/** One refused password login through a database: who claimed to log in, where, why. Never the password. */
export interface DatabaseLoginRefusal {
  bdbUid: number;
  /** The user name the client sent (at most 100 characters). */
  user: string;
  /** The certplane user it names, when it names one. */
  userUid?: number;
  remoteAddress: string;
  reason: DatabaseLoginRefusalReason;
}

/** Where the proxy gets the `proxy` certificate, and how it subscribes its TLS servers to rotations. */
export interface ProxyCertificateSource {
  get(name: string): { certificate: string; key?: string | undefined } | undefined;
  register(name: string, server: { setSecureContext(options: SecureContextOptions): void }, baseOptions: () => SecureContextOptions): () => void;
}

export interface DatabaseProxyDeps {
  certificates: ProxyCertificateSource;
  log: FastifyBaseLogger;
  /** A TLS handshake not done by then is dropped (slowloris). */
  handshakeTimeoutMs?: number;
  /** Open client connections per endpoint at most; more are refused (closed at once). */
  maxConnections?: number;
  /** A client connection without traffic for this long is closed; 0 or absent = never (redis `timeout 0`). */
  idleTimeoutMs?: number;
  /** Several data-plane processes listen on each endpoint's port (SO_REUSEPORT); the kernel spreads connections. */
  reusePort?: boolean;
  /**
   * TLS session ticket keys (48 bytes) shared by every data-plane process, so a session resumes on whichever
   * process the kernel hands the next connection to; absent: each TLS front has its own random keys.
   */
  ticketKeys?: Buffer;
  /** A certificate user's backend login not done by then is dropped. */
  loginTimeoutMs?: number;
  /**
   * The OCSP response to staple for the presented certificate (DER), if any: the hook for src/ocsp, wired in
   * src/node. Without it no staple is sent.
   */
  ocspStaple?: (certificate: Buffer) => Buffer | undefined;
  /** Without it no password user can log in through a database. */
  passwords?: DatabasePasswordCheck;
  /** Told of every refused password login (the node records them, rate-limited); must not throw. */
  onLoginRefused?: (refusal: DatabaseLoginRefusal) => void;
  /** Connection, handshake and certificate-login counters (metrics); absent: nothing is counted. */
  stats?: ProxyStats;
  /** The revocation index in force (certplane CRL extension); undefined: no revocation checking (RS behaviour). */
  revocation?: () => RevocationIndex | undefined;
  /** Told of every client certificate refused for revocation (metrics); must not throw. */
  onRevocationRefused?: (refusal: { bdbUid: number; errorCode: 'certificate_revoked' | 'revocation_unknown' }) => void;
}

/** What a refused login sends redis as the password: random, never any user's secret (64 hex digits). */
const REFUSED_PASSWORD = `refused-${randomBytes(24).toString('hex')}`;

const PROXY_CERTIFICATE = 'proxy';

interface TlsFront {
  key: string;
  server: tls.Server;
  /** The trust anchors of this front, parsed once: authentication_ssl_client_certs and mtls_trusted_ca. */
  anchors: TrustAnchors;
  unregister: () => void;
  /** The OCSP staple hook of this front (when the proxy has one); attached only while stapling is on. */
  ocspListener?: (certificate: Buffer, issuer: Buffer, callback: (error: Error | null, response?: Buffer) => void) => void;
}

class Endpoint {
  config: DatabaseEndpointConfig;
  private readonly listener: net.Server;
  private front: TlsFront | undefined;
  private users = new Map<string, { username: string; password: string }>();
  readonly connections = new Set<net.Socket>();
  /** When a certificate accepted with an unknown revocation status was last logged (once a minute at most). */
  private unknownWarnedAt = 0;
  /** Refused logins per connection, to rate-limit their log lines. */
  private readonly refusals = new WeakMap<net.Socket, number>();

  constructor(
    private readonly deps: DatabaseProxyDeps,
    config: DatabaseEndpointConfig,
    /** Whether the proxy has an OCSP staple to offer now (DatabaseProxy.setStapling). */
    private readonly stapling: () => boolean,
  ) {
    this.config = config;
    // Half-open: a client that shuts its sending side still gets the replies to what it sent (the backend is
    // ended in turn, and its end ends the client).
    this.listener = net.createServer({ noDelay: true, pauseOnConnect: false, allowHalfOpen: true }, (socket) => this.onConnection(socket));
    if (deps.maxConnections !== undefined) this.listener.maxConnections = deps.maxConnections;
    this.configure(config);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.listener.once('error', onError);
      this.listener.listen({ host: this.config.address, port: this.config.port, exclusive: true, reusePort: this.deps.reusePort === true }, () => {
        this.listener.off('error', onError);
        this.listener.on('error', (error) => this.deps.log.error({ err: error, bdb: this.config.uid }, 'endpoint listener error'));
        resolve();
      });
    });
  }

  /** New settings for new connections; open connections keep theirs. */
  configure(config: DatabaseEndpointConfig): void {
    this.config = config;
    this.users = new Map(config.certificateUsers.map((u) => [u.subjectLine, { username: u.username, password: u.password }]));
    const key = config.tls === undefined ? '' : JSON.stringify(config.tls);
    if (this.front?.key === key) return;
    this.front?.unregister();
    this.front = config.tls === undefined ? undefined : this.buildFront(config.tls, key);
  }

  private buildFront(settings: EndpointTls, key: string): TlsFront {
    const certificate = this.deps.certificates.get(PROXY_CERTIFICATE);
    if (certificate?.key === undefined) throw new Error('the proxy certificate is not installed on this node');
    const base = (): SecureContextOptions => ({
      minVersion: settings.minVersion,
      ...(settings.ciphers === undefined ? {} : { ciphers: settings.ciphers }),
      ...(settings.ecdhCurve === undefined ? {} : { ecdhCurve: settings.ecdhCurve }),
      ...(settings.clientAuth === undefined ? {} : { ca: settings.clientAuth.ca }),
    });
    const server = new tls.Server({
      ...base(),
      cert: certificate.certificate,
      key: certificate.key,
      requestCert: settings.clientAuth !== undefined,
      rejectUnauthorized: false,
      // Resumption (tickets and the session cache) works across processes and restarts of the data plane: the
      // same keys and session id context everywhere (Node's default context is derived from the argv).
      ...(this.deps.ticketKeys === undefined ? {} : { ticketKeys: this.deps.ticketKeys }),
      sessionIdContext: `certplane-bdb-${this.config.uid}`,
      handshakeTimeout: this.deps.handshakeTimeoutMs ?? 10_000,
    });
    // Anchors may be intermediate CAs or a client's own leaf (digest §7.2): OpenSSL's verdict (socket.authorized)
    // would need allowPartialTrustChain, which Node 20's tls.Server does not pass on, so the chain is checked
    // with the same rule as certificate login on the REST API (domain/client-certificate.ts).
    // Only CA anchors issue; a non-CA anchor (a pinned client certificate) matches only itself.
    const anchors = buildTrustAnchors(
      (settings.clientAuth?.ca ?? []).flatMap((pem) => {
        const parsed = parseCertificateChain(pem);
        return parsed.ok ? parsed.value : [];
      }),
    );
    const checks = settings.clientAuth === undefined ? undefined : new ChainChecks(settings.clientAuth, anchors);
    server.on('secureConnection', (socket: tls.TLSSocket) => this.onSecure(socket, settings, anchors, checks));
    // The negotiated key-exchange group (README "Post-quantum key exchange"), at debug level only: nothing is
    // read per connection unless the logger was at debug when the front was built.
    if (['debug', 'trace'].includes(this.deps.log.level)) {
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        this.deps.log.debug({ bdb: this.config.uid, port: this.config.port, remote: socket.remoteAddress, protocol: socket.getProtocol(), group: negotiatedGroup(socket) }, 'database TLS handshake');
      });
    }
    // The staple hook is attached only while there is a staple: with an OCSPRequest listener Node calls into
    // JavaScript during every handshake (its certificate callback), also for clients that ask for no status.
    const staple = this.deps.ocspStaple;
    const ocspListener: TlsFront['ocspListener'] =
      staple === undefined ? undefined : (cert, _issuer, callback) => callback(null, staple(cert));
    if (ocspListener !== undefined && this.stapling()) server.on('OCSPRequest', ocspListener);
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      this.deps.stats?.handshakeFailed(this.config.uid, error);
      this.reject(socket, `TLS handshake failed: ${error.code ?? ''} ${error.message}`.trim(), false);
    });
    const unregister = this.deps.certificates.register(PROXY_CERTIFICATE, server, base);
    return { key, server, anchors, unregister, ...(ocspListener === undefined ? {} : { ocspListener }) };
  }

  private onConnection(socket: net.Socket): void {
    this.track(socket);
    this.deps.stats?.connectionAccepted(this.config.uid, socket);
    const idle = this.deps.idleTimeoutMs ?? 0;
    if (idle > 0) {
      // Counts bytes either way on the client's TCP socket (TLS records included): idle pools are closed too.
      socket.setTimeout(idle, () => {
        this.deps.log.info({ bdb: this.config.uid, port: this.config.port, remote: socket.remoteAddress }, 'idle database connection closed');
        socket.destroy();
      });
    }
    const front = this.front;
    if (front === undefined) {
      this.connectBackend(socket, undefined);
      return;
    }
    // Half-open applies to plain connections: a TLS client that shuts its side (before or after the
    // handshake) is closed at once, not kept until the handshake timeout.
    socket.allowHalfOpen = false;
    front.server.emit('connection', socket);
  }

  /** Keeps the socket for close(), and destroys it on a socket error (never an unhandled 'error'). */
  private track(socket: net.Socket): void {
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private reject(socket: net.Socket, reason: string, tellClient: boolean): void {
    this.deps.log.warn({ bdb: this.config.uid, port: this.config.port, remote: socket.remoteAddress, reason }, 'database connection refused');
    if (tellClient && socket.writable) {
      socket.end(`-ERR connection refused: ${reason}\r\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  }

  private onSecure(socket: tls.TLSSocket, settings: EndpointTls, anchors: TrustAnchors, checks: ChainChecks | undefined): void {
    this.track(socket);
    this.deps.stats?.handshakeSucceeded(this.config.uid);
    const auth = settings.clientAuth;
    if (auth === undefined || checks === undefined) {
      this.connectBackend(socket, undefined);
      return;
    }
    // The chain is read only as far as the length cap (+1 to see it is exceeded). Its signatures, extensions and
    // subject are checked once per front and chain (chain-checks.ts); validity and revocation for every connection.
    const presented = presentedChain(socket, MAX_PRESENTED_CHAIN + 1);
    if (presented.key === '') {
      this.deps.stats?.certificateLoginFailed(this.config.uid, 'no_client_certificate');
      this.reject(socket, 'no client certificate', true);
      return;
    }
    const checked = checks.check(presented.key, presented.certificates);
    const chainVerdict = checked.chain;
    const verdict = chainVerdict.ok ? checkPathValidity(chainVerdict.path, new Date()) : chainVerdict;
    if (!verdict.ok && !(auth.allowOutdated && verdict.error_code === 'certificate_expired')) {
      this.deps.stats?.certificateLoginFailed(this.config.uid, loginFailureOfVerdict(verdict.error_code));
      this.reject(socket, `client certificate not trusted: ${verdict.error_code} (${verdict.description})`, true);
      return;
    }
    const revocation = chainVerdict.ok ? this.deps.revocation?.() : undefined;
    if (revocation !== undefined && chainVerdict.ok && !this.checkRevocation(socket, revocation, chainVerdict.path, anchors)) return;
    if (!checked.authorized) {
      this.deps.stats?.certificateLoginFailed(this.config.uid, 'certificate_not_authorized');
      this.reject(socket, `client certificate subject not authorized: ${checked.subject}`, true);
      return;
    }
    this.deps.stats?.certificateLoginSucceeded(this.config.uid);
    // Keys are canonical subject lines (databaseAclUsers); the certificate's subject in the same form.
    this.connectBackend(socket, this.users.get(checked.subjectLine));
  }

  /** Certificate revocation (certplane CRL extension): false when the connection was refused (logged, counted). */
  private checkRevocation(socket: tls.TLSSocket, revocation: RevocationIndex, path: readonly X509Certificate[], anchors: TrustAnchors): boolean {
    const checked = revocation.check(path, anchors, new Date());
    const subject = subjectToRfc2253(path[0]!.subject);
    if (!checked.ok) {
      this.deps.log.warn({ bdb: this.config.uid, remote: socket.remoteAddress, subject, error_code: checked.error_code, reason: checked.description }, 'client certificate refused: revoked or revocation status unknown');
      try {
        this.deps.onRevocationRefused?.({ bdbUid: this.config.uid, errorCode: checked.error_code });
      } catch {
        // counting must never break the refusal
      }
      this.reject(socket, `client certificate ${checked.error_code === 'certificate_revoked' ? 'revoked' : 'revocation status unknown'}: ${checked.error_code} (${checked.description})`, true);
      return false;
    }
    // Once a minute per endpoint at most: the leader raises the event (crl_missing_or_expired) that alerts.
    if (checked.warning !== undefined && Date.now() - this.unknownWarnedAt > 60_000) {
      this.unknownWarnedAt = Date.now();
      this.deps.log.warn({ bdb: this.config.uid, remote: socket.remoteAddress, subject, warning: checked.warning }, 'client certificate accepted with unknown revocation status');
    }
    return true;
  }

  /**
   * Connects to redis-server, logs the connection in (the certificate user, or `default` on an open database),
   * then forwards bytes both ways, client → backend through the login scanner.
   */
  private connectBackend(client: net.Socket, user: { username: string; password: string } | undefined): void {
    // Replies are read into the process's shared read buffer (net's onread: no buffer allocated per read) and
    // handled at once: by the login below, then by the forwarder. Returning false pauses the backend.
    let onReply: (chunk: Buffer) => boolean = () => true;
    const backend = net.connect({ path: this.config.backendSocketPath, onread: { buffer: BACKEND_READ_BUFFER, callback: (n) => onReply(BACKEND_READ_BUFFER.subarray(0, n)) } });
    const closeBoth = (): void => {
      client.destroy();
      backend.destroy();
    };
    backend.on('error', (error) => {
      this.deps.log.warn({ bdb: this.config.uid, err: error }, 'database backend connection failed');
      closeBoth();
    });
    client.once('close', () => backend.destroy());
    backend.once('close', () => client.destroy());
    // The backend closed: the client's side is ended (after the bytes in flight) and closed soon after even
    // if the client never closes its own (no half-open connection left behind).
    backend.once('end', () => {
      client.end();
      setTimeout(() => client.destroy(), 5000).unref();
    });
    const pipe = (): void => {
      onReply = replyForwarder(backend, client);
      forwardClientCommands(client, backend, {
        login: (args) => this.login(args, client),
        abort: (reason) => {
          this.deps.log.warn({ bdb: this.config.uid, remote: client.remoteAddress, reason }, 'database connection closed');
          closeBoth();
        },
      });
    };
    const defaultUser = this.config.defaultUser;
    const initial = user ?? (defaultUser?.enabled === true && defaultUser.passwordSha256 === undefined ? { username: 'default', password: defaultUser.password } : undefined);
    // The client's bytes wait (the socket stays paused) until the backend accepted the login.
    client.pause();
    if (initial === undefined) {
      pipe();
      return;
    }
    backend.write(encodeCommand(['AUTH', initial.username, initial.password]));
    const timer = setTimeout(() => {
      this.reject(client, 'backend login timed out', true);
      backend.destroy();
    }, this.deps.loginTimeoutMs ?? 5000);
    let reply = Buffer.alloc(0);
    onReply = (chunk: Buffer): boolean => {
      // A copy: the chunk is a view of the shared read buffer.
      reply = Buffer.concat([reply, chunk]);
      const end = reply.indexOf('\r\n');
      if (end < 0) {
        if (reply.length > 4096) backend.destroy();
        return true;
      }
      clearTimeout(timer);
      onReply = () => true;
      const line = reply.toString('utf8', 0, end);
      if (line !== '+OK') {
        this.deps.log.error({ bdb: this.config.uid, user: initial.username, reply: line.slice(0, 200) }, 'backend login failed');
        client.end(user === undefined ? '-ERR database login failed\r\n' : '-ERR certificate user login failed\r\n');
        backend.destroy();
        return true;
      }
      const rest = reply.subarray(end + 2);
      pipe();
      return rest.length > 0 ? onReply(rest) : true;
    };
  }

  /** The command redis gets for a client's AUTH / HELLO-with-AUTH (see login-command.ts). */
  private async login(args: Buffer[], client: net.Socket): Promise<Buffer> {
    const command = parseLoginCommand(args);
    const user = command.username.toString('latin1').slice(0, 100);
    const verdict = command.checked ? await this.checkLogin(command.username.toString('latin1'), command.password) : undefined;
    if (verdict !== undefined && 'username' in verdict) return encodeCommand(command.rewrite(verdict.username, verdict.password));
    if (verdict !== undefined) {
      const refusal: DatabaseLoginRefusal = { bdbUid: this.config.uid, user, remoteAddress: client.remoteAddress ?? '', reason: verdict.refused };
      if (verdict.userUid !== undefined) refusal.userUid = verdict.userUid;
      try {
        this.deps.onLoginRefused?.(refusal);
      } catch (error) {
        this.deps.log.warn({ bdb: this.config.uid, err: error }, 'could not report a refused database login');
      }
    }
    // One line for the first refusal on a connection and one per 100 after it, not one per guess.
    const refusals = (this.refusals.get(client) ?? 0) + 1;
    this.refusals.set(client, refusals);
    if (refusals % 100 === 1) {
      this.deps.log.info({ bdb: this.config.uid, remote: client.remoteAddress, user, refusals }, 'database login refused');
    }
    return encodeCommand(command.rewrite(command.username, REFUSED_PASSWORD));
  }

  /** The backend credentials for a right password; why not when the login is refused. */
  private async checkLogin(name: string, password: Buffer): Promise<{ username: string; password: string } | { refused: DatabaseLoginRefusalReason; userUid?: number }> {
    const config = this.config;
    if (name === 'default') {
      const user = config.defaultUser;
      if (user?.enabled !== true) return { refused: 'default_user_disabled' };
      if (user.passwordSha256 !== undefined) {
        const given = createHash('sha256').update(password).digest();
        if (!timingSafeEqual(given, Buffer.from(user.passwordSha256, 'hex'))) return { refused: 'wrong_password' };
      }
      return { username: 'default', password: user.password };
    }
    const user = config.passwordUsers?.find((u) => u.name === name || u.username === name);
    const check = this.deps.passwords;
    if (user === undefined || check === undefined) return { refused: 'unknown_user' };
    const verdict = await check.check(user.userUid, password.toString('utf8'));
    if (verdict !== 'ok') {
      return { refused: verdict === 'wrong' ? 'wrong_password' : verdict, userUid: user.userUid };
    }
    return { username: user.username, password: user.password };
  }

  async close(): Promise<void> {
    this.front?.unregister();
    this.front = undefined;
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const socket of this.connections) socket.destroy();
    await closed;
  }

  /** New session ticket keys for new handshakes (a ticket made with the old ones no longer resumes). */
  setTicketKeys(keys: Buffer): void {
    this.front?.server.setTicketKeys(keys);
  }

  /** Offers the OCSP staple hook to new handshakes, or stops offering it. */
  setStapling(on: boolean): void {
    const front = this.front;
    if (front?.ocspListener === undefined) return;
    front.server.off('OCSPRequest', front.ocspListener);
    if (on) front.server.on('OCSPRequest', front.ocspListener);
  }

  /** Stops accepting; open connections stay (used when only the port changes). */
  stopListening(): Promise<void> {
    this.front?.unregister();
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }
}

/** The read buffer of every backend socket of the process: each read is handled (forwarded or copied) before the next. */
const BACKEND_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Backend → client: each reply chunk (a view of the shared read buffer) written on as it came; a client that
 * does not keep up pauses the backend until it drains (stream.pipe's backpressure, without its eight
 * listeners). A TLS socket encrypts the bytes (a copy) inside write() when nothing is queued before them, so
 * the view itself may go; otherwise (a queue, or a plain socket whose write may finish later) it is copied.
 */
function replyForwarder(backend: net.Socket, client: net.Socket): (chunk: Buffer) => boolean {
  const encrypts = client instanceof tls.TLSSocket;
  client.on('drain', () => backend.resume());
  return (chunk) => client.write(encrypts && client.writableLength === 0 && !client.writableCorked ? chunk : Buffer.from(chunk));
}

export class DatabaseProxy {
  private readonly endpoints = new Map<number, Endpoint>();
  /** Endpoints of an earlier port of a database: no longer listening, their connections still open. */
  private readonly retired = new Map<number, Endpoint[]>();

  /** Whether there is an OCSP staple to offer (setStapling); until told otherwise, whenever ocspStaple is there. */
  private stapling = true;

  constructor(private readonly deps: DatabaseProxyDeps) {}

  /**
   * Tells the proxy whether it has an OCSP staple now. Without one, no endpoint asks Node for its certificate
   * callback, which costs a call into JavaScript per handshake.
   */
  setStapling(on: boolean): void {
    this.stapling = on;
    for (const endpoint of this.endpoints.values()) endpoint.setStapling(on);
  }

  async apply(config: DatabaseEndpointConfig): Promise<void> {
    const current = this.endpoints.get(config.uid);
    if (current !== undefined && current.config.port === config.port && current.config.address === config.address) {
      current.configure(config);
      return;
    }
    const endpoint = new Endpoint(this.deps, config, () => this.stapling);
    try {
      await endpoint.listen();
    } catch (error) {
      await endpoint.close();
      throw error;
    }
    if (current !== undefined) {
      // A new port: the old listener stops, connections made through it keep going.
      await current.stopListening();
      this.retired.set(config.uid, [...(this.retired.get(config.uid) ?? []), current]);
    }
    this.endpoints.set(config.uid, endpoint);
    // setStapling may have been called while it was starting to listen.
    endpoint.setStapling(this.stapling);
    this.deps.log.info({ bdb: config.uid, port: config.port, tls: config.tls !== undefined, mtls: config.tls?.clientAuth !== undefined }, 'database endpoint listening');
  }

  async remove(uid: number): Promise<void> {
    const endpoint = this.endpoints.get(uid);
    this.endpoints.delete(uid);
    const retired = this.retired.get(uid) ?? [];
    this.retired.delete(uid);
    await Promise.all([...(endpoint === undefined ? [] : [endpoint]), ...retired].map((e) => e.close()));
  }

  uids(): number[] {
    return [...this.endpoints.keys()];
  }

  /** Session ticket keys (48 bytes) for every endpoint's TLS server from now on (rotation). */
  setTicketKeys(keys: Buffer): void {
    for (const endpoint of this.endpoints.values()) endpoint.setTicketKeys(keys);
  }

  async close(): Promise<void> {
    const all = [...this.endpoints.values(), ...[...this.retired.values()].flat()];
    this.endpoints.clear();
    this.retired.clear();
    await Promise.all(all.map((endpoint) => endpoint.close()));
  }
}
