// Killing a node (SIGKILL) in the middle of a PUT of several certificates, then restarting it on the same
// data dir: the store and the files are each all-old or all-new, never mixed; every certificate on disk
// matches its key; after the restart, store, files and the served api certificate agree.
import Database from 'better-sqlite3';
import { X509Certificate, createPrivateKey, randomInt } from 'node:crypto';
import { copyFile, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { watch, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate } from '../helpers/api-client.js';
import { selfSigned } from '../helpers/pki.js';

const NAMES = ['api', 'cm', 'proxy', 'syncer', 'metrics_exporter'] as const;
const ROUNDS = 9;

interface Pair {
  certificate: string;
  key: string;
}
type CertSet = Record<string, Pair>;

let dataDir: string;
let node: TestNode | undefined;
const admin = { email: 'crash-admin@example.com', password: 'Crash-Admin-Pass-1' };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-crash-'));
  node = await startTestNode({ dataDir, admin });
});

afterAll(async () => {
  await node?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

async function storeCertificatesViaApi(n: TestNode): Promise<CertSet> {
  const response = await apiRequest(n.port, { path: '/v1/cluster/certificates', auth: admin });
  expect(response.status, response.text).toBe(200);
  const set: CertSet = {};
  for (const [field, pem] of Object.entries(response.json as Record<string, string>)) {
    const name = field.replace(/_(cert|key)$/, '');
    set[name] ??= { certificate: '', key: '' };
    if (field.endsWith('_cert')) set[name].certificate = pem;
    else set[name].key = pem;
  }
  return set;
}

/** The certificates in the store of a dead node: read from a copy, so SQLite can recover its WAL there. */
async function storeCertificatesOffline(): Promise<CertSet> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'certplane-crash-copy-'));
  try {
    for (const file of await readdir(dataDir)) {
      if (file.startsWith('ccs.sqlite')) await copyFile(path.join(dataDir, file), path.join(copy, file));
    }
    const db = new Database(path.join(copy, 'ccs.sqlite'));
    try {
      const rows = db.prepare("SELECT key, value FROM kv WHERE key LIKE '/certplane/certificates/%'").all() as Array<{ key: string; value: string }>;
      const set: CertSet = {};
      for (const row of rows) {
        const stored = JSON.parse(row.value) as { certificate: string; key?: string };
        set[row.key.slice('/certplane/certificates/'.length)] = { certificate: stored.certificate, key: stored.key ?? '' };
      }
      return set;
    } finally {
      db.close();
    }
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

async function filesOnDisk(): Promise<CertSet> {
  const dir = path.join(dataDir, 'certs');
  const set: CertSet = {};
  for (const file of await readdir(dir)) {
    const m = /^(.+)_(cert|key)\.pem$/.exec(file);
    if (!m) continue;
    const name = m[1]!;
    set[name] ??= { certificate: '', key: '' };
    const content = await readFile(path.join(dir, file), 'utf8');
    if (m[2] === 'cert') set[name].certificate = content;
    else set[name].key = content;
  }
  return set;
}

function expectPairsMatch(set: CertSet, where: string): void {
  for (const [name, pair] of Object.entries(set)) {
    if (pair.key === '') continue;
    const cert = new X509Certificate(pair.certificate);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key)), `${where}: ${name} certificate matches its key`).toBe(true);
  }
}

/** 'old' or 'new' when every rotated name is in that state (and the other names are untouched). */
function classify(set: CertSet, oldSet: CertSet, newSet: CertSet, where: string): 'old' | 'new' {
  const states = NAMES.map((name) => {
    const pair = set[name];
    if (pair?.certificate === oldSet[name]!.certificate && pair.key === oldSet[name]!.key) return 'old';
    if (pair?.certificate === newSet[name]!.certificate && pair.key === newSet[name]!.key) return 'new';
    return 'neither';
  });
  expect(new Set(states).size, `${where}: ${NAMES.map((n, i) => `${n}=${states[i]}`).join(' ')}`).toBe(1);
  expect(states[0]).not.toBe('neither');
  for (const name of Object.keys(oldSet)) {
    if (!(NAMES as readonly string[]).includes(name)) expect(set[name], `${where}: untouched ${name}`).toEqual(oldSet[name]);
  }
  return states[0] as 'old' | 'new';
}

async function newCertificates(round: number): Promise<CertSet> {
  const set: CertSet = {};
  await Promise.all(
    NAMES.map(async (name) => {
      // EC keys: generating fresh ones each round is cheap on two shared cores.
      const cert = await selfSigned({ cn: `${name}.round${round}.test`, curve: 'P-256', freshKey: true });
      set[name] = { certificate: cert.certificate, key: cert.key };
    }),
  );
  return set;
}

