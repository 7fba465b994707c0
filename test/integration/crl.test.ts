// Certificate revocation lists (certplane extension, issue 15.1) against a real node: a real `openssl ca` with
// index.txt/crlnumber whose -gencrl CRLs are uploaded (PUT /v1/cluster/crls) or fetched from a local HTTP CRL
// distribution point named in the CA certificate; revocation enforced on REST API certificate login (Node
// https with a client certificate) and on a database endpoint's mutual TLS (redis-cli --tls --cert), with the
// log line and the metric; bad input (not PEM, truncated, wrong key, foreign issuer, 50 MB body) refused with
// nothing changed; a CDP that hangs, serves garbage or 50 MB keeps the last good CRL; an expired CRL under each
// missing_or_expired setting; RBAC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createTestUser } from '../helpers/test-users.js';
import { freeDbPort, redisCli, waitFor, waitForActive, writePems } from '../helpers/redis-cli.js';
import { OpensslCa, type IssuedCertificate } from '../helpers/openssl-ca.js';

let node: TestNode;
let dir: string;
let root: OpensslCa;
let intermediate: OpensslCa;
let impostor: OpensslCa;
let stranger: OpensslCa;
let alice: IssuedCertificate;
let bob: IssuedCertificate;
let carol: IssuedCertificate;
let dbPort: number;
let proxyCaFile: string;
let cdp: http.Server;
let cdpUrl: string;
/** What the CRL distribution point answers. */
let serve: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.writeHead(404).end();
const hanging = new Set<http.ServerResponse>();

const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path: p, body, auth: node.admin });
const login = (cert: IssuedCertificate): Promise<ApiResponse> => apiRequest(node.port, { path: '/v1/users/role', cert: cert.chain, key: cert.key });
const ping = (cert: IssuedCertificate) => redisCli(dbPort, ['PING'], { tls: { cacert: proxyCaFile, cert: cert.chainPath, key: cert.keyPath } });

async function putCrls(body: unknown): Promise<ApiResponse> {
  return asAdmin('PUT', '/v1/cluster/crls', body);
}

async function expectOk(response: ApiResponse): Promise<ApiResponse> {
  expect(response.status, response.text).toBe(200);
  return response;
}

function scrapeMetrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: node.metricsPort, path: '/', rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      })
      .on('error', reject);
  });
}

async function revokedCounter(): Promise<number> {
  const text = await scrapeMetrics();
  const match = /^certplane_client_certificate_revoked_total\{[^}]*\} (\d+)$/m.exec(text);
  return match === null ? -1 : Number(match[1]);
}

