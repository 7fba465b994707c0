// The node's side of the data plane: starts the data-plane process(es), or reattaches to the ones a previous
// run of the node left serving, and keeps them fed and alive. It implements the reconciler's DatabaseEndpoints
// (apply/remove/uids): every change goes to every process at once and resolves when all of them applied it; a
// process that refuses it makes the change fail (not applied). The `proxy` certificate is taken from the node's
// TLS registry (ProxyCertificateSource), the staple from the OCSP staple lookup; password checks and refused
// logins come back from the processes and go to the node's own check and event log.
//
// Per process (Worker): connect to <data-dir>/data-plane/control-<n>.sock; nothing there (or another protocol
// version) → spawn a fresh process (detached, own process group, pidfile) and connect to it. Attached → hello,
// then the full state (settings, certificate, staple, every endpoint). The control connection closing means the
// process is gone: it is restarted at once (logged, counted by onRestart), its own connections dropped, the
// other processes untouched. close() stops the processes (the node stops for good); detach() leaves them
// serving for the next run of the node to reattach.
import { spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import tls, { type SecureContextOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseEndpointConfig } from '../domain/database-endpoint.js';
import type { DatabaseLoginRefusal, DatabasePasswordCheck, ProxyCertificateSource } from '../proxy/database-proxy.js';
import { encodeMessage, LineDecoder, PROTOCOL_VERSION, type DataPlaneMessage, type DataPlaneSettings, type HelloReply, type NodeMessage, type NodeRequest } from './protocol.js';
import { delay, isAlive, waitForExit } from '../lib/processes.js';
import { addProxyStats, type ProxyStatsSnapshot } from '../proxy/proxy-stats.js';
import type { RevocationState } from '../domain/crl-revocation.js';
import { raisePriority } from '../lib/process-priority.js';

export interface DataPlaneSupervisorDeps {
  dataDir: string;
  /** Data-plane processes; more than one share every port with SO_REUSEPORT. */
  processes: number;
  settings: Omit<DataPlaneSettings, 'reusePort' | 'ticketKeys'>;
  certificates: ProxyCertificateSource;
  ocspStaple?: (certificate: Buffer) => Buffer | undefined;
  passwords: DatabasePasswordCheck;
  onLoginRefused: (refusal: DatabaseLoginRefusal) => void;
  log: FastifyBaseLogger;
  /** Told of every client certificate a data-plane process refused for revocation (certplane CRL extension; metrics). */
  onRevocationRefused?: (refusal: { bdbUid: number; errorCode: 'certificate_revoked' | 'revocation_unknown' }) => void;
  /** Told of every restart of a data-plane process that died (metrics). */
  onRestart?: (worker: number, reason: string) => void;
  /** Where the data plane's own log lines go (default: this process's stdout, beside the node's log). */
  writeLog?: (line: string) => void;
  /** A data plane without a node for this long stops (and stops the redis-servers behind it). */
  orphanSeconds?: number;
  requestTimeoutMs?: number;
  /** A reattached process serves endpoints this run has not applied: the reconciler should look again. */
  onInherited?: () => void;
  /** Keep a started spare process to replace one that dies (default true). */
  spare?: boolean;
  /** Nice levels the data-plane processes run above the node (default 0: the node's priority). */
  priorityBoost?: number;
  /** How often the OCSP staple is compared with what the data plane has (it also ages out by nextUpdate). */
  staplePollMs?: number;
  /**
   * How often the TLS session ticket keys are replaced in every process (default 12 h; 0 = never). Node keeps one
   * key set per TLS server, so a ticket issued before a rotation no longer resumes after it (a full handshake).
   */
  ticketKeyRotationMs?: number;
  /** Subscribes to changes of the cached OCSP response, so a new or dropped staple is pushed at once; returns the unsubscriber. */
  stapleChanges?: (listener: () => void) => () => void;
}

const PROXY = 'proxy';
const DEFAULT_TICKET_KEY_ROTATION_MS = 12 * 3600_000;
const ENTRY = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));

class WentAway extends Error {}

