// Entry point of a data-plane process: `node main.js --control <socket> --orphan-seconds N`. It serves the
// database endpoints (src/proxy DatabaseProxy) with what the node sends over the control socket (protocol.ts)
// and reads nothing from the store. It runs detached from the node (own process group), so a control-plane
// restart closes no database connection: the restarted node reconnects to the same socket and resends its
// state. Password checks and refused logins go to the node over the socket; without a node attached a
// password login is refused (the connection is closed) and the rest keeps serving.
//
// It exits when told to (shutdown, SIGTERM), when its control socket disappears (the data dir was removed) or
// when no node has been attached for --orphan-seconds (30 s when it serves no endpoint). Leaving as an orphan,
// it also stops the redis-servers it fronted, so nothing is left running without a supervisor.
import net from 'node:net';
import { Writable } from 'node:stream';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../lib/logger.js';
import { DatabaseProxy, type DatabaseProxyDeps } from '../proxy/database-proxy.js';
import { LocalCertificates } from './local-certificates.js';
import { ProxyStats } from '../proxy/proxy-stats.js';
import { RevocationIndex } from '../domain/crl-revocation.js';
import { encodeMessage, LineDecoder, PROTOCOL_VERSION, type DataPlaneMessage, type NodeMessage, type NodeRequest, type PasswordVerdict } from './protocol.js';

const PASSWORD_CHECK_TIMEOUT_MS = 5000;
/** A process without endpoints and without a node leaves after this long. */
const EMPTY_ORPHAN_MS = 30_000;

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const initialControl = argument('control');
if (initialControl === undefined) {
  process.stderr.write('usage: data-plane --control <socket> [--orphan-seconds N] [--spare]\n');
  process.exit(2);
}
/** The control socket's path: a spare's moves to the slot it takes over (promote). */
let controlPath: string = initialControl;
/** A spare serves nothing until promoted, and leaves with the node that started it. */
let spare = process.argv.includes('--spare');
const orphanMs = Number(argument('orphan-seconds') ?? '600') * 1000;
const startedAt = Date.now();

let node: net.Socket | undefined;
let detachedSince = Date.now();
let fileLog: WriteStream | undefined;

/** Log lines go to the attached node (its log), else to data-plane.log beside the socket (0600). */
const logSink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    if (node !== undefined && !node.destroyed) {
      send({ type: 'log', line: chunk.toString('utf8') });
    } else {
      if (fileLog === undefined && !spare) {
        fileLog = createWriteStream(path.join(path.dirname(controlPath), 'data-plane.log'), { flags: 'a', mode: 0o600 });
        fileLog.on('error', () => undefined);
      }
      fileLog?.write(chunk);
    }
    callback();
  },
});
const log = createLogger(process.env.CERTPLANE_LOG_LEVEL ?? 'info', logSink).child({ part: 'proxy', data_plane_pid: process.pid });

function send(message: DataPlaneMessage): void {
  if (node === undefined || node.destroyed) return;
  node.write(encodeMessage(message));
}

