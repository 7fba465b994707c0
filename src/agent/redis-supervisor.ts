// Runs one redis-server per local database: its own directory <data-dir>/redis/<uid> (mode 0700) with
// redis.conf, the bootstrap ACL file, the RDB snapshot, the pidfile, the log and the Unix socket (mode 0700).
// redis-server listens on the Unix socket only (`port 0`): clients reach it through certplane's proxy.
//
// Supervision, per instance:
//   stopped --ensure()--> starting --ready--> running --exit (not asked)--> backoff --timer--> starting
//   starting --exit/timeout--> backoff;  any --stop()--> stopping --exit--> stopped
// Control-plane restarts: redis-server runs detached (own process group), so a node that dies or restarts
// closes no database connection (the data plane, src/data-plane, keeps serving too). The next start adopts a
// redis-server still running from the pidfile (checked against /proc/<pid>/cmdline and answering the admin
// user on its socket): same process, its connections untouched, its liveness watched by polling the pid. One
// that does not answer is stopped and a fresh one started on the same data (save points + save on SIGTERM).
// Orphans: a data plane left without a node stops the redis-servers behind it (src/data-plane/main.ts); a
// graceful stop of the node stops them too.
//
// ACLs: the ACL file holds only `default` and certplane's admin user (the only user without the data-plane
// deny, see domain/database-users.ts; its secret never leaves the node); every database user is applied at run
// time with ACL SETUSER / ACL DELUSER over the admin connection (never CONFIG REWRITE, see STACK-NOTES), so a
// user whose rules redis rejects is dropped and logged instead of keeping redis from starting.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { ExponentialBackoff, noJitterGenerator, type IBackoff } from 'cockatiel';
import { writeFileDurably } from './atomic-file.js';
import { runRedisCommands, type RedisAuth } from './redis-admin.js';
import { sha256Hex, type RedisSecrets } from './redis-secrets.js';
import { RespError } from '../lib/resp.js';
import { aclRuleArguments, DATA_PLANE_DENY } from '../domain/database-users.js';
import { raisePriority } from '../lib/process-priority.js';
import { delay, isAlive, waitForExit } from '../lib/processes.js';

export const ADMIN_USERNAME = '__certplane_admin';

export interface RedisUserSpec {
  username: string;
  /** SHA-256 hex of the user's redis password: the node's secret for the user, never the user's own password. */
  passwordSha256: string;
  /** One rule string per bound Redis ACL (root rules, then selectors). */
  rules: string[];
}

export interface RedisDatabaseSpec {
  uid: number;
  /** Bytes; 0 = unlimited. */
  maxmemory: number;
  evictionPolicy: string;
  /** passwordSha256: of the node's secret for this user (never a client's password); absent: no password. */
  defaultUser: { enabled: boolean; passwordSha256?: string | undefined };
  users: RedisUserSpec[];
}

export type RedisInstanceState = 'stopped' | 'starting' | 'running' | 'backoff' | 'stopping';

export interface RedisSupervisorDeps {
  /** <data-dir>/redis */
  redisDir: string;
  secrets: RedisSecrets;
  log: FastifyBaseLogger;
  redisServer?: string;
  /** First restart delay after a crash; doubles up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  startTimeoutMs?: number;
  /** Called after an instance (re)started on its own, e.g. after a crash, with its new pid. */
  onRestarted?: (uid: number, pid: number) => void;
  /**
   * redis-server's `maxclients` (default 10000): at least the connections the data plane may proxy to one
   * database, so a client meets the endpoint's own limit, never redis's "max number of clients reached".
   */
  maxClients?: number;
  /** Nice levels the redis-servers run above the node (default 0), as the data plane (lib/process-priority.ts). */
  priorityBoost?: number;
}

const SOCKET_PATH_MAX = 100;

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