async function events(type: string): Promise<Array<Record<string, unknown>>> {
  const response = await asAdmin('GET', '/v1/logs?order=desc&limit=500');
  return (response.json as Array<Record<string, unknown>>).filter((e) => e.type === type);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-crl-'));
  cdp = http.createServer((req, res) => serve(req, res));
  await new Promise<void>((resolve) => cdp.listen(0, '127.0.0.1', resolve));
  cdpUrl = `http://127.0.0.1:${(cdp.address() as AddressInfo).port}/root.crl`;
  root = await OpensslCa.create({ cn: 'CRL Test Root', cdp: cdpUrl }, dir);
  intermediate = await OpensslCa.create({ cn: 'CRL Test Intermediate', parent: root }, dir);
  impostor = await OpensslCa.create({ cn: 'CRL Test Root' }, dir);
  stranger = await OpensslCa.create({ cn: 'CRL Stranger' }, dir);
  alice = await root.issueClient('alice');
  bob = await root.issueClient('bob');
  carol = await intermediate.issueClient('carol');

  node = await startTestNode();
  await expectOk(await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: root.certificate }] }));
  await expectOk(await asAdmin('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' }));
  for (const name of ['alice', 'bob', 'carol']) {
    await expectOk(await asAdmin('POST', '/v1/users', { name, auth_method: 'certificate', certificate_subject_line: `CN=${name}`, role: 'cluster_viewer' }));
  }
  dbPort = await freeDbPort();
  const created = await expectOk(
    await asAdmin('POST', '/v1/bdbs', {
      name: 'crl-db',
      memory_size: 50_000_000,
      port: dbPort,
      tls_mode: 'enabled',
      enforce_client_authentication: 'enabled',
      authentication_ssl_client_certs: [{ client_cert: root.certificate }],
    }),
  );
  await waitForActive(node.port, node.admin, created.json.uid);
  const proxyPem = (await asAdmin('GET', '/v1/cluster/certificates')).json.proxy_cert as string;
  proxyCaFile = (await writePems(dir, { 'proxy.pem': proxyPem }))['proxy.pem']!;
}, 180_000);

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((resolve) => cdp?.close(resolve));
  cdp?.closeAllConnections();
  await node?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('CRLs (certplane extension)', () => {
  it('is off by default: GET shows the defaults and no CRL; certificate logins work as on RS', async () => {
    const view = await expectOk(await asAdmin('GET', '/v1/cluster/crls'));
    expect(view.json).toMatchObject({ crl_checking: { enabled: false, fetch: false, missing_or_expired: 'accept' }, crls: [] });
    expect((await login(alice)).status).toBe(200);
    expect((await ping(alice)).stdout).toBe('PONG');
    expect((await ping(carol)).stdout).toBe('PONG');
  });

  it('refuses bad CRLs with a clear error and changes nothing', async () => {
    const crl = await root.crl();
    const body = crl.replace(/-----(BEGIN|END) X509 CRL-----/g, '').replace(/\s+/g, '');
    const truncated = `-----BEGIN X509 CRL-----\n${body.slice(0, Math.floor(body.length * 0.7))}\n-----END X509 CRL-----\n`;
    const cases: Array<[unknown, number, string]> = [
      [{ crls: ['not a CRL at all'] }, 400, 'invalid_crl'],
      [{ crls: [root.certificate] }, 400, 'invalid_crl'],
      [{ crls: [truncated] }, 400, 'invalid_crl'],
      [{ crls: [crl.slice(0, crl.length / 2)] }, 400, 'invalid_crl'],
      [{ crls: [await impostor.crl()] }, 400, 'crl_signature_invalid'],
      [{ crls: [await stranger.crl()] }, 400, 'crl_issuer_not_trusted'],
      [{ crls: [crl, await root.crl()] }, 400, 'duplicate_crl_issuer'],
      [{ crls: [crl], surprise: true }, 400, 'invalid_schema'],
      [{}, 400, 'invalid_schema'],
      [{ crl_checking: { missing_or_expired: 'maybe' } }, 400, 'invalid_schema'],
      [{ crl_checking: { distribution_points: ['file:///etc/passwd'] } }, 400, 'invalid_schema'],
    ];
    for (const [request, status, code] of cases) {
      const response = await expectNoChange(node.dataDir, () => putCrls(request));
      expect(response.status, JSON.stringify(request).slice(0, 80)).toBe(status);
      expect(response.json).toMatchObject({ error_code: code, description: expect.any(String) });
    }
    const wrongKey = await putCrls({ crls: [await impostor.crl()] });
    expect(wrongKey.json.description).toContain('CN=CRL Test Root');
  });

  it('refuses a 50 MB body quickly with 413 and changes nothing', async () => {
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x41);
    const started = Date.now();
    const response = await expectNoChange(node.dataDir, () =>
      apiRequest(node.port, { method: 'PUT', path: '/v1/cluster/crls', auth: node.admin, rawBody: Buffer.concat([Buffer.from('{"crls":["'), huge, Buffer.from('"]}')]) }).catch((error: unknown) => ({ status: 0, text: String(error), json: undefined, headers: {} })),
    );
    // The server answers 413 as soon as the declared length exceeds the limit (the client may see the
    // connection closed while it is still sending: status 0, never a 200).
    expect([413, 0]).toContain(response.status);
    if (response.status === 413) expect(response.json).toMatchObject({ error_code: expect.any(String) });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('lets only update_cluster holders PUT; every role may GET', async () => {
    const viewer = await createTestUser(node, 'cluster_viewer', 'crl-viewer');
    const member = await createTestUser(node, 'db_member', 'crl-member');
    const crl = await root.crl();
    for (const user of [viewer, member]) {
      const put = await expectNoChange(node.dataDir, () => apiRequest(node.port, { method: 'PUT', path: '/v1/cluster/crls', auth: user, body: { crls: [crl] } }));
      expect(put.status).toBe(403);
      expect(put.json.error_code).toBe('insufficient_permissions');
      expect((await apiRequest(node.port, { path: '/v1/cluster/crls', auth: user })).status).toBe(200);
    }
    expect((await apiRequest(node.port, { path: '/v1/cluster/crls' })).status).toBe(401);
  });

  it('refuses a revoked client certificate on API login and database mTLS after the upload, with a log line and the metric', async () => {
    const before = await revokedCounter();
    expect(before).toBeGreaterThanOrEqual(0);
    await root.revoke(alice.certificate);
    const put = await expectOk(await putCrls({ crls: [await root.crl()], crl_checking: { enabled: true } }));
    expect(put.json.crls).toEqual([
      expect.objectContaining({ issuer: 'CN=CRL Test Root', revoked_count: 1, source: 'uploaded', in_use: true, expired: false, this_update: expect.any(String), next_update: expect.any(String) }),
    ]);
    const refused = await login(alice);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ error_code: 'certificate_revoked' });
    expect(refused.json.description).toContain('revoked by the CRL of CN=CRL Test Root');
    expect((await login(bob)).status).toBe(200);
    const db = await ping(alice);
    expect(`${db.stdout} ${db.stderr}`).toMatch(/connection refused|revoked/i);
    expect(`${db.stdout}`).not.toBe('PONG');
    expect((await ping(bob)).stdout).toBe('PONG');
    expect(node.output()).toMatch(/client certificate refused: revoked or revocation status unknown/);
    await waitFor('the revocation counter to count both refusals', async () => (await revokedCounter()) >= before + 2, 20_000, 200);
    expect((await events('crls_updated')).length).toBeGreaterThan(0);
  });

  it('refuses a certificate whose intermediate CA is revoked by the root CRL', async () => {
    await root.revoke(intermediate.certificate);
    await expectOk(await putCrls({ crls: [await root.crl()] }));
    const refused = await login(carol);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ error_code: 'certificate_revoked' });
    expect(refused.json.description).toContain('CN=CRL Test Intermediate');
    expect((await ping(carol)).stdout).not.toBe('PONG');
    expect((await login(bob)).status).toBe(200);
  });

  it('applies missing_or_expired to an expired CRL: accept (default) logs in, refuse refuses', async () => {
    const expired = await root.crl({ lastUpdate: new Date(Date.now() - 7_200_000), nextUpdate: new Date(Date.now() - 3_600_000) });
    const accepted = await expectOk(await putCrls({ crls: [expired], crl_checking: { missing_or_expired: 'accept' } }));
    expect(accepted.json.warnings.join(' ')).toContain('past its next_update');
    expect(accepted.json.crls[0]).toMatchObject({ expired: true });
    expect((await login(bob)).status).toBe(200);
    expect((await ping(bob)).stdout).toBe('PONG');
    // Revoked stays revoked however old the CRL is.
    expect((await login(alice)).json.error_code).toBe('certificate_revoked');
    await waitFor('a crl_missing_or_expired event', async () => (await events('crl_missing_or_expired')).some((e) => e.state === true), 30_000, 250);
    const alert = async (): Promise<{ state: boolean; subjects: unknown[] }> => (await asAdmin('GET', '/v1/cluster/alerts/cluster_crl_missing_or_expired')).json;
    expect(await alert()).toMatchObject({ state: true, severity: 'WARNING' });

    await expectOk(await putCrls({ crl_checking: { missing_or_expired: 'refuse' } }));
    const refused = await login(bob);
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ error_code: 'revocation_unknown' });
    expect((await ping(bob)).stdout).not.toBe('PONG');
    // A current CRL makes the status known again.
    await expectOk(await putCrls({ crls: [await root.crl()] }));
    expect((await login(bob)).status).toBe(200);
    await waitFor('cluster_crl_missing_or_expired cleared', async () => (await alert()).state === false, 30_000, 250);
    await expectOk(await putCrls({ crl_checking: { missing_or_expired: 'accept' } }));
  });

  it('fetches the CRL from the distribution point named in the CA certificate and enforces it', async () => {
    await root.revoke(bob.certificate);
    const served = await root.crlDer();
    serve = (_req, res) => res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(served);
    await expectOk(await putCrls({ crl_checking: { fetch: true, fetch_timeout_seconds: 2, refresh_interval_seconds: 10 } }));
    const fetched = await waitFor(
      'the fetched CRL',
      async () => {
        const view = await asAdmin('GET', '/v1/cluster/crls');
        return (view.json.crls as Array<Record<string, unknown>>).find((c) => c.source === 'fetched' && c.in_use === true) ? view.json : undefined;
      },
      60_000,
      250,
    );
    expect(fetched.crls.find((c: Record<string, unknown>) => c.source === 'fetched')).toMatchObject({ url: cdpUrl, revoked_count: 3, issuer: 'CN=CRL Test Root' });
    expect(fetched.fetch_status.urls[cdpUrl]).toMatchObject({ last_success: expect.any(String) });
    await waitFor('bob refused', async () => (await login(bob)).status === 401, 30_000, 250);
    await waitFor('bob refused on the database', async () => (await ping(bob)).stdout !== 'PONG', 30_000, 250);
    expect((await events('crl_fetched')).length).toBeGreaterThan(0);
  });

  it('keeps the last good CRL when the distribution point hangs, serves garbage or 50 MB, and says why', async () => {
    const crlsNow = async (): Promise<unknown> => (await asAdmin('GET', '/v1/cluster/crls')).json.crls;
    const before = await crlsNow();
    const failures: Array<[string, (req: http.IncomingMessage, res: http.ServerResponse) => void, RegExp]> = [
      ['hang', (_req, res) => hanging.add(res), /no complete answer within 1000 ms/],
      ['garbage', (_req, res) => res.writeHead(200).end('garbage, not a CRL'), /invalid_crl/],
      [
        '50 MB',
        (_req, res) => {
          res.writeHead(200);
          const chunk = Buffer.alloc(1024 * 1024, 0x30);
          let sent = 0;
          const push = (): void => {
            while (sent < 50 && res.write(chunk)) sent += 1;
            if (sent < 50) res.once('drain', push);
            else res.end();
          };
          res.on('error', () => undefined);
          push();
        },
        /more than the 10485760 bytes/,
      ],
    ];
    for (const [label, handler, why] of failures) {
      serve = handler;
      // A settings change makes every distribution point due at once.
      await expectOk(await putCrls({ crl_checking: { fetch_timeout_seconds: label === 'hang' ? 1 : 2 + failures.findIndex(([l]) => l === label) } }));
      await waitFor(
        `the ${label} failure in fetch_status`,
        async () => {
          const view = await asAdmin('GET', '/v1/cluster/crls');
          const status = view.json.fetch_status.urls[cdpUrl] as { error?: string } | undefined;
          return status?.error !== undefined && why.test(status.error) ? status : undefined;
        },
        60_000,
        250,
      );
      expect(await crlsNow()).toEqual(before);
      expect((await login(bob)).status).toBe(401); // still enforced with the last good CRL
    }
    const failed = await events('crl_fetch_failed');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed[0]).toMatchObject({ severity: 'WARNING', url: cdpUrl });
    expect(node.output()).toMatch(/Could not fetch the CRL from/);
  });

  it('turned off again, nothing is checked (RS behaviour)', async () => {
    await expectOk(await putCrls({ crl_checking: { enabled: false, fetch: false } }));
    expect((await login(alice)).status).toBe(200);
    expect((await ping(alice)).stdout).toBe('PONG');
    expect((await ping(carol)).stdout).toBe('PONG');
  });
});