interface Pending {
  resolve: (message: DataPlaneMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A control connection to one data-plane process: requests with ids and timeouts, the process's own messages. */
class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Who handles the process's own messages and the end of the connection (changes when a spare is promoted). */
  onMessage: (message: DataPlaneMessage) => void = () => undefined;
  onClose: () => void = () => undefined;
  pid: number | undefined;
  helloReply: HelloReply | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly log: FastifyBaseLogger,
    private readonly timeoutMs: number,
  ) {
    const decoder = new LineDecoder<DataPlaneMessage>();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let messages: DataPlaneMessage[];
      try {
        messages = decoder.push(chunk);
      } catch {
        // Never the parse error's text: it quotes the line, which may carry a password.
        this.log.error('bad message from a data-plane process');
        socket.destroy();
        return;
      }
      for (const message of messages) {
        if (message.type !== 'reply') {
          this.onMessage(message);
          continue;
        }
        const pending = this.pending.get(message.id);
        if (pending === undefined) continue;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        pending.resolve(message);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer);
        pending.reject(new WentAway('the data-plane process went away'));
        this.pending.delete(id);
      }
      this.onClose();
    });
  }

  get alive(): boolean {
    return !this.socket.destroyed;
  }

  write(message: NodeMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(message));
  }

  request(request: NodeRequest): Promise<DataPlaneMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new WentAway('the data-plane process went away'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the data-plane process did not answer ${request.type} in time`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.write({ ...request, id });
    });
  }

  /** Throws unless the request was applied. */
  async apply(request: NodeRequest): Promise<void> {
    const reply = await this.request(request);
    if (reply.type === 'reply' && !reply.ok) throw new Error(reply.error);
  }

  async hello(): Promise<HelloReply | undefined> {
    const reply = await this.request({ type: 'hello', id: 0, version: PROTOCOL_VERSION }).catch(() => undefined);
    if (reply?.type !== 'reply' || !reply.ok || reply.hello === undefined) return undefined;
    this.pid = reply.hello.pid;
    this.helloReply = reply.hello;
    return reply.hello;
  }
}

/** Connects to a data-plane control socket; undefined when nothing listens there. */
function tryConnect(socketPath: string, log: FastifyBaseLogger, timeoutMs: number): Promise<Connection | undefined> {
  if (!existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(new Connection(socket, log, timeoutMs));
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}

/**
 * V8 flags of every data-plane process (before CERTPLANE_DATA_PLANE_EXEC_ARGV, which may override them): a 1 MB
 * semi-space keeps the young generation small. The data plane's short-lived objects are small (its byte buffers
 * live outside the V8 heap), so scavenges stay cheap, and the process does not grow its young generation to
 * tens of MB while connections open (README "Data plane": about 5 MB less per 1 000 idle connections).
 */
const DATA_PLANE_V8_FLAGS = ['--max-semi-space-size=1'];

/**
 * Starts a data-plane process (detached: own process group, no controlling terminal, so a node restart or a
 * signal to the node's group does not reach it) and connects to it. Key material is never in argv or the
 * environment: it comes over the socket.
 */
async function spawnDataPlane(deps: DataPlaneSupervisorDeps, socketPath: string, spare: boolean): Promise<Connection> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  await rm(socketPath, { force: true });
  // CERTPLANE_DATA_PLANE_EXEC_ARGV: extra Node flags for the data-plane processes only (profiling, e.g.
  // `--cpu-prof --cpu-prof-dir=/tmp/prof`), split on spaces.
  const extra = (process.env.CERTPLANE_DATA_PLANE_EXEC_ARGV ?? '').split(' ').filter((a) => a !== '');
  const args = [...(ENTRY.endsWith('.ts') ? process.execArgv : []), ...DATA_PLANE_V8_FLAGS, ...extra, ENTRY, '--control', socketPath, '--orphan-seconds', String(deps.orphanSeconds ?? 600), ...(spare ? ['--spare'] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env: { ...process.env, CERTPLANE_LOG_LEVEL: deps.settings.logLevel } });
  child.once('error', (error) => deps.log.error({ err: error }, 'cannot start a data-plane process'));
  child.unref();
  if (child.pid !== undefined && (deps.priorityBoost ?? 0) > 0) {
    const result = raisePriority(child.pid, deps.priorityBoost ?? 0);
    if (result.raised) deps.log.debug({ pid: child.pid, priority: result.priority }, 'data-plane process priority raised');
    else deps.log.info({ pid: child.pid, reason: result.reason }, 'data-plane process keeps the node\'s CPU priority');
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const connection = await tryConnect(socketPath, deps.log, deps.requestTimeoutMs ?? 15_000);
    if (connection !== undefined) {
      if ((await connection.hello()) !== undefined) return connection;
      connection.socket.destroy();
    }
    if (child.exitCode !== null || child.signalCode !== null) break;
    await delay(10);
  }
  if (child.pid !== undefined && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  throw new Error('a data-plane process did not open its control socket');
}

/** One data-plane process slot: its control connection, restarted (from the warm spare if there is one) when it dies. */
class Worker {
  private connection: Connection | undefined;
  /** Resolves when the process is attached and has the full state. */
  private ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private closing = false;
  readonly socketPath: string;
  private readonly pidPath: string;

  constructor(
    readonly index: number,
    private readonly owner: DataPlaneSupervisor,
    private readonly deps: DataPlaneSupervisorDeps,
  ) {
    const dir = path.join(deps.dataDir, 'data-plane');
    this.socketPath = path.join(dir, `control-${index}.sock`);
    this.pidPath = path.join(dir, `data-plane-${index}.pid`);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  get pid(): number | undefined {
    return this.connection?.pid;
  }

  /** Attaches to the running process, or takes the spare, or starts one; resolves once it has the full state. */
  async start(spare?: Connection): Promise<{ reattached: boolean; hello: HelloReply }> {
    let connection = spare === undefined ? await tryConnect(this.socketPath, this.deps.log, this.deps.requestTimeoutMs ?? 15_000) : undefined;
    let hello = connection === undefined ? undefined : await connection.hello();
    if (connection !== undefined && hello?.version !== PROTOCOL_VERSION) {
      this.deps.log.warn({ worker: this.index, version: hello?.version }, 'data-plane process speaks another protocol version; replacing it');
      await connection.request({ type: 'shutdown', id: 0 }).catch(() => undefined);
      connection.socket.destroy();
      connection = undefined;
    }
    const reattached = connection !== undefined;
    if (connection === undefined) {
      await this.stopLeftover();
      if (spare !== undefined && spare.alive) {
        // The spare takes this slot's socket path (a bound Unix socket keeps working when renamed); the state
        // follows in the same breath (the process handles requests in order).
        connection = spare;
        void connection.apply({ type: 'promote', id: 0, control: this.socketPath }).catch((error: unknown) => {
          this.deps.log.error({ err: error, worker: this.index }, 'the spare data-plane process could not take over');
          spare.socket.destroy();
        });
      } else {
        connection = await spawnDataPlane(this.deps, this.socketPath, false);
      }
      hello = connection.helloReply;
    }
    if (hello === undefined) {
      connection.socket.destroy();
      throw new Error(`data-plane process ${this.index} did not say hello`);
    }
    const attached = connection;
    attached.onMessage = (message) => this.onMessage(attached, message);
    attached.onClose = () => this.onClose(attached);
    if (!attached.alive) throw new Error(`data-plane process ${this.index} went away while starting`);
    this.connection = attached;
    await Promise.all([writeFile(this.pidPath, `${hello.pid}\n`, { mode: 0o600 }), this.sendState(attached)]);
    this.markReady();
    return { reattached, hello };
  }

  /** A data-plane process of this slot that no longer answers on its socket: killed (pidfile + cmdline). */
  private async stopLeftover(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidPath, 'utf8').trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(ENTRY) || !cmdline.includes(path.dirname(this.socketPath))) return;
    } catch {
      return;
    }
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 1000, 10);
  }

  private onMessage(connection: Connection, message: DataPlaneMessage): void {
    switch (message.type) {
      case 'reply':
        return;
      case 'log':
        (this.deps.writeLog ?? ((line: string) => process.stdout.write(line)))(message.line.endsWith('\n') ? message.line : `${message.line}\n`);
        return;
      case 'login-refused':
        this.deps.onLoginRefused(message.refusal as DatabaseLoginRefusal);
        return;
      case 'revocation-refused':
        this.deps.onRevocationRefused?.(message.refusal);
        return;
      case 'password-check':
        this.deps.passwords.check(message.userUid, message.password).then(
          (verdict) => connection.write({ type: 'password-result', id: message.id, verdict }),
          (error: unknown) => connection.write({ type: 'password-result', id: message.id, error: error instanceof Error ? error.message : String(error) }),
        );
        return;
    }
  }

  /** The settings message (the current ticket keys included). */
  settingsRequest(): NodeRequest {
    return { type: 'settings', id: 0, settings: { ...this.deps.settings, reusePort: this.deps.processes > 1, ticketKeys: this.owner.ticketKeys } };
  }

  /** The whole state, in order: settings, certificate, staple, every endpoint (each must be applied). */
  private async sendState(connection: Connection): Promise<void> {
    const requests: NodeRequest[] = [this.settingsRequest()];
    const certificate = this.owner.certificateMessage();
    if (certificate !== undefined) requests.push(certificate);
    requests.push({ type: 'staple', id: 0, staple: this.owner.currentStaple() });
    const revocation = this.owner.currentRevocation();
    if (revocation !== undefined) requests.push({ type: 'revocation', id: 0, state: revocation });
    // A reattached process still checking with what a previous run of the node set, while this run has none: off.
    else if (connection.helloReply?.revocation === true) requests.push({ type: 'revocation', id: 0, state: null });
    for (const endpoint of this.owner.endpointConfigs()) requests.push({ type: 'apply', id: 0, endpoint });
    const replies = await Promise.all(requests.map((request) => connection.request(request)));
    const failed = replies.find((r) => r.type === 'reply' && !r.ok);
    if (failed?.type === 'reply' && !failed.ok) throw new Error(`data-plane process ${this.index} could not apply its state: ${failed.error}`);
  }

  /** Sends one change; waits for a process being restarted (which gets the full state anyway). */
  async request(request: NodeRequest): Promise<void> {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        this.ready.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.deps.requestTimeoutMs ?? 15_000))),
      ]);
      clearTimeout(timer);
      if (!waited) throw new Error(`data-plane process ${this.index} is not running`);
      if (this.closing) throw new Error(`data-plane process ${this.index} is stopping`);
      const connection = this.connection;
      if (connection === undefined || !connection.alive) {
        await delay(5);
        continue;
      }
      try {
        await connection.apply(request);
        return;
      } catch (error) {
        // The process died meanwhile: its successor gets the full state, this change included.
        if (error instanceof WentAway && !this.closing) continue;
        throw new Error(`data-plane process ${this.index}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
  }

  private onClose(connection: Connection): void {
    if (this.connection !== connection || this.closing) return;
    this.connection = undefined;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    const since = Date.now();
    const previous = connection.pid;
    this.deps.log.warn({ worker: this.index, pid: previous }, 'data-plane process went away; restarting it');
    const restart = async (): Promise<void> => {
      for (let attempt = 0; !this.closing; attempt++) {
        try {
          const { hello } = await this.start(attempt === 0 ? this.owner.takeSpare() : undefined);
          this.deps.log.warn({ worker: this.index, pid: hello.pid, previous_pid: previous, ms: Date.now() - since }, 'data-plane process restarted');
          this.deps.onRestart?.(this.index, 'exited');
          return;
        } catch (error) {
          this.deps.log.error({ err: error, worker: this.index }, 'data-plane process restart failed; retrying');
          await delay(Math.min(1000, 50 * 2 ** attempt));
        }
      }
    };
    void restart();
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    const connection = this.connection;
    const pid = connection?.pid;
    if (connection?.alive === true) {
      await connection.request({ type: 'shutdown', id: 0 }).catch(() => undefined);
      connection.socket.destroy();
    }
    if (pid !== undefined) {
      if (!(await waitForExit(pid, 5000, 10))) process.kill(pid, 'SIGKILL');
    }
    await rm(this.pidPath, { force: true });
  }

  detach(): void {
    this.closing = true;
    this.connection?.socket.destroy();
  }

  /** The process's counters, or undefined when it is not attached or does not answer within timeoutMs. */
  async stats(timeoutMs: number): Promise<{ pid: number; snapshot: ProxyStatsSnapshot } | undefined> {
    const connection = this.connection;
    if (connection === undefined || !connection.alive || connection.pid === undefined) return undefined;
    const pid = connection.pid;
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      connection.request({ type: 'stats', id: 0 }).catch(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
    ]);
    clearTimeout(timer);
    return reply?.type === 'reply' && reply.ok && reply.stats !== undefined ? { pid, snapshot: reply.stats } : undefined;
  }
}

