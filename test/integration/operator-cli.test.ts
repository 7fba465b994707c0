// The rladmin-style operator commands of the built CLI (`node dist/src/cli/main.js …`, connection from
// CERTPLANE_URL/USER/PASSWORD/CACERT/DATA_DIR) against a real node and a real `openssl ocsp` responder: certificate
// set from files (a fresh handshake then presents the new certificate), list, delete; ocsp config show/set,
// certificate_compatible, status, test_certificate; exit 1 with `HTTP <status> <error_code>: …` for a value the
// API refuses (nothing changes) and exit 2 for usage errors (nothing is sent).
import { execFile } from 'node:child_process';
import tls from 'node:tls';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import { waitFor } from '../helpers/redis-cli.js';

const CLI = path.resolve('dist/src/cli/main.js');

let node: TestNode;
let responder: OcspResponder;
let proxy: TestCertificate;
let dir: string;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function certplane(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        // Generous: six of these run at once on a loaded 2-core machine.
        timeout: 50_000,
        env: {
          ...process.env,
          CERTPLANE_URL: `https://127.0.0.1:${node.port}`,
          CERTPLANE_USER: node.admin.email,
          CERTPLANE_PASSWORD: node.admin.password,
          // Run as on the node: its own api certificate (data dir) is trusted without -k.
          CERTPLANE_DATA_DIR: node.dataDir,
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

async function file(name: string, text: string): Promise<string> {
  const full = path.join(dir, name);
  await writeFile(full, text, { mode: 0o600 });
  return full;
}

const getOcsp = async (): Promise<Record<string, unknown>> => (await apiRequest(node.port, { path: '/v1/ocsp', auth: node.admin })).json;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-cli-'));
  responder = await startOcspResponder();
  proxy = await responder.issue({ cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256', freshKey: true });
  node = await startTestNode();
});

afterAll(async () => {
  await node?.destroy();
  await responder?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('certplane operator commands', () => {
  it('exits 2 with the usage on stderr for commands it cannot parse, and sends nothing', async () => {
    const runs = await expectNoChange(node.dataDir, () =>
      Promise.all([
        certplane(['cluster', 'certificate', 'set', 'api', 'certificate_file']),
        certplane(['cluster', 'certificate', 'rotate']),
        certplane(['cluster', 'ocsp', 'config', 'no_such_param']),
        certplane(['cluster', 'ocsp', 'config', 'query_frequency', 'put', '60']),
        certplane(['cluster', 'ocsp', 'config', 'responder_url', 'set', 'http://elsewhere.example/']),
        certplane(['frobnicate']),
      ]),
    );
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('usage:');
    }
    expect(runs[4].stderr).toContain('responder_url is display-only');
  });

  it('status: ready; an unreachable server is exit 1', async () => {
    const ready = await certplane(['status']);
    expect(ready.code, ready.stderr).toBe(0);
    expect(ready.stdout).toMatch(/^ready: bootstrap completed, node 1/);
    const down = await certplane(['status'], { CERTPLANE_URL: 'https://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('ECONNREFUSED');
  });

  it('certificate set api from files: a fresh TLS handshake presents it, and CERTPLANE_CACERT can then pin it', async () => {
    const api = await selfSigned({ cn: 'cluster.local', sans: ['DNS:cluster.local', 'IP:127.0.0.1'], curve: 'P-256', freshKey: true });
    const certPath = await file('api.pem', api.certificate);
    const keyPath = await file('api.key', api.key);
    const run = await certplane(['cluster', 'certificate', 'set', 'api', 'certificate_file', certPath, 'key_file', keyPath]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`Set api certificate to contents of file ${certPath}\n`);
    expect((await peerCertificate(node.port)).fingerprint256).toBe(api.x509.fingerprint256);
    // Verified against the new certificate (no -k behaviour).
    expect((await certplane(['status'], { CERTPLANE_CACERT: certPath })).code).toBe(0);
    const other = await certplane(['status'], { CERTPLANE_CACERT: await file('other-ca.pem', (await createCa({ curve: 'P-256' })).certificate) });
    expect(other.code).toBe(1);
  });

  it('certificate set with a key that does not match: exit 1, the API error and its failing item, nothing changes', async () => {
    const cert = await selfSigned({ cn: 'cluster.local', curve: 'P-256', freshKey: true });
    const stranger = await selfSigned({ cn: 'cluster.local', curve: 'P-256', freshKey: true });
    const certPath = await file('mismatch.pem', cert.certificate);
    const keyPath = await file('mismatch.key', stranger.key);
    const run = await expectNoChange(node.dataDir, () => certplane(['cluster', 'certificate', 'set', 'cm', 'certificate_file', certPath, 'key_file', keyPath]));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^HTTP 400 key_mismatch: .+\n {2}cm: key_mismatch: /);
    const missing = await certplane(['cluster', 'certificate', 'set', 'cm', 'certificate_file', path.join(dir, 'absent.pem')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
  });

  it('certificate set with several certificates sends them in one request, all or nothing, and prints no progress off a terminal', async () => {
    const cm = await selfSigned({ cn: 'cluster.local', curve: 'P-256', freshKey: true });
    const syncer = await selfSigned({ cn: 'cluster.local', curve: 'P-256', freshKey: true });
    const stranger = await selfSigned({ cn: 'cluster.local', curve: 'P-256', freshKey: true });
    const [cmCert, cmKey, syncerCert, syncerKey, strangerKey] = await Promise.all([
      file('bulk-cm.pem', cm.certificate),
      file('bulk-cm.key', cm.key),
      file('bulk-syncer.pem', syncer.certificate),
      file('bulk-syncer.key', syncer.key),
      file('bulk-stranger.key', stranger.key),
    ]);
    const refused = await expectNoChange(node.dataDir, () =>
      certplane(['cluster', 'certificate', 'set', 'cm', 'certificate_file', cmCert, 'key_file', cmKey, 'syncer', 'certificate_file', syncerCert, 'key_file', strangerKey]),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^HTTP 400 key_mismatch: .+\n {2}syncer: key_mismatch: /);
    const run = await certplane(['cluster', 'certificate', 'set', 'cm', 'certificate_file', cmCert, 'key_file', cmKey, 'syncer', 'certificate_file', syncerCert, 'key_file', syncerKey]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`Set cm certificate to contents of file ${cmCert}\nSet syncer certificate to contents of file ${syncerCert}\n`);
    const installed = (await apiRequest(node.port, { path: '/v1/cluster/certificates', auth: node.admin })).json as Record<string, string>;
    expect(installed.cm_cert).toBe(cm.certificate);
    expect(installed.syncer_cert).toBe(syncer.certificate);
  });

  it('certificate_compatible fails while the proxy certificate has no OCSP URI, and names it once a CA-issued chain is set', async () => {
    const before = await certplane(['cluster', 'ocsp', 'certificate_compatible']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('no OCSP URI');
    const chainPath = await file('proxy-chain.pem', proxy.chain);
    const keyPath = await file('proxy.key', proxy.key);
    const set = await certplane(['cluster', 'certificate', 'set', 'proxy', 'certificate_file', chainPath, 'key_file', keyPath]);
    expect(set.code, set.stderr).toBe(0);
    const after = await certplane(['cluster', 'ocsp', 'certificate_compatible']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toBe(`Success. OCSP URI is ${responder.url}\n`);
  });

  it('certificate list shows every installed certificate with its expiry and subject', async () => {
    const run = await certplane(['cluster', 'certificate', 'list']);
    expect(run.code, run.stderr).toBe(0);
    const names = run.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]);
    expect(names).toEqual(expect.arrayContaining(['api', 'cm', 'proxy', 'syncer', 'metrics_exporter']));
    expect(run.stdout).toMatch(new RegExp(`^proxy +valid until ${new Date(proxy.x509.validTo).toISOString().replace(/\./g, '\\.')} +CN=localhost$`, 'm'));
  });

  it('ocsp config shows every parameter, one parameter, and sets one through PUT /v1/ocsp', async () => {
    const all = await certplane(['cluster', 'ocsp', 'config']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe(
      [
        'OCSP functionality is disabled',
        `Responder URL of the OCSP server is ${responder.url}`,
        'Query frequency of the OCSP server is 3600 seconds',
        'Recovery frequency of the OCSP server is 60 seconds',
        'Recovery max tries of the OCSP server is 5',
        'Response timeout of the OCSP server is 1 seconds',
        '',
      ].join('\n'),
    );
    const one = await certplane(['cluster', 'ocsp', 'config', 'recovery_frequency']);
    expect(one.stdout).toBe('Recovery frequency of the OCSP server is 60 seconds\n');
    const set = await certplane(['cluster', 'ocsp', 'config', 'recovery_frequency', 'set', '80']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('Recovery frequency of the OCSP server is 80 seconds\n');
    expect((await certplane(['cluster', 'ocsp', 'config', 'response_timeout', 'set', '3'])).code).toBe(0);
    expect(await getOcsp()).toMatchObject({ recovery_frequency: 80, response_timeout: 3, ocsp_functionality: false });
  });

  it.each([
    [['query_frequency', 'set', '59']],
    [['recovery_max_tries', 'set', 'many']],
    [['ocsp_functionality', 'set', 'maybe']],
  ])('ocsp config %j: exit 1 with HTTP 400 invalid_schema, nothing changes', async (args) => {
    const run = await expectNoChange(node.dataDir, () => certplane(['cluster', 'ocsp', 'config', ...args]));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^HTTP 400 invalid_schema: \S/);
  });

  it('ocsp_functionality set enabled: the poller caches GOOD and ocsp status prints it rladmin-style', async () => {
    const set = await certplane(['cluster', 'ocsp', 'config', 'ocsp_functionality', 'set', 'enabled']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('OCSP functionality is enabled\n');
    const status = await waitFor('a GOOD status from the CLI', async () => {
      const run = await certplane(['cluster', 'ocsp', 'status']);
      return run.code === 0 && run.stdout.startsWith('OCSP certificate status is: GOOD\n') ? run.stdout : undefined;
    });
    const date = '[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT';
    expect(status).toMatch(new RegExp(`^OCSP certificate status is: GOOD\nproduced_at: ${date}\nresponder_url: ${responder.url}\nthis_update: ${date}\nnext_update: ${date}\n`));
    expect(status).not.toContain('revocation_time');
  });

  it('test_certificate queries now and prints the fresh status', async () => {
    const run = await certplane(['cluster', 'ocsp', 'test_certificate']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^OCSP certificate status is: GOOD\nproduced_at: .+\nresponder_url: ${responder.url}\n`));
  });

  it('certificate delete removes an optional certificate; required or absent ones are exit 1 with the API error', async () => {
    const ca = await createCa({ cn: 'operators CA', curve: 'P-256' });
    const set = await certplane(['cluster', 'certificate', 'set', 'mtls_trusted_ca', 'certificate_file', await file('trusted-ca.pem', ca.certificate)]);
    expect(set.code, set.stderr).toBe(0);
    expect((await certplane(['cluster', 'certificate', 'list'])).stdout).toMatch(/^mtls_trusted_ca /m);
    const deleted = await certplane(['cluster', 'certificate', 'delete', 'mtls_trusted_ca']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('Deleted mtls_trusted_ca certificate\n');
    expect((await certplane(['cluster', 'certificate', 'list'])).stdout).not.toMatch(/^mtls_trusted_ca /m);
    const again = await certplane(['cluster', 'certificate', 'delete', 'mtls_trusted_ca']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^HTTP 404 not_found: /);
    const required = await expectNoChange(node.dataDir, () => certplane(['cluster', 'certificate', 'delete', 'api']));
    expect(required.code).toBe(1);
    expect(required.stderr).toMatch(/^HTTP 403 required_certificate: /);
  });

  it('test_certificate with the responder down: exit 1 with HTTP 500 invalid_ocsp_response', async () => {
    await responder.stop();
    const run = await certplane(['cluster', 'ocsp', 'test_certificate']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^HTTP 500 invalid_ocsp_response: .*cannot be reached/);
  });
});

/** A TLS server that is not the cluster: records every byte a client sends after the handshake. */
async function fakeServer(): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
  const cert = await selfSigned({ cn: '127.0.0.1', sans: ['IP:127.0.0.1'], curve: 'P-256', freshKey: true });
  let received = '';
  const server = tls.createServer({ cert: cert.certificate, key: cert.key }, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        const body = JSON.stringify({ bootstrap_status: { state: 'completed' }, local_node_info: { uid: 'fake' } });
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the CLI checks who it talks to', () => {
  it('refuses a server whose certificate it does not trust and never sends it the password, even with the node’s data dir', async () => {
    const fake = await fakeServer();
    try {
      for (const env of [{ CERTPLANE_DATA_DIR: '' }, {}] as Array<Record<string, string>>) {
        const run = await certplane(['status'], { CERTPLANE_URL: `https://127.0.0.1:${fake.port}`, ...env });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('certificate is not trusted');
        expect(run.stderr).toContain('--insecure');
      }
      expect(fake.received()).toBe('');
    } finally {
      await fake.close();
    }
  });

  it('without CERTPLANE_CACERT or a data dir the node’s own self-signed certificate is refused too', async () => {
    const run = await certplane(['status'], { CERTPLANE_DATA_DIR: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('certificate is not trusted');
  });

  it('--insecure skips the check only when asked, with a warning on stderr', async () => {
    const fake = await fakeServer();
    try {
      const run = await certplane(['--insecure', 'status'], { CERTPLANE_URL: `https://127.0.0.1:${fake.port}`, CERTPLANE_DATA_DIR: '' });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/warning: --insecure: the certificate of https:\/\/127\.0\.0\.1:\d+ is not verified/);
      expect(run.stdout).toContain('ready');
      expect(fake.received()).toContain('GET /v1/bootstrap');
    } finally {
      await fake.close();
    }
    const trailing = await certplane(['status', '--insecure'], { CERTPLANE_DATA_DIR: '' });
    expect(trailing.code, trailing.stderr).toBe(0);
    expect(trailing.stderr).toContain('warning');
    const verified = await certplane(['status']);
    expect(verified.stderr).toBe('');
  });

  it('--data-dir on the command line trusts that node’s api certificate', async () => {
    const run = await certplane(['--data-dir', node.dataDir, 'status'], { CERTPLANE_DATA_DIR: '' });
    expect(run.code, run.stderr).toBe(0);
  });

  it('logs in with a client certificate (CERTPLANE_CERT / CERTPLANE_KEY) and no password', async () => {
    const ca = await createCa({ cn: 'CLI Client CA', curve: 'P-256' });
    const operator = await issueCertificate(ca, { subject: 'CN=cli-operator,O=Acme', eku: ['clientAuth'], curve: 'P-256' });
    const admin = { email: node.admin.email, password: node.admin.password };
    const put = async (method: string, p: string, body: unknown): Promise<void> => {
      const response = await apiRequest(node.port, { method, path: p, body, auth: admin });
      expect(response.status, response.text).toBe(200);
    };
    await put('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
    await put('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });
    await put('POST', '/v1/users', { name: 'cli-operator', auth_method: 'certificate', certificate_subject_line: 'CN=cli-operator,O=Acme', role: 'cluster_viewer' });
    const env = { CERTPLANE_CERT: await file('operator.pem', operator.certificate), CERTPLANE_KEY: await file('operator.key', operator.key), CERTPLANE_USER: '', CERTPLANE_PASSWORD: '' };
    const list = await certplane(['cluster', 'certificate', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('api');
    // Without the certificate and without a password: 401.
    const none = await certplane(['cluster', 'certificate', 'list'], { CERTPLANE_USER: '', CERTPLANE_PASSWORD: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('HTTP 401');
    const half = await certplane(['status'], { CERTPLANE_CERT: env.CERTPLANE_CERT });
    expect(half.code).toBe(2);
  });
});
