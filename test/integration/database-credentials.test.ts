// Credentials on the data plane (issue 17 items 2-3, issue 10 item 5), attacked through the real proxy with
// redis-cli and raw RESP sockets: no client can read or change ACL users or server configuration whatever ACL
// an operator binds (selectors included); redis-server holds no password material of certplane users (and no
// nopass user); redis users carry the certplane name; a certificate user's name with any password fails;
// pipelined AUTH bursts through plain and TLS endpoints hit the REST API's lockout, and a locked user cannot
// log in anywhere; concurrent wrong passwords on the REST API never get past the threshold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { adminRedisCli, freeDbPort, redisCli, waitFor, waitForActive } from '../helpers/redis-cli.js';
import { encodeCommand, RespError, RespReader, type RespValue } from '../../src/lib/resp.js';

let node: TestNode;
let dataDir: string;
let port: number;
let plainPort: number;
let tlsPort: number;
let passwordDbPort: number;
const users: Record<string, { uid: number; name: string; email: string; password: string }> = {};

const api = (method: string, apiPath: string, body?: unknown, auth: Credentials = node.admin) => apiRequest(port, { method, path: apiPath, body, auth });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

async function createUser(name: string, roleUids: number[], auth: 'regular' | 'certificate' = 'regular'): Promise<void> {
  const password = `${name[0]?.toUpperCase()}${name.slice(1)}-Password-1`;
  const email = `${name}@example.com`;
  const body =
    auth === 'regular'
      ? { name, email, password, role_uids: roleUids }
      : { name, email, auth_method: 'certificate', certificate_subject_line: `CN=${name},O=Certplane Test`, role_uids: roleUids };
  const created = await api('POST', '/v1/users', body);
  expect(created.status, created.text).toBe(200);
  users[name] = { uid: created.json.uid as number, name, email, password };
}