export class DataPlaneSupervisor {
  private readonly endpoints = new Map<number, DatabaseEndpointConfig>();
  /** Endpoints a reattached process serves that this run has not applied yet (removed unless applied). */
  private readonly inherited = new Set<number>();
  private readonly workers: Worker[];
  private certificate: { certificate: string; key: string } | undefined;
  private staple: string | null = null;
  /** Revocation checking as last set (certplane CRL extension); undefined: never set, nothing is sent (RS behaviour). */
  private revocation: RevocationState | null | undefined;
  private revocationJson: string | undefined;
  private stapleTimer: NodeJS.Timeout | undefined;
  private unsubscribeStaple: (() => void) | undefined;
  private unregister: (() => void) | undefined;
  /** The last certificate change sent to the processes: settled() waits for it. */
  private certificateSent: Promise<void> = Promise.resolve();
  /** A started, idle data-plane process that replaces one that dies (a cold start can take longer than 1 s). */
  private spare: Connection | undefined;
  private spareStarting = false;
  private spareCount = 0;
  private spareDir: Promise<string> | undefined;
  private closed = false;
  /**
   * Session ticket keys for every process of this run of the node (a reattached process gets them too, and
   * applies them to the endpoints it already serves), replaced every ticketKeyRotationMs.
   */
  ticketKeys = randomBytes(48).toString('base64');
  private ticketTimer: NodeJS.Timeout | undefined;
  /** The last counters of each data-plane process (by pid), and the totals of processes that were replaced. */
  private readonly lastStats = new Map<number, ProxyStatsSnapshot>();
  private retiredStats: ProxyStatsSnapshot = { endpoints: {} };

