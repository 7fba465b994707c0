// Debian's pebble (an RFC 8555 test CA) and pebble-challtestsrv (its mock DNS) on loopback for the ACME tests:
// random free ports, a temp dir with pebble's HTTPS certificate (issued by a test CA made here: the CA bundle
// certplane gets as ca_certificate), every name resolving to 127.0.0.1 unless told otherwise, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { createCa, issueCertificate, type TestCertificate } from './pki.js';

export interface TestDns {
  dnsPort: number;
  managementPort: number;
  /** Answers A queries for `host` with `address` (e.g. one where nothing listens). */
  addA(host: string, address: string): Promise<void>;
  stop(): Promise<void>;
}

export interface TestPebble {
  directoryUrl: string;
  /** PEM of the CA that issued pebble's HTTPS certificate (certplane's ca_certificate). */
  caBundle: string;
  process: ChildProcess;
  /** Stops pebble (SIGKILL, by PID). */
  stop(): Promise<void>;
  /** Starts a fresh pebble on the same ports (new state, new roots). */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function post(port: number, urlPath: string, body: unknown): Promise<void> {
  return fetch(`http://127.0.0.1:${port}${urlPath}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => {
    if (!r.ok) throw new Error(`challtestsrv ${urlPath}: HTTP ${r.status}`);
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start in 30 s:\n${output()}`);
}

export async function startTestDns(): Promise<TestDns> {
  const [dnsPort, managementPort] = [await freePort(), await freePort()];
  let output = '';
  const child = spawn(
    '/usr/bin/pebble-challtestsrv',
    ['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${managementPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor('pebble-challtestsrv', async () => (await fetch(`http://127.0.0.1:${managementPort}/`).then((r) => r.status)) > 0, () => output);
  return {
    dnsPort,
    managementPort,
    addA: (host, address) => post(managementPort, '/add-a', { host: host.endsWith('.') ? host : `${host}.`, addresses: [address] }),
    stop: () => waitExit(child),
  };
}

export async function startTestPebble(options: { httpPort: number; dnsPort: number; env?: Record<string, string> }): Promise<TestPebble> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-pebble-'));
  const ca: TestCertificate = await createCa({ cn: 'Pebble HTTPS test CA' });
  const server = await issueCertificate(ca, { cn: 'localhost', sans: ['DNS:localhost', '127.0.0.1'], freshKey: true });
  await writeFile(path.join(dir, 'cert.pem'), server.chain);
  await writeFile(path.join(dir, 'key.pem'), server.key);
  const [port, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  await writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: path.join(dir, 'cert.pem'),
        privateKey: path.join(dir, 'key.pem'),
        httpPort: options.httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  let output = '';
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn('/usr/bin/pebble', ['-config', path.join(dir, 'config.json'), '-dnsserver', `127.0.0.1:${options.dnsPort}`], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor('pebble', () => getStatus(directoryUrl, ca.certificate).then((s) => s === 200), () => output);
    return child;
  };
  const pebble: TestPebble = {
    directoryUrl,
    caBundle: ca.certificate,
    process: await launch(),
    stop: () => waitExit(pebble.process),
    restart: async () => {
      await waitExit(pebble.process);
      pebble.process = await launch();
    },
    destroy: async () => {
      await waitExit(pebble.process);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return pebble;
}

function getStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}