class RedisInstance {
  state: RedisInstanceState = 'stopped';
  private child: ChildProcess | undefined;
  /** A redis-server adopted from an earlier run of the node (not our child): its pid, watched by polling. */
  private adopted: number | undefined;
  private adoptedWatch: NodeJS.Timeout | undefined;
  private spec: RedisDatabaseSpec;
  private appliedKey: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Restart delays: restartDelayMs, doubling up to maxRestartDelayMs (the backoff policy of the loops, cockatiel). */
  private readonly restartPolicy: ExponentialBackoff<number>;
  private restartStep: IBackoff<unknown> | undefined;
  private startedAt = 0;
  private starting: Promise<void> | undefined;
  private applying: Promise<void> = Promise.resolve();
  readonly dir: string;
  readonly socketPath: string;
  private readonly confPath: string;
  private readonly pidPath: string;

  constructor(
    private readonly deps: RedisSupervisorDeps,
    spec: RedisDatabaseSpec,
  ) {
    this.spec = spec;
    this.dir = path.join(deps.redisDir, String(spec.uid));
    this.socketPath = path.join(this.dir, 'redis.sock');
    this.confPath = path.join(this.dir, 'redis.conf');
    this.pidPath = path.join(this.dir, 'redis.pid');
    this.restartPolicy = new ExponentialBackoff({ generator: noJitterGenerator, initialDelay: deps.restartDelayMs ?? 200, maxDelay: deps.maxRestartDelayMs ?? 5000 });
    if (this.socketPath.length > SOCKET_PATH_MAX) {
      throw new Error(`the Unix socket path ${this.socketPath} is longer than ${SOCKET_PATH_MAX} characters: use a shorter --data-dir`);
    }
  }

  get pid(): number | undefined {
    return this.state === 'running' ? (this.child?.pid ?? this.adopted) : undefined;
  }

  private get admin(): RedisAuth {
    return { username: ADMIN_USERNAME, password: this.deps.secrets.adminPassword(this.spec.uid) };
  }

  /** Starts the server if needed, then brings its configuration and users to spec. */
  async ensure(spec: RedisDatabaseSpec): Promise<void> {
    this.spec = spec;
    if (this.state !== 'running') {
      this.starting ??= this.start().finally(() => (this.starting = undefined));
      await this.starting;
    }
    await this.applySpec(false);
  }