  constructor(private readonly deps: DataPlaneSupervisorDeps) {
    this.workers = Array.from({ length: Math.max(1, deps.processes) }, (_, i) => new Worker(i, this, deps));
  }

  async start(): Promise<void> {
    const current = this.deps.certificates.get(PROXY);
    if (current?.key !== undefined) this.certificate = { certificate: current.certificate, key: current.key };
    this.staple = this.lookupStaple();
    // Rotations of the proxy certificate: checked against the key here (a bad pair throws to the agent, which
    // records the change as failed), then sent to every process; settled() reports their answers.
    this.unregister = this.deps.certificates.register(
      PROXY,
      {
        setSecureContext: (options: SecureContextOptions) => {
          // The registry passes the installed PEM strings (tls-context-registry reload()).
          const certificate = options.cert as string;
          const key = options.key as string;
          tls.createSecureContext({ cert: certificate, key });
          this.certificate = { certificate, key };
          this.certificateSent = this.sendCertificate();
        },
      },
      () => ({}),
    );
    this.stapleTimer = setInterval(() => void this.pushStaple().catch(() => undefined), this.deps.staplePollMs ?? 1000);
    this.stapleTimer.unref();
    this.unsubscribeStaple = this.deps.stapleChanges?.(() => void this.pushStaple().catch(() => undefined));
    const rotation = this.deps.ticketKeyRotationMs ?? DEFAULT_TICKET_KEY_ROTATION_MS;
    if (rotation > 0) {
      this.ticketTimer = setInterval(() => void this.rotateTicketKeys(), Math.min(rotation, 2 ** 31 - 1));
      this.ticketTimer.unref();
    }
    // The node does not wait for the processes to start (a cold Node start is slow on a busy machine): changes
    // wait for them instead (Worker.request), and a reattached process's endpoints are reported when known.
    // It waits (bounded) for the first attempt, so the node is ready with its data plane in the normal case.
    const firstAttempts = this.workers.map((worker) => new Promise<void>((resolve) => void this.run(worker, resolve)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(firstAttempts), new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
    clearTimeout(timer);
  }

  private async run(worker: Worker, attempted: () => void): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const started = worker.start();
        void started.then(attempted, attempted);
        const { reattached, hello } = await started;
        if (reattached) {
          this.deps.log.info({ worker: worker.index, pid: hello.pid, endpoints: hello.uids, since: new Date(hello.startedAt).toISOString() }, 'reattached to a running data-plane process');
          const inherited = hello.uids.filter((uid) => !this.endpoints.has(uid));
          for (const uid of inherited) this.inherited.add(uid);
          if (inherited.length > 0) this.deps.onInherited?.();
        } else {
          this.deps.log.info({ worker: worker.index, pid: hello.pid }, 'data-plane process started');
        }
        // The spare starts once the node is up, not in competition with its start.
        setTimeout(() => this.startSpare(), 3000).unref();
        return;
      } catch (error) {
        this.deps.log.error({ err: error, worker: worker.index }, 'data-plane process could not be started; retrying');
        await delay(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  /**
   * New session ticket keys, sent to every process at once (each swaps them into all its TLS servers). A process
   * that misses them (being restarted) gets them with its full state; one that refuses is logged.
   */
  async rotateTicketKeys(): Promise<void> {
    this.ticketKeys = randomBytes(48).toString('base64');
    const results = await Promise.allSettled(this.workers.map((worker) => worker.request(worker.settingsRequest())));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) this.deps.log.warn({ failed }, 'TLS session ticket keys not applied by every data-plane process');
    else this.deps.log.info('TLS session ticket keys rotated');
  }

  /** The spare, if one is ready (a new one is started behind it). */
  takeSpare(): Connection | undefined {
    const spare = this.spare;
    this.spare = undefined;
    if (spare !== undefined) spare.onClose = () => undefined;
    this.startSpare();
    return spare?.alive === true ? spare : undefined;
  }

  private startSpare(): void {
    if (this.deps.spare === false || this.spareStarting || this.spare !== undefined || this.closed) return;
    this.spareStarting = true;
    // A path of its own per spare (the one being promoted keeps its socket while the next one starts), in a
    // private directory outside the data dir: a spare coming and going changes nothing there.
    this.spareDir ??= mkdtemp(path.join(os.tmpdir(), 'certplane-spare-'));
    this.spareDir
      .then((dir) => spawnDataPlane(this.deps, path.join(dir, `spare-${++this.spareCount}.sock`), true))
      .then(
      (spare) => {
        this.spareStarting = false;
        if (this.closed) {
          spare.socket.destroy();
          return;
        }
        this.spare = spare;
        spare.onClose = () => {
          if (this.spare !== spare) return;
          this.spare = undefined;
          setTimeout(() => this.startSpare(), 1000).unref();
        };
      },
      (error: unknown) => {
        this.spareStarting = false;
        this.deps.log.warn({ err: error }, 'could not start a spare data-plane process; retrying');
        setTimeout(() => this.startSpare(), 5000).unref();
      },
    );
  }

  /** Resolves when every process applied the last proxy certificate; throws if one could not (and sends it again for the next pass). */
  settled(): Promise<void> {
    const sent = this.certificateSent;
    return sent.catch((error: unknown) => {
      if (this.certificateSent === sent) this.certificateSent = this.sendCertificate();
      throw error;
    });
  }

  private sendCertificate(): Promise<void> {
    const message = this.certificateMessage();
    if (message === undefined) return Promise.resolve();
    const sent = Promise.all(this.workers.map((w) => w.request(message))).then(() => this.pushStaple());
    sent.catch((error: unknown) => this.deps.log.error({ err: error }, 'a data-plane process could not apply the proxy certificate'));
    return sent;
  }

  certificateMessage(): NodeRequest | undefined {
    return this.certificate === undefined ? undefined : { type: 'certificate', id: 0, name: PROXY, ...this.certificate };
  }

  currentRevocation(): RevocationState | null | undefined {
    return this.revocation;
  }

  /** Sets revocation checking on every process; resolves once all applied it (throws if one could not). */
  async setRevocation(state: RevocationState | null): Promise<void> {
    const json = JSON.stringify(state);
    if (json === this.revocationJson || (this.revocation === undefined && state === null)) return;
    this.revocation = state;
    this.revocationJson = json;
    try {
      await Promise.all(this.workers.map((w) => w.request({ type: 'revocation', id: 0, state })));
    } catch (error) {
      this.revocationJson = undefined; // sent again on the next pass
      throw error;
    }
  }

  currentStaple(): string | null {
    return this.staple;
  }

  endpointConfigs(): DatabaseEndpointConfig[] {
    return [...this.endpoints.values()];
  }

  pids(): Array<number | undefined> {
    return this.workers.map((w) => w.pid);
  }

  private lookupStaple(): string | null {
    if (this.certificate === undefined || this.deps.ocspStaple === undefined) return null;
    const der = new X509Certificate(this.certificate.certificate).raw;
    return this.deps.ocspStaple(der)?.toString('base64') ?? null;
  }

  private async pushStaple(): Promise<void> {
    const next = this.lookupStaple();
    if (next === this.staple) return;
    this.staple = next;
    await Promise.all(this.workers.map((w) => w.request({ type: 'staple', id: 0, staple: next })));
  }

  async apply(config: DatabaseEndpointConfig): Promise<void> {
    const previous = this.endpoints.get(config.uid);
    this.endpoints.set(config.uid, config);
    this.inherited.delete(config.uid);
    try {
      await Promise.all(this.workers.map((w) => w.request({ type: 'apply', id: 0, endpoint: config })));
    } catch (error) {
      // Not applied: a later process restart must not send what failed as if it were the state.
      if (previous === undefined) this.endpoints.delete(config.uid);
      else this.endpoints.set(config.uid, previous);
      throw error;
    }
  }

  async remove(uid: number): Promise<void> {
    this.endpoints.delete(uid);
    this.inherited.delete(uid);
    await Promise.all(this.workers.map((w) => w.request({ type: 'remove', id: 0, uid })));
  }

  uids(): number[] {
    return [...new Set([...this.endpoints.keys(), ...this.inherited])];
  }

  /**
   * The counters of all processes added up, per database this node serves (metrics). A process that does not
   * answer within timeoutMs counts with its last answer; a replaced process's totals are kept, so the counters
   * never go down while the node runs.
   */
  async stats(timeoutMs = 1000): Promise<ProxyStatsSnapshot> {
    const answers = await Promise.all(this.workers.map((w) => w.stats(timeoutMs)));
    const live = new Set(this.workers.map((w) => w.pid));
    // An answer of a process replaced while it was asked would be counted twice (already retired): dropped.
    for (const answer of answers) if (answer !== undefined && live.has(answer.pid)) this.lastStats.set(answer.pid, answer.snapshot);
    for (const [pid, snapshot] of this.lastStats) {
      if (live.has(pid)) continue;
      this.retiredStats = addProxyStats([this.retiredStats, snapshot], { withOpen: false });
      this.lastStats.delete(pid);
    }
    const total = addProxyStats([this.retiredStats, ...this.lastStats.values()]);
    const served = new Set(this.uids().map(String));
    for (const uid of Object.keys(total.endpoints)) if (!served.has(uid)) delete total.endpoints[uid];
    for (const uid of Object.keys(this.retiredStats.endpoints)) if (!served.has(uid)) delete this.retiredStats.endpoints[uid];
    return total;
  }

  /** The node stops for good: the data-plane processes stop too. */
  async close(): Promise<void> {
    this.stopFollowing();
    await Promise.all(this.workers.map((w) => w.shutdown()));
  }

  /** The node stops but the data plane keeps serving, for the next run of the node to reattach. */
  detach(): void {
    this.stopFollowing();
    for (const worker of this.workers) worker.detach();
  }

  /** Close and detach alike: no spare, no staple or certificate updates any more. */
  private stopFollowing(): void {
    this.closed = true;
    this.spare?.socket.destroy();
    void this.spareDir?.then((dir) => rm(dir, { recursive: true, force: true })).catch(() => undefined);
    clearInterval(this.stapleTimer);
    clearInterval(this.ticketTimer);
    this.unsubscribeStaple?.();
    this.unregister?.();
  }
}