function putSet(n: TestNode, set: CertSet): Promise<number> {
  return apiRequest(n.port, {
    method: 'PUT',
    path: '/v1/cluster/certificates',
    auth: admin,
    body: { certificates: NAMES.map((name) => ({ name, ...set[name] })), allow_identity_change: true },
  }).then(
    (r) => r.status,
    () => 0, // the connection died with the process
  );
}

/**
 * Resolves true when `entry` changes inside `dir` (fs.watch, no polling): a new generation directory under
 * certs.d (the agent started writing files), or the `certs` link being swapped (files switched, the old
 * generation not yet removed). Resolves false after timeoutMs.
 */
function entryChanged(dir: string, entry: (name: string) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const watcher = watch(dir, (event, file) => {
      if (event === 'rename' && file !== null && entry(file) && existsSync(path.join(dir, file))) finish(true);
    });
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(value: boolean): void {
      clearTimeout(timer);
      watcher.close();
      resolve(value);
    }
  });
}

type KillPoint = 'random delay' | 'mid-write' | 'after link swap';
const KILL_POINTS: KillPoint[] = ['random delay', 'mid-write', 'after link swap'];

describe('SIGKILL during PUT /v1/cluster/certificates', () => {
  it('leaves store and disk all-old or all-new, never mixed, and consistent after a restart', async () => {
    // Calibrate: how long does an uninterrupted PUT of five certificates take here?
    const warm = await newCertificates(0);
    const started = performance.now();
    expect(await putSet(node!, warm)).toBe(200);
    const fullPutMs = performance.now() - started;

    const outcomes: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const oldSet = await storeCertificatesViaApi(node!);
      const newSet = await newCertificates(round);
      // Kill points, in turn: after a random delay within the PUT's duration (early, middle or late part);
      // the moment the node agent creates the new generation directory (after the store commit, mid file
      // write); the moment the `certs` link is swapped (before the old generation is removed).
      const killPoint = KILL_POINTS[(round - 1) % KILL_POINTS.length]!;
      const trigger =
        killPoint === 'mid-write'
          ? entryChanged(path.join(dataDir, 'certs.d'), () => true, 10_000)
          : killPoint === 'after link swap'
            ? entryChanged(dataDir, (file) => file === 'certs', 10_000)
            : undefined;
      const put = putSet(node!, newSet);
      if (trigger) await trigger;
      else {
        const slice = Math.floor((round - 1) / KILL_POINTS.length) % 3;
        const from = [0, 0.1, 0.5][slice]! * fullPutMs;
        const to = [0.1, 0.5, 1.2][slice]! * fullPutMs;
        await new Promise((r) => setTimeout(r, randomInt(Math.floor(from), Math.max(Math.floor(from) + 1, Math.ceil(to)))));
      }
      await node!.kill();
      const status = await put;

      const disk = await filesOnDisk();
      expectPairsMatch(disk, `round ${round} disk after kill`);
      const diskState = classify(disk, oldSet, newSet, `round ${round} disk after kill`);
      const stored = await storeCertificatesOffline();
      expectPairsMatch(stored, `round ${round} store after kill`);
      const storeState = classify(stored, oldSet, newSet, `round ${round} store after kill`);
      // Files never run ahead of the store, and a 200 means both were new.
      if (storeState === 'old') expect(diskState).toBe('old');
      if (status === 200) expect([storeState, diskState]).toEqual(['new', 'new']);

      node = await startTestNode({ dataDir, admin });
      const afterStore = await storeCertificatesViaApi(node);
      expect(afterStore, `round ${round}: the restart changed nothing in the store`).toEqual(stored);
      const afterDisk = await filesOnDisk();
      expect(afterDisk, `round ${round}: files agree with the store after restart`).toEqual(afterStore);
      expectPairsMatch(afterDisk, `round ${round} after restart`);
      const served = await peerCertificate(node.port);
      expect(served.fingerprint256).toBe(new X509Certificate(afterStore.api!.certificate).fingerprint256);

      // No leftover generation with other keys: certs.d holds exactly the generation `certs` points to.
      const target = path.basename(await readlink(path.join(dataDir, 'certs')));
      expect(await readdir(path.join(dataDir, 'certs.d')), `round ${round}: stale generations`).toEqual([target]);

      outcomes.push(`round ${round} (${killPoint}): PUT ${status || 'killed'}, store ${storeState}, disk ${diskState}`);
    }
    console.log(`full PUT ${fullPutMs.toFixed(0)} ms\n${outcomes.join('\n')}`);

    // The node still works normally afterwards.
    const final = await newCertificates(ROUNDS + 1);
    expect(await putSet(node!, final)).toBe(200);
    expect(await filesOnDisk()).toMatchObject(Object.fromEntries(NAMES.map((n) => [n, final[n]])));
  }, 180_000);
});