  private async start(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.state = 'starting';
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      if (await this.adoptLeftover()) return;
      await this.stopLeftover();
      await writeFileDurably(this.confPath, this.configText(), 0o600);
      await writeFileDurably(path.join(this.dir, 'users.acl'), this.bootstrapAcl(), 0o600);
      await rm(this.socketPath, { force: true });
      // Detached: it outlives a restart of the node, which adopts it (adoptLeftover).
      const child = spawn(this.deps.redisServer ?? 'redis-server', [this.confPath], { stdio: 'ignore', detached: true });
      child.unref();
      this.child = child;
      if (child.pid !== undefined && (this.deps.priorityBoost ?? 0) > 0) {
        const raised = raisePriority(child.pid, this.deps.priorityBoost ?? 0);
        if (!raised.raised) this.deps.log.info({ bdb: this.spec.uid, pid: child.pid, reason: raised.reason }, 'redis-server keeps the node\'s CPU priority');
      }
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.once('error', (error) => this.deps.log.error({ err: error, bdb: this.spec.uid }, 'cannot run redis-server'));
      child.once('exit', (code, signal) => this.onExit(child, code, signal));
      await this.waitReady(exited);
      this.appliedKey = undefined;
      this.state = 'running';
      this.startedAt = Date.now();
      this.deps.log.info({ bdb: this.spec.uid, pid: child.pid }, 'redis-server started');
    } catch (error) {
      if (this.state === 'starting') this.scheduleRestart();
      throw error;
    }
  }

  private async waitReady(exited: Promise<number | null>): Promise<void> {
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + (this.deps.startTimeoutMs ?? 15_000);
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`redis-server for database ${this.spec.uid} exited during start (see ${path.join(this.dir, 'redis.log')})`);
      if (existsSync(this.socketPath)) {
        try {
          const [pong] = await runRedisCommands(this.socketPath, this.admin, [['PING']], 2000);
          if (pong === 'PONG') return;
          lastError = pong;
        } catch (error) {
          lastError = error;
        }
      }
      await delay(20);
    }
    this.child?.kill('SIGKILL');
    throw new Error(`redis-server for database ${this.spec.uid} did not become ready: ${String(lastError)}`);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.deps.log.warn({ bdb: this.spec.uid, code, signal }, 'redis-server exited unexpectedly; restarting');
    if (this.state === 'running' && Date.now() - this.startedAt > 30_000) this.restartStep = undefined;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.state = 'backoff';
    clearTimeout(this.restartTimer);
    this.restartStep = (this.restartStep ?? this.restartPolicy).next(undefined);
    const wait = this.restartStep.duration;
    this.restartTimer = setTimeout(() => {
      if (this.state !== 'backoff') return;
      this.starting ??= this.start().finally(() => (this.starting = undefined));
      this.starting
        .then(() => this.applySpec(true))
        .then(() => {
          if (this.child?.pid !== undefined) this.deps.onRestarted?.(this.spec.uid, this.child.pid);
        })
        .catch((error: unknown) => this.deps.log.error({ err: error, bdb: this.spec.uid }, 'redis-server restart failed'));
    }, wait);
  }

  /** The pid of a redis-server of this database left running by an earlier run of the node, if any. */
  private async leftoverPid(): Promise<number | undefined> {
    let pid: number;
    try {
      pid = Number((await readFile(this.pidPath, 'utf8')).trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return undefined;
    let cmdline: string;
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    } catch {
      return undefined;
    }
    if (!cmdline.includes('redis-server') || !(cmdline.includes(this.socketPath) || cmdline.includes(this.confPath))) return undefined;
    return pid;
  }

  /** Adopts a redis-server left running by an earlier run of the node when it answers the admin user. */
  private async adoptLeftover(): Promise<boolean> {
    const pid = await this.leftoverPid();
    if (pid === undefined) return false;
    try {
      const [pong] = await runRedisCommands(this.socketPath, this.admin, [['PING']], 2000);
      if (pong !== 'PONG') return false;
    } catch {
      return false;
    }
    // Fresh files for its next start; the running server gets the spec at run time (applySpec).
    await writeFileDurably(this.confPath, this.configText(), 0o600);
    await writeFileDurably(path.join(this.dir, 'users.acl'), this.bootstrapAcl(), 0o600);
    this.adopted = pid;
    this.appliedKey = undefined;
    this.state = 'running';
    this.startedAt = Date.now();
    clearInterval(this.adoptedWatch);
    this.adoptedWatch = setInterval(() => {
      if (this.adopted !== pid || isAlive(pid)) return;
      clearInterval(this.adoptedWatch);
      this.adopted = undefined;
      if (this.state === 'stopping' || this.state === 'stopped') return;
      this.deps.log.warn({ bdb: this.spec.uid, pid }, 'redis-server exited unexpectedly; restarting');
      this.scheduleRestart();
    }, 200);
    this.adoptedWatch.unref();
    this.deps.log.info({ bdb: this.spec.uid, pid }, 'redis-server from the previous run adopted (its connections stay)');
    return true;
  }

  /** A redis-server left from an earlier run of certplane (pidfile + cmdline check): stop it, keep its data. */
  async stopLeftover(): Promise<void> {
    const pid = await this.leftoverPid();
    if (pid === undefined) return;
    this.deps.log.warn({ bdb: this.spec.uid, pid }, 'stopping a redis-server left from an earlier run');
    process.kill(pid, 'SIGTERM');
    if (!(await waitForExit(pid, 10_000))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 5000);
    }
  }

  private configText(): string {
    const spec = this.spec;
    return [
      '# Written by certplane at every start of this database; edits are lost.',
      'port 0',
      'bind 127.0.0.1 -::1',
      'protected-mode yes',
      `unixsocket ${quote(this.socketPath)}`,
      'unixsocketperm 700',
      `dir ${quote(this.dir)}`,
      'dbfilename dump.rdb',
      `pidfile ${quote(this.pidPath)}`,
      'daemonize no',
      `logfile ${quote(path.join(this.dir, 'redis.log'))}`,
      'loglevel notice',
      // Snapshots: periodic, and on shutdown (SIGTERM), so a certplane restart loses nothing.
      'save 3600 1 300 100 60 10000',
      'appendonly no',
      `maxmemory ${spec.maxmemory}`,
      `maxmemory-policy ${spec.evictionPolicy}`,
      `aclfile ${quote(path.join(this.dir, 'users.acl'))}`,
      `maxclients ${this.deps.maxClients ?? 10_000}`,
      'tcp-keepalive 300',
      '',
    ].join('\n');
  }

  private defaultUserRules(): string {
    const user = this.spec.defaultUser;
    // Never `nopass`: without a secret the user has no password at all and nobody can log in as it.
    const credential = user.passwordSha256 === undefined ? 'resetpass' : `#${user.passwordSha256}`;
    return `${user.enabled ? 'on' : 'off'} ${credential} ~* &* +@all ${DATA_PLANE_DENY.join(' ')}`;
  }

  private bootstrapAcl(): string {
    return [`user default ${this.defaultUserRules()}`, `user ${ADMIN_USERNAME} on #${sha256Hex(this.admin.password)} ~* &* +@all`, ''].join('\n');
  }

  /** Applies maxmemory, the default user and the database users; skipped when nothing changed since. */
  applySpec(force: boolean): Promise<void> {
    const next = this.applying.then(async () => {
      const key = JSON.stringify(this.spec);
      if (!force && key === this.appliedKey) return;
      if (this.state !== 'running') return;
      await this.applyNow();
      this.appliedKey = key;
    });
    this.applying = next.catch(() => undefined);
    return next;
  }

  private async applyNow(): Promise<void> {
    const spec = this.spec;
    const commands: string[][] = [
      ['CONFIG', 'SET', 'maxmemory', String(spec.maxmemory), 'maxmemory-policy', spec.evictionPolicy],
      ['ACL', 'SETUSER', 'default', 'reset', ...this.defaultUserRules().split(' ')],
      ...spec.users.map((u) => ['ACL', 'SETUSER', u.username, 'reset', 'on', `#${u.passwordSha256}`, ...aclRuleArguments(u.rules)]),
      ['ACL', 'USERS'],
    ];
    const replies = await runRedisCommands(this.socketPath, this.admin, commands);
    const [config, defaultUser] = replies;
    if (config instanceof RespError) throw new Error(`CONFIG SET failed on database ${spec.uid}: ${config.message}`);
    if (defaultUser instanceof RespError) throw new Error(`the default user could not be set on database ${spec.uid}: ${defaultUser.message}`);
    const rejected = new Set<string>();
    spec.users.forEach((u, i) => {
      const reply = replies[i + 2];
      if (reply instanceof RespError) {
        rejected.add(u.username);
        this.deps.log.error({ bdb: spec.uid, user: u.username, error: reply.message }, 'redis rejected the ACL of a database user; the user cannot log in');
      }
    });
    const existing = replies[replies.length - 1];
    const wanted = new Set(['default', ADMIN_USERNAME, ...spec.users.map((u) => u.username).filter((u) => !rejected.has(u))]);
    const stale = Array.isArray(existing) ? existing.filter((u): u is string => typeof u === 'string' && !wanted.has(u)) : [];
    if (stale.length > 0) await runRedisCommands(this.socketPath, this.admin, [['ACL', 'DELUSER', ...stale]]);
    // A redis-server adopted from an earlier run has that run's maxclients. Refused (the open-file limit does not
    // allow it): logged; redis keeps the highest limit its start could set.
    const [maxclients] = await runRedisCommands(this.socketPath, this.admin, [['CONFIG', 'SET', 'maxclients', String(this.deps.maxClients ?? 10_000)]]);
    if (maxclients instanceof RespError) this.deps.log.warn({ bdb: spec.uid, error: maxclients.message }, 'redis-server kept its maxclients');
  }

  /** FLUSHALL over the admin connection (PUT /v1/bdbs/{uid}/flush). With save points configured redis also
   *  snapshots the empty dataset, so a later restart does not bring the keys back. */
  async flushAll(): Promise<void> {
    if (this.state !== 'running') throw new Error(`redis-server of database ${this.spec.uid} is ${this.state}, not running`);
    const [reply] = await runRedisCommands(this.socketPath, this.admin, [['FLUSHALL']], 60_000);
    if (reply instanceof RespError) throw new Error(`FLUSHALL failed on database ${this.spec.uid}: ${reply.message}`);
  }

  detach(): void {
    clearTimeout(this.restartTimer);
    clearInterval(this.adoptedWatch);
    this.state = 'stopped';
  }

  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    await this.starting?.catch(() => undefined);
    this.state = 'stopping';
    clearInterval(this.adoptedWatch);
    const adopted = this.adopted;
    this.adopted = undefined;
    if (adopted !== undefined && isAlive(adopted)) {
      process.kill(adopted, 'SIGTERM');
      if (!(await waitForExit(adopted, 15_000))) process.kill(adopted, 'SIGKILL');
    }
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    this.state = 'stopped';
  }
}