/** Sends raw bytes on a plain or TLS connection and collects `count` replies (in order). */
async function exchange(dbPort: number, wire: Buffer, count: number, useTls = false): Promise<RespValue[]> {
  const socket: net.Socket = useTls
    ? tls.connect({ host: '127.0.0.1', port: dbPort, rejectUnauthorized: false })
    : net.connect({ host: '127.0.0.1', port: dbPort });
  const reader = new RespReader();
  const replies: RespValue[] = [];
  try {
    return await new Promise<RespValue[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${replies.length} of ${count} replies`)), 120_000);
      socket.once(useTls ? 'secureConnect' : 'connect', () => socket.write(wire));
      socket.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        for (let r = reader.next(); r !== undefined; r = reader.next()) replies.push(r.value);
        if (replies.length >= count) {
          clearTimeout(timer);
          resolve(replies);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`closed after ${replies.length} of ${count} replies`)));
    });
  } finally {
    socket.destroy();
  }
}

/** Pipelined commands on database uid's Unix socket as certplane's internal admin; one reply per command. */
async function adminExchange(uid: number, commands: string[][]): Promise<RespValue[]> {
  const { createHmac } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const master = Buffer.from((await readFile(path.join(dataDir, 'redis', 'secret'), 'utf8')).trim(), 'hex');
  const password = createHmac('sha256', master).update(`admin:${uid}`).digest('hex');
  const socket = net.connect(path.join(dataDir, 'redis', String(uid), 'redis.sock'));
  const reader = new RespReader();
  const replies: RespValue[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => socket.write(Buffer.concat([encodeCommand(['AUTH', '__certplane_admin', password]), ...commands.map((c) => encodeCommand(c))])));
      socket.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        for (let r = reader.next(); r !== undefined; r = reader.next()) replies.push(r.value);
        if (replies.length >= commands.length + 1) resolve();
      });
      socket.on('error', reject);
    });
  } finally {
    socket.destroy();
  }
  expect(replies[0]).toBe('OK');
  return replies.slice(1);
}

const text = (reply: RespValue | undefined): string => (reply instanceof RespError ? reply.message : String(reply));

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-dbcred-'));
  node = await startTestNode({ dataDir });
  port = node.port;
  const everything = await api('POST', '/v1/redis_acls', { name: 'everything', acl: '+@all ~* &*' });
  const readOnly = await api('POST', '/v1/redis_acls', { name: 'reads', acl: '+@read ~*' });
  const apps = await api('POST', '/v1/roles', { name: 'Apps', management: 'none' });
  const more = await api('POST', '/v1/roles', { name: 'More', management: 'none' });
  const guessed = await api('POST', '/v1/roles', { name: 'Guessed', management: 'none' });
  // alice: '+@read' as root and '+@all' as a selector (two bound roles): a selector must not re-grant the deny.
  await createUser('alice', [apps.json.uid, more.json.uid]);
  await createUser('certuser', [apps.json.uid], 'certificate');
  for (const name of ['carol', 'dave', 'erin']) await createUser(name, [guessed.json.uid]);
  // The Admin role (uid 1) is bound too: its users' credentials are what an attacker would harvest.
  await createUser('boss', [1]);
  const bindings = [
    { role_uid: apps.json.uid, redis_acl_uid: readOnly.json.uid },
    { role_uid: more.json.uid, redis_acl_uid: everything.json.uid },
    { role_uid: guessed.json.uid, redis_acl_uid: everything.json.uid },
    { role_uid: 1, redis_acl_uid: everything.json.uid },
  ];
  plainPort = await freeDbPort();
  tlsPort = await freeDbPort();
  passwordDbPort = await freeDbPort();
  const plain = await api('POST', '/v1/bdbs', { name: 'plain', memory_size: 0, port: plainPort, roles_permissions: bindings });
  expect(plain.status, plain.text).toBe(200);
  const secure = await api('POST', '/v1/bdbs', { name: 'secure', memory_size: 0, port: tlsPort, tls_mode: 'enabled', enforce_client_authentication: 'disabled', roles_permissions: bindings });
  expect(secure.status, secure.text).toBe(200);
  const locked = await api('POST', '/v1/bdbs', { name: 'with-password', memory_size: 0, port: passwordDbPort, authentication_redis_pass: 'Db-Pass-1', roles_permissions: bindings });
  expect(locked.status, locked.text).toBe(200);
  for (const uid of [1, 2, 3]) await waitForActive(port, node.admin, uid);
}, 120_000);

afterAll(async () => {
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

describe('what database clients may run', () => {
  it('refuses ACL (but WHOAMI and CAT), CONFIG, DEBUG, MODULE and server control to a +@all user, selectors included, and changes nothing', async () => {
    const alice = { user: 'alice', pass: users.alice?.password ?? '' };
    const denied = [
      ['ACL', 'LIST'],
      ['ACL', 'GETUSER', 'boss'],
      ['ACL', 'SETUSER', 'alice', 'on', 'nopass'],
      ['ACL', 'DELUSER', 'boss'],
      ['ACL', 'USERS'],
      ['ACL', 'LOG'],
      ['ACL', 'SAVE'],
      ['ACL', 'DRYRUN', 'boss', 'GET', 'k'],
      ['CONFIG', 'GET', '*'],
      ['CONFIG', 'SET', 'dir', '/tmp'],
      ['DEBUG', 'SLEEP', '0'],
      ['MODULE', 'LIST'],
      ['SHUTDOWN', 'NOSAVE'],
      ['REPLICAOF', '127.0.0.1', '1'],
      ['SAVE'],
      ['MIGRATE', '127.0.0.1', '1', 'k', '0', '1000'],
      ['EVAL', "return redis.call('ACL', 'LIST')", '0'],
    ];
    await expectNoChange(dataDir, async () => {
      // As alice (root +@read, selector +@all), as the open database's default user (+@all), and over TLS.
      for (const options of [alice, {}]) {
        for (const command of denied) {
          const result = await redisCli(plainPort, command, options);
          // DEBUG and MODULE are also off in redis 7's defaults (enable-debug-command, enable-module-command).
          expect(`${result.stdout} ${result.stderr}`, command.join(' ')).toMatch(/NOPERM|not allowed/);
        }
      }
      const overTls = await exchange(tlsPort, Buffer.concat([encodeCommand(['AUTH', 'alice', alice.pass]), encodeCommand(['ACL', 'LIST']), encodeCommand(['CONFIG', 'GET', '*'])]), 3, true);
      expect(overTls.map(text)).toEqual(['OK', expect.stringMatching(/^NOPERM/), expect.stringMatching(/^NOPERM/)]);
    });
    expect((await redisCli(plainPort, ['ACL', 'WHOAMI'], alice)).stdout).toBe('alice');
    expect((await redisCli(plainPort, ['ACL', 'CAT'], alice)).stdout).toContain('keyspace');
    // The selector still grants what it should.
    expect((await redisCli(plainPort, ['SET', 'k', 'v'], alice)).stdout).toBe('OK');
    expect((await redisCli(plainPort, ['ACL', 'WHOAMI'])).stdout).toBe('default');
  });

  it('keeps no password material in redis: node secrets only, no nopass user, the certplane name as redis user', async () => {
    for (const uid of [1, 2, 3]) {
      const list = (await adminRedisCli(dataDir, uid, ['ACL', 'LIST'])).stdout;
      expect(list).toContain('user alice on');
      expect(list).toContain('user certuser on');
      expect(list).not.toContain('nopass');
      expect(list).not.toContain('__cert_');
      for (const secret of [...Object.values(users).map((u) => u.password), node.admin.password, 'Db-Pass-1']) expect(list).not.toContain(sha256(secret));
      // Every provisioned user, `default` included, is denied whatever its root rules and selectors grant:
      // asked of redis itself with ACL DRYRUN (redis rewrites the rule text, so the text proves little).
      const names = list.split('\n').map((l) => l.split(' ')[1] ?? '').filter((n) => n !== '__certplane_admin');
      expect(names).toEqual(expect.arrayContaining(['default', 'alice', 'certuser', 'boss', 'carol']));
      const probes = [['ACL', 'LIST'], ['ACL', 'SETUSER', 'x'], ['ACL', 'GETUSER', 'default'], ['CONFIG', 'GET', 'dir'], ['DEBUG', 'SLEEP', '0'], ['MODULE', 'LIST'], ['SHUTDOWN'], ['REPLICAOF', 'NO', 'ONE'], ['SAVE'], ['PSYNC', '?', '-1']];
      const commands = names.flatMap((name) => [...probes.map((p) => ['ACL', 'DRYRUN', name, ...p]), ['ACL', 'DRYRUN', name, 'ACL', 'WHOAMI']]);
      const replies = await adminExchange(uid, commands);
      commands.forEach((command, i) => {
        const reply = text(replies[i]);
        if (command.at(-1) === 'WHOAMI') expect(reply, command.join(' ')).toBe('OK');
        else expect(reply, command.join(' ')).toMatch(/no permissions to run/);
      });
    }
  });

  it('answers AUTH as redis would, in pipeline order, and shows the certplane name in WHOAMI, CLIENT LIST and ACL LOG', async () => {
    const pass = users.alice?.password ?? '';
    const wire = Buffer.concat([
      encodeCommand(['SET', 'p', '1']),
      encodeCommand(['AUTH', 'alice', 'not-her-password']),
      encodeCommand(['ACL', 'WHOAMI']),
      encodeCommand(['AUTH', 'alice', pass]),
      encodeCommand(['ACL', 'WHOAMI']),
      Buffer.from(`AUTH certuser ${pass}\r\n`),
      encodeCommand(['CLIENT', 'LIST']),
      encodeCommand(['HELLO', '2', 'AUTH', 'alice', pass, 'SETNAME', 'pipelined']),
      encodeCommand(['CLIENT', 'GETNAME']),
    ]);
    const replies = await exchange(plainPort, wire, 9);
    expect(replies.slice(0, 6).map(text)).toEqual(['OK', WRONGPASS, 'default', 'OK', 'alice', WRONGPASS]);
    expect(text(replies[6])).toMatch(/user=alice/);
    expect(Array.isArray(replies[7])).toBe(true);
    expect(text(replies[8])).toBe('pipelined');
    // redis logged the refused logins under the names the client gave; never the client's password.
    const log = (await adminRedisCli(dataDir, 1, ['ACL', 'LOG'])).stdout;
    expect(log).toContain('alice');
    expect(log).toContain('certuser');
    expect(log).not.toContain('not-her-password');
  });

  it('refuses AUTH <certificate user> <anything>: the secret the proxy uses stays secret', async () => {
    for (const password of ['x', users.certuser?.password ?? '', '']) {
      const result = await redisCli(plainPort, ['ACL', 'WHOAMI'], { user: 'certuser', pass: password });
      expect(`${result.stdout} ${result.stderr}`).toMatch(/WRONGPASS|NOAUTH/);
    }
  });

  it("checks authentication_redis_pass in the proxy; redis never sees it", async () => {
    expect((await redisCli(passwordDbPort, ['GET', 'k'])).stdout).toContain('NOAUTH');
    expect((await redisCli(passwordDbPort, ['ACL', 'WHOAMI'], { pass: 'Db-Pass-1' })).stdout).toBe('default');
    expect(`${(await redisCli(passwordDbPort, ['ACL', 'WHOAMI'], { pass: 'Db-Pass-2' })).stdout}`).toMatch(/WRONGPASS|NOAUTH/);
    expect((await redisCli(passwordDbPort, ['ACL', 'WHOAMI'], { user: 'default', pass: 'Db-Pass-1' })).stdout).toBe('default');
    expect((await adminRedisCli(dataDir, 3, ['ACL', 'LIST'])).stdout).not.toContain(sha256('Db-Pass-1'));
  });
});

describe('guessing through databases', () => {
  for (const [label, name, useTls] of [
    ['plain', 'carol', false],
    ['TLS', 'dave', true],
  ] as const) {
    it(`locks the user after the threshold under 2000 pipelined wrong AUTHs (${label} endpoint), on the REST API too`, async () => {
      const user = users[name] as { uid: number; email: string; password: string };
      const guesses = Array.from({ length: 2000 }, (_, i) => encodeCommand(['AUTH', name, `guess-${i}`]));
      const wire = Buffer.concat([...guesses, encodeCommand(['AUTH', name, user.password]), encodeCommand(['ACL', 'WHOAMI'])]);
      const replies = await exchange(useTls ? tlsPort : plainPort, wire, 2002, useTls);
      expect(replies.slice(0, 2001).every((r) => text(r) === WRONGPASS)).toBe(true);
      expect(text(replies[2001])).toBe('default');

      expect((await api('GET', `/v1/users/${user.uid}`)).json.status).toBe('locked');
      const rest = await api('GET', '/v1/bdbs', undefined, { email: user.email, password: user.password });
      expect(rest.status).toBe(401);
      expect(rest.json.error_code).toBe('user_locked');
      // Locked everywhere: the right password through a database is refused as well.
      const again = await redisCli(plainPort, ['ACL', 'WHOAMI'], { user: name, pass: user.password });
      expect(`${again.stdout} ${again.stderr}`).toMatch(/WRONGPASS|NOAUTH/);
    }, 180_000);
  }

  it('never evaluates more than the threshold of 40 concurrent wrong REST passwords; the right one after is user_locked', async () => {
    const user = users.erin as { uid: number; email: string; password: string };
    const attempts = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api('GET', '/v1/bdbs', undefined, { email: user.email, password: `wrong-${i}` })),
    );
    expect(attempts.every((a) => a.status === 401)).toBe(true);
    const evaluated = attempts.filter((a) => a.json.error_code === 'unauthenticated').length;
    expect(evaluated).toBeLessThanOrEqual(5);
    const right = await api('GET', '/v1/bdbs', undefined, { email: user.email, password: user.password });
    expect(right.status).toBe(401);
    expect(right.json.error_code).toBe('user_locked');
    const viaDatabase = await redisCli(plainPort, ['ACL', 'WHOAMI'], { user: 'erin', pass: user.password });
    expect(`${viaDatabase.stdout} ${viaDatabase.stderr}`).toMatch(/WRONGPASS|NOAUTH/);
  }, 120_000);
});

describe('names as redis reads them (review M5)', () => {
  it('checks and rewrites AUTH\\0x and HELLO 3 AUTH\\0x like AUTH: the right password logs in, wrong ones count toward the lockout', async () => {
    const roles = (await api('GET', '/v1/roles')).json as Array<{ uid: number; name: string }>;
    const guessed = roles.find((r) => r.name === 'Guessed')?.uid as number;
    await createUser('frank', [guessed]);
    const frank = users.frank as { uid: number; email: string; password: string };
    // A new user reaches the data plane asynchronously (the node's reconciler, then IPC): wait until it can log in.
    await waitFor('frank to reach the database', async () => text((await exchange(plainPort, encodeCommand(['AUTH', 'frank', frank.password]), 1))[0]) === 'OK');
    // The right password through either spelling: the proxy checks it and sends the node secret (before the
    // fix redis got the client's password: WRONGPASS / unknown command).
    const right = await exchange(
      plainPort,
      Buffer.concat([
        encodeCommand(['AUTH\0x', 'frank', frank.password]),
        encodeCommand(['ACL', 'WHOAMI']),
        encodeCommand(['RESET']),
        encodeCommand(['HELLO', '2', 'AUTH\0x', 'frank', frank.password]),
        encodeCommand(['ACL', 'WHOAMI']),
      ]),
      5,
    );
    expect(text(right[0])).toBe('OK');
    expect(text(right[1])).toBe('frank');
    expect(Array.isArray(right[3]), text(right[3])).toBe(true);
    expect(text(right[4])).toBe('frank');
    // Wrong passwords through NUL-suffixed names are counted: at the threshold frank is locked everywhere.
    const guesses = Array.from({ length: 6 }, (_, i) =>
      i % 2 === 0 ? encodeCommand(['HELLO', '3', 'AUTH\0x', 'frank', `guess-${i}`]) : encodeCommand(['auth\0', 'frank', `guess-${i}`]),
    );
    const replies = await exchange(plainPort, Buffer.concat([...guesses, encodeCommand(['HELLO', '3', 'AUTH\0x', 'frank', frank.password])]), 7);
    expect(replies.map(text).every((r) => r.startsWith('WRONGPASS'))).toBe(true);
    expect((await api('GET', `/v1/users/${frank.uid}`)).json.status).toBe('locked');
    const log = (await adminRedisCli(dataDir, 1, ['ACL', 'LOG'])).stdout;
    expect(log).not.toContain('guess-');
  });

  it('closes a connection whose inline line is longer than redis’s inline limit instead of passing it (review M5)', async () => {
    const pass = users.alice?.password ?? '';
    const wire = Buffer.concat([Buffer.from(`AUTH alice ${pass} ${'p'.repeat(70 * 1024)}\r\n`), encodeCommand(['PING'])]);
    const outcome = await exchange(plainPort, wire, 1).then(
      (replies) => `replied ${text(replies[0])}`,
      (error: Error) => error.message,
    );
    expect(outcome).toBe('closed after 0 of 1 replies');
  });
});