// Password checks asked of the node, by id.
let nextCheckId = 1;
const checks = new Map<number, { resolve: (v: PasswordVerdict) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

function failChecks(reason: string): void {
  for (const [id, check] of checks) {
    clearTimeout(check.timer);
    check.reject(new Error(reason));
    checks.delete(id);
  }
}

const certificates = new LocalCertificates();
let staple: Buffer | undefined;
const stats = new ProxyStats();
let revocation: RevocationIndex | undefined;
const deps: DatabaseProxyDeps = {
  revocation: () => revocation,
  onRevocationRefused: (refusal) => send({ type: 'revocation-refused', refusal }),
  certificates,
  stats,
  log,
  ocspStaple: () => staple,
  passwords: {
    check: (userUid, password) =>
      new Promise<PasswordVerdict>((resolve, reject) => {
        if (node === undefined || node.destroyed) {
          reject(new Error('the control plane is not attached'));
          return;
        }
        const id = nextCheckId++;
        const timer = setTimeout(() => {
          checks.delete(id);
          reject(new Error('the control plane did not answer the password check in time'));
        }, PASSWORD_CHECK_TIMEOUT_MS);
        checks.set(id, { resolve, reject, timer });
        send({ type: 'password-check', id, userUid, password });
      }),
  },
  onLoginRefused: (refusal) => send({ type: 'login-refused', refusal }),
};
const proxy = new DatabaseProxy(deps);
// No staple until the node sends one.
proxy.setStapling(false);

/** The redis-server pids behind the endpoints, read from their pidfiles while they exist (for an orphan exit). */
const backendPids = new Map<number, number>();
const backendSockets = new Map<number, string>();

function refreshBackendPids(): void {
  for (const [uid, socketPath] of backendSockets) {
    try {
      const pid = Number(readFileSync(path.join(path.dirname(socketPath), 'redis.pid'), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1) backendPids.set(uid, pid);
    } catch {
      // not there (yet, or any more): keep the last one known
    }
  }
}

let exiting = false;
async function exit(reason: string, stopBackends: false | 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (exiting) return;
  exiting = true;
  if (stopBackends !== false) {
    // Orphaned: nothing would supervise the redis-servers behind the endpoints any more. SIGTERM lets them save;
    // with their directory gone a save fails and redis would refuse to stop, so then SIGKILL.
    for (const pid of backendPids.values()) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) process.kill(pid, stopBackends);
      } catch {
        // gone already
      }
    }
  }
  if (!spare) log.warn({ reason }, 'data plane exiting');
  failChecks('the data plane is exiting');
  control.close();
  await Promise.race([proxy.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000))]);
  fileLog?.end();
  // A spare's private directory (outside the data dir) goes with the last spare of its node.
  if (spare) await rm(path.dirname(controlPath), { recursive: true, force: true }).catch(() => undefined);
  setTimeout(() => process.exit(0), 50).unref();
}

async function handle(request: NodeRequest): Promise<DataPlaneMessage> {
  switch (request.type) {
    case 'hello':
      return { type: 'reply', id: request.id, ok: true, hello: { version: PROTOCOL_VERSION, pid: process.pid, uids: proxy.uids(), startedAt, ...(revocation === undefined ? {} : { revocation: true }) } };
    case 'settings':
      deps.handshakeTimeoutMs = request.settings.handshakeTimeoutMs;
      deps.maxConnections = request.settings.maxConnections;
      deps.idleTimeoutMs = request.settings.idleTimeoutMs;
      deps.reusePort = request.settings.reusePort;
      deps.ticketKeys = Buffer.from(request.settings.ticketKeys, 'base64');
      // New keys (a rotation, or a reattaching node's): every TLS server takes them now, so all processes
      // of the node agree and a ticket from one resumes on another.
      proxy.setTicketKeys(deps.ticketKeys);
      log.level = request.settings.logLevel;
      return { type: 'reply', id: request.id, ok: true };
    case 'certificate':
      certificates.install(request.name, { certificate: request.certificate, key: request.key });
      log.info({ certificate: request.name }, 'certificate applied in the data plane');
      return { type: 'reply', id: request.id, ok: true };
    case 'staple':
      staple = request.staple === null ? undefined : Buffer.from(request.staple, 'base64');
      proxy.setStapling(staple !== undefined);
      return { type: 'reply', id: request.id, ok: true };
    case 'revocation':
      revocation = request.state === null ? undefined : new RevocationIndex(request.state);
      log.info({ enabled: revocation !== undefined, crls: request.state?.lists.length ?? 0 }, 'certificate revocation lists applied in the data plane');
      return { type: 'reply', id: request.id, ok: true };
    case 'apply':
      await proxy.apply(request.endpoint);
      stats.declare(request.endpoint.uid);
      backendSockets.set(request.endpoint.uid, request.endpoint.backendSocketPath);
      refreshBackendPids();
      return { type: 'reply', id: request.id, ok: true };
    case 'remove':
      await proxy.remove(request.uid);
      stats.forget(request.uid);
      backendSockets.delete(request.uid);
      backendPids.delete(request.uid);
      return { type: 'reply', id: request.id, ok: true };
    case 'promote': {
      // The slot's socket path (possibly on another file system than the spare's): listen there, drop the old one.
      const previous = control;
      const previousPath = controlPath;
      control = await listenControl(request.control);
      controlPath = request.control;
      previous.close();
      await rm(previousPath, { force: true });
      spare = false;
      log.info({ control: controlPath }, 'spare data-plane process took over');
      return { type: 'reply', id: request.id, ok: true };
    }
    case 'stats':
      return { type: 'reply', id: request.id, ok: true, stats: stats.snapshot() };
    case 'shutdown':
      setImmediate(() => void exit('the node stopped', false));
      return { type: 'reply', id: request.id, ok: true };
  }
  return { type: 'reply', id: (request as { id: number }).id, ok: false, error: 'unknown request' };
}

