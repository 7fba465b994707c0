// `certplane status` against a real node (README "Status at a glance"): every certificate with its days left,
// the exit status cron acts on (0 fine, 3 within the alert threshold, 4 within 7 days or OCSP revoked), the
// threshold taken from the cluster's alert_settings or --threshold, the OCSP line from a real `openssl ocsp`
// responder, and colours only on a terminal (a real pty through util-linux `script`) and never with NO_COLOR.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { createCa, issueCertificate, type TestCertificate } from '../helpers/pki.js';
import { startOcspResponder, type OcspResponder } from '../helpers/ocsp-responder.js';
import { waitFor } from '../helpers/redis-cli.js';

const CLI = path.resolve('dist/src/cli/main.js');
const DAY_MS = 86_400_000;
const ESC = '\u001b[';
/** SGR colour codes, to find a row by its name on a terminal. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');

let node: TestNode;
let responder: OcspResponder;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cliEnv(extra: Record<string, string>, unset: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CERTPLANE_URL: `https://127.0.0.1:${node.port}`,
    CERTPLANE_USER: node.admin.email,
    CERTPLANE_PASSWORD: node.admin.password,
    CERTPLANE_DATA_DIR: node.dataDir,
    ...extra,
  };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  for (const [key, value] of Object.entries(extra)) env[key] = value;
  for (const key of unset) delete env[key];
  return env;
}

function status(args: string[] = [], env: Record<string, string> = {}, unset: readonly string[] = []): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'status', ...args], { timeout: 50_000, env: cliEnv(env, unset) }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

/** `certplane status` with stdout on a real terminal (a pty from `script`); the exit status comes back too. */
function statusOnTerminal(env: Record<string, string> = {}): Promise<CliRun> {
  const command = `${process.execPath} ${CLI} status`;
  return new Promise((resolve) => {
    execFile('script', ['-qefc', command, '/dev/null'], { timeout: 50_000, env: cliEnv(env) }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

const api = (method: string, apiPath: string, body?: unknown) => apiRequest(node.port, { method, path: apiPath, body, auth: node.admin });

async function install(name: string, cert: TestCertificate): Promise<void> {
  const put = await api('PUT', '/v1/cluster/certificates', { certificates: [{ name, certificate: cert.chain, key: cert.key }] });
  expect(put.status, put.text).toBe(200);
}

function rowOf(stdout: string, name: string): string {
  const line = stdout.split(/\r?\n/).find((l) => l.replace(ANSI, '').startsWith(`${name} `));
  if (line === undefined) throw new Error(`no row for ${name} in:\n${stdout}`);
  return line;
}

beforeAll(async () => {
  responder = await startOcspResponder();
  node = await startTestNode();
});

afterAll(async () => {
  await node?.destroy();
  await responder?.close();
});

describe('certplane status', () => {
  it('a fresh cluster: every certificate with its days left, OCSP disabled, exit 0, no colour in a pipe', async () => {
    const run = await status();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ready: bootstrap completed, node 1 at https:\/\/127\.0\.0\.1:\d+\n/);
    expect(run.stdout).toMatch(/\nCERTIFICATE\s+DAYS LEFT\s+EXPIRES \(UTC\)\s+STATE\s+SUBJECT CN\s+ISSUER\n/);
    for (const name of ['api', 'cm', 'proxy', 'syncer', 'metrics_exporter']) expect(rowOf(run.stdout, name)).toMatch(new RegExp(`^${name}\\s+36[45]\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+ok\\s+cluster\\.local`));
    expect(run.stdout).toContain('\nOCSP: disabled\n');
    expect(run.stdout).toContain('alert threshold: 45 days (alert_settings.cluster_certs_about_to_expire); critical under 7 days\n');
    expect(run.stdout).not.toContain(ESC);
    expect(run.stderr).toBe('');
  });

  it('a certificate within the threshold: exit 3 and named on stderr; --threshold and alert_settings move the threshold', async () => {
    const ca = await createCa({ cn: 'Status CA', curve: 'P-256' });
    await install('syncer', await issueCertificate(ca, { cn: 'syncer.example', curve: 'P-256', notAfter: new Date(Date.now() + 20 * DAY_MS), freshKey: true }));
    const run = await status();
    expect(run.code, run.stderr).toBe(3);
    expect(rowOf(run.stdout, 'syncer')).toMatch(/^syncer\s+19\s+.*expires soon \(<= 45 d\)\s+syncer\.example\s+Status CA$/);
    expect(run.stderr).toBe('certplane: certificates within the alert threshold: syncer (19 days)\n');

    expect((await status(['--threshold', '10'])).code).toBe(0);
    const put = await api('PUT', '/v1/cluster', { alert_settings: { cluster_certs_about_to_expire: { enabled: true, threshold: '10' } } });
    expect(put.status, put.text).toBe(200);
    const relaxed = await status();
    expect(relaxed.code, relaxed.stderr).toBe(0);
    expect(relaxed.stdout).toContain('alert threshold: 10 days (alert_settings.cluster_certs_about_to_expire)');
    expect((await status(['--threshold=30'])).code).toBe(3);
  });

  it('usage errors exit 2 and send nothing', async () => {
    for (const args of [['--threshold'], ['--threshold', 'soon'], ['extra']]) {
      const run = await status(args);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('usage:');
    }
  });

  it('shows OCSP from the responder; a proxy certificate within 7 days is exit 4, coloured on a terminal', async () => {
    await install('proxy', await responder.issue({ cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256', notAfter: new Date(Date.now() + 5 * DAY_MS), freshKey: true }));
    expect((await api('PUT', '/v1/ocsp', { ocsp_functionality: true })).status).toBe(200);
    const run = await waitFor('GOOD in the status', async () => {
      const result = await status();
      return result.stdout.includes('OCSP: enabled, proxy certificate GOOD') ? result : undefined;
    }, 60_000, 500);
    expect(run.code).toBe(4);
    expect(rowOf(run.stdout, 'proxy')).toMatch(/^proxy\s+4\s+.*EXPIRES \(<= 7 d\)\s+localhost/);
    expect(run.stdout).toMatch(/OCSP: enabled, proxy certificate GOOD, last query [A-Z][a-z]{2}, /);

    const terminal = await statusOnTerminal();
    expect(terminal.code, terminal.stdout).toBe(4);
    expect(rowOf(terminal.stdout, 'proxy')).toContain(`${ESC}31m4${ESC}0m`);
    expect(rowOf(terminal.stdout, 'api')).toContain(`${ESC}32m`);
    const noColor = await statusOnTerminal({ NO_COLOR: '1' });
    expect(noColor.code).toBe(4);
    expect(noColor.stdout).toContain('proxy');
    expect(noColor.stdout).not.toContain(ESC);
    expect((await status([], { FORCE_COLOR: '1' })).stdout).toContain(`${ESC}31m`);
  });

  it('a revoked proxy certificate (OCSP) is exit 4 even with the expiry fine', async () => {
    const proxy = await responder.issue({ cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256', freshKey: true });
    await install('proxy', proxy);
    await responder.revoke(proxy);
    const run = await waitFor('REVOKED in the status', async () => {
      await api('POST', '/v1/ocsp/test');
      const result = await status(['--threshold', '1']);
      return result.stdout.includes('proxy certificate REVOKED') ? result : undefined;
    }, 60_000, 500);
    expect(run.code).toBe(4);
    expect(rowOf(run.stdout, 'proxy')).toMatch(/\sok\s/);
    expect(run.stderr).toContain('certplane: OCSP: enabled, proxy certificate REVOKED');
  });

  it('without credentials: readiness only, exit 0 (as before); wrong credentials: exit 1', async () => {
    const anonymous = await status([], {}, ['CERTPLANE_USER', 'CERTPLANE_PASSWORD']);
    expect(anonymous.code, anonymous.stderr).toBe(0);
    expect(anonymous.stdout).toMatch(/^ready: bootstrap completed/);
    expect(anonymous.stdout).toContain('certificates: not shown without credentials');
    const wrong = await status([], { CERTPLANE_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('HTTP 401');
  });
});