export class RedisSupervisor {
  private readonly instances = new Map<number, RedisInstance>();

  constructor(private readonly deps: RedisSupervisorDeps) {}

  /** Starts database uid's redis-server if needed and applies spec; resolves when it serves on its socket. */
  async ensure(spec: RedisDatabaseSpec): Promise<{ socketPath: string; pid: number | undefined }> {
    let instance = this.instances.get(spec.uid);
    if (instance === undefined) {
      instance = new RedisInstance(this.deps, spec);
      this.instances.set(spec.uid, instance);
    }
    await instance.ensure(spec);
    return { socketPath: instance.socketPath, pid: instance.pid };
  }

  /** Deletes every key of database uid (FLUSHALL); throws when its redis-server is not running. */
  async flush(uid: number): Promise<void> {
    const instance = this.instances.get(uid);
    if (instance === undefined) throw new Error(`database ${uid} does not run on this node`);
    await instance.flushAll();
  }

  has(uid: number): boolean {
    return this.instances.has(uid);
  }

  uids(): number[] {
    return [...this.instances.keys()];
  }

  /** Stops the database's redis-server; with deleteData its directory goes too (DELETE /v1/bdbs). */
  async remove(uid: number, { deleteData }: { deleteData: boolean }): Promise<void> {
    const instance = this.instances.get(uid);
    this.instances.delete(uid);
    await instance?.stop();
    if (deleteData) await rm(path.join(this.deps.redisDir, String(uid)), { recursive: true, force: true });
  }

  /**
   * Directories of databases this node does not run (deleted while certplane was down): stops a redis-server
   * still running there, if any, and removes the directory. Returns the uids removed.
   */
  async removeStale(wanted: ReadonlySet<number>): Promise<number[]> {
    let entries: string[];
    try {
      entries = await readdir(this.deps.redisDir);
    } catch {
      return [];
    }
    const removed: number[] = [];
    for (const entry of entries) {
      if (!/^[0-9]{1,9}$/.test(entry)) continue;
      const uid = Number(entry);
      if (wanted.has(uid) || this.instances.has(uid)) continue;
      const leftover = new RedisInstance(this.deps, { uid, maxmemory: 0, evictionPolicy: 'noeviction', defaultUser: { enabled: false }, users: [] });
      await leftover.stopLeftover();
      await rm(path.join(this.deps.redisDir, entry), { recursive: true, force: true });
      removed.push(uid);
    }
    return removed;
  }

  /** Forgets the instances without stopping them (the node stops, its redis-servers serve on; the next start adopts them). */
  detach(): void {
    for (const instance of this.instances.values()) instance.detach();
    this.instances.clear();
  }

  async close(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((instance) => instance.stop()));
  }
}