function attach(socket: net.Socket): void {
  if (node !== undefined) {
    failChecks('another control-plane connection replaced this one');
    node.destroy();
  }
  node = socket;
  socket.setNoDelay(true);
  const decoder = new LineDecoder<NodeMessage>();
  let chain: Promise<void> = Promise.resolve();
  socket.on('data', (chunk: Buffer) => {
    let messages: NodeMessage[];
    try {
      messages = decoder.push(chunk);
    } catch {
      // Never the parse error's text: it quotes the line, which may carry key material.
      log.error('bad control message; dropping the control connection');
      socket.destroy();
      return;
    }
    for (const message of messages) {
      if (message.type === 'password-result') {
        const check = checks.get(message.id);
        if (check === undefined) continue;
        checks.delete(message.id);
        clearTimeout(check.timer);
        if (message.verdict !== undefined) check.resolve(message.verdict);
        else check.reject(new Error(message.error ?? 'password check failed'));
        continue;
      }
      // Requests in order, one at a time: an apply waits for the certificate sent before it.
      chain = chain.then(async () => {
        let reply: DataPlaneMessage;
        try {
          reply = await handle(message);
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          log.error({ request: message.type, error: text }, 'data plane could not apply a change');
          reply = { type: 'reply', id: message.id, ok: false, error: text };
        }
        if (node === socket) send(reply);
      });
    }
  });
  socket.on('error', () => socket.destroy());
  socket.once('close', () => {
    if (node !== socket) return;
    node = undefined;
    detachedSince = Date.now();
    if (spare) {
      void exit('spare without a node', false);
      return;
    }
    failChecks('the control plane went away');
    log.warn('control plane detached; endpoints keep serving');
  });
}

/** Listens for the node on a control socket path (0600). */
async function listenControl(at: string): Promise<net.Server> {
  const server = net.createServer((socket) => attach(socket));
  server.on('error', (error) => {
    log.error({ err: error }, 'control socket error');
    void exit('control socket error', false);
  });
  await rm(at, { force: true });
  await new Promise<void>((resolve) => server.listen(at, resolve));
  await chmod(at, 0o600);
  return server;
}
let control = await listenControl(controlPath);

setInterval(() => {
  refreshBackendPids();
  if (!existsSync(controlPath)) void exit('the control socket is gone (data dir removed)', 'SIGKILL');
  else if (node === undefined && Date.now() - detachedSince > orphanMs) void exit(`no control plane for ${orphanMs / 1000} s`, 'SIGTERM');
  // Nothing to keep serving: no reason to wait long for the node.
  else if (node === undefined && proxy.uids().length === 0 && Date.now() - detachedSince > EMPTY_ORPHAN_MS) void exit('no control plane and no endpoints', false);
}, 1000).unref();
process.once('SIGTERM', () => void exit('SIGTERM', false));
process.once('SIGINT', () => void exit('SIGINT', false));
