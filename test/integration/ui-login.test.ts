// The Cluster Manager UI server on the cm port (issue 13): a real node, Debian's Chromium through
// playwright-core, and plain HTTPS requests. Password login and lockout, certificate login with a client
// certificate in the browser and the clear refusal of untrusted, expired and unmapped ones, CSRF, cookie flags,
// idle expiry, a password or role change ending the user's other sessions, RBAC on the cm port, static files
// (no traversal), and the cm certificate's hot reload. Every refused change is checked with expectNoChange.
//
// Idle expiry: cm_session_timeout_minutes accepts 1-1440 minutes, so the shortest real idle timeout is a minute.
// The node runs with CERTPLANE_TEST_CM_SESSION_MINUTE_MS=4000 (a test-only environment variable that shortens
// the minute of this one setting), so the test sets cm_session_timeout_minutes through the API as an operator
// would and sees the session end after 4 s of idleness instead of waiting a minute.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, peerCertificate, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange, snapshotNode } from '../helpers/expect-no-change.js';
import { createCa, issueCertificate, selfSigned, type TestCertificate } from '../helpers/pki.js';
import { createTestUser } from '../helpers/test-users.js';
import { waitUntil } from '../helpers/cluster-calls.js';
import { launchBrowser, pageFetch, type TestBrowser } from '../helpers/browser.js';

const DAY = 24 * 3600 * 1000;
const MINUTE_MS = 4000;

interface CmSession {
  cookie: string;
  csrf: string;
  body: any;
}

describe('Cluster Manager UI: login, sessions and the REST API on the cm port', () => {
  let node: TestNode;
  let browser: TestBrowser;
  let origin: string;
  let ca: TestCertificate;
  let otherCa: TestCertificate;

  const asAdmin = (method: string, p: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path: p, body, auth: node.admin });
  const setCluster = async (body: Record<string, unknown>): Promise<void> => {
    const response = await asAdmin('PUT', '/v1/cluster', body);
    expect(response.status, response.text).toBe(200);
  };
  /** A request on the cm port (Node's https client: no browser, explicit cookie and headers). */
  const cm = (p: string, options: { method?: string; body?: unknown; session?: CmSession; csrf?: string | null; headers?: Record<string, string>; auth?: Credentials; cert?: TestCertificate } = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.session !== undefined) headers.cookie = `certplane_session=${options.session.cookie}`;
    const csrf = options.csrf === undefined ? options.session?.csrf : options.csrf;
    if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
    return apiRequest(node.cmPort, {
      method: options.method ?? 'GET',
      path: p,
      body: options.body,
      headers,
      auth: options.auth ?? null,
      ...(options.cert === undefined ? {} : { cert: options.cert.chain, key: options.cert.key }),
    });
  };
  const cookieOf = (response: ApiResponse): string => {
    const header = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('certplane_session='));
    expect(header, response.text).toBeDefined();
    return /^certplane_session=([^;]*)/.exec(header!)![1]!;
  };
  const login = async (credentials: Credentials): Promise<CmSession> => {
    const response = await cm('/ui/api/login', { method: 'POST', body: { username: credentials.email, password: credentials.password } });
    expect(response.status, response.text).toBe(200);
    return { cookie: cookieOf(response), csrf: response.json.csrf_token, body: response.json };
  };
  const openPage = async (options: { cert?: TestCertificate } = {}): Promise<Page> => {
    const page = await browser.newPage(options.cert === undefined ? {} : { clientCertificate: { certificate: options.cert.chain, key: options.cert.key }, origin });
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    return page;
  };

  beforeAll(async () => {
    [node, browser, ca, otherCa] = await Promise.all([
      startTestNode({ env: { CERTPLANE_TEST_CM_SESSION_MINUTE_MS: String(MINUTE_MS) } }),
      launchBrowser(),
      createCa({ cn: 'UI Client CA' }),
      createCa({ cn: 'Other CA' }),
    ]);
    origin = `https://127.0.0.1:${node.cmPort}`;
    // The node answers on the API port first; the cm port listens a moment later.
    await waitUntil(async () => (await cm('/ui/api/session')).status === 401, 30_000, 'the cm port answers');
  });

  afterAll(async () => {
    await browser?.close();
    await node?.destroy();
  });

  it('prints the UI address at start and serves the cm certificate on the cm port', async () => {
    // The start summary is written just after the node is ready (the helper's readiness check can win the race).
    const summary = `"ui_url":"https://127.0.0.1:${node.cmPort}/"`;
    await waitUntil(async () => node.output().includes(summary), 10_000, 'the start summary names the UI address');
    const certificates = await asAdmin('GET', '/v1/cluster/certificates');
    const served = await peerCertificate(node.cmPort);
    expect(served.fingerprint256).toBe(new X509Certificate(certificates.json.cm_cert).fingerprint256);
  });

  it('serves / with the security headers, and no file outside the UI folder for any traversal form', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['content-type']).toContain('text/html');
    for (const attempt of [
      '/../package.json',
      '/../../../../etc/passwd',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/..%2f..%2fpackage.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%252e%252e/package.json',
      '/index.html%00.js',
      '/.git/config',
      '/src/',
      '/dist/',
    ]) {
      const answer = await cm(attempt);
      expect(answer.status, attempt).toBe(404);
      expect(answer.text, attempt).not.toContain('"name": "certplane"');
      expect(answer.text, attempt).not.toContain('root:');
    }
  });

  it('logs in with a password in the browser: HttpOnly Secure SameSite=Strict cookie, the session shape, the API with the cookie', async () => {
    const page = await openPage();
    const loginResponse = await pageFetch(page, '/ui/api/login', { method: 'POST', body: { username: node.admin.email, password: node.admin.password } });
    expect(loginResponse.status, loginResponse.text).toBe(200);
    expect(loginResponse.json).toEqual({
      username: node.admin.email,
      name: expect.any(String),
      role: 'admin',
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      login_method: 'password',
      session_timeout_minutes: 15,
      uid: 1,
      auth_method: 'regular',
    });
    const cookies = await page.context().cookies(origin);
    const session = cookies.find((c) => c.name === 'certplane_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(session!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // HttpOnly: the page's scripts cannot read it.
    expect(await page.evaluate('document.cookie')).not.toContain('certplane_session');

    const again = await pageFetch(page, '/ui/api/session');
    expect(again.status).toBe(200);
    expect(again.json.csrf_token).toBe(loginResponse.json.csrf_token);
    const role = await pageFetch(page, '/v1/users/role');
    expect(role.status).toBe(200);
    expect(role.json).toMatchObject({ role: 'admin', authenticated_with: 'session' });

    // The store keeps neither the cookie value nor the CSRF token (only a SHA-256 of the id).
    const stored = JSON.stringify((await snapshotNode(node)).store);
    expect(stored).toContain('/ui-sessions/');
    expect(stored).not.toContain(session!.value);
    expect(stored).not.toContain(loginResponse.json.csrf_token);
  });

  it('refuses wrong passwords with the API’s messages, then locks the user out on both ports (shared counter)', async () => {
    const user = await createTestUser(node, 'cluster_viewer', 'lockout');
    const page = await openPage();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const refused = await pageFetch(page, '/ui/api/login', { method: 'POST', body: { username: user.email, password: 'wrong-password' } });
      expect(refused.status).toBe(401);
      expect(refused.json).toMatchObject({ error_code: 'unauthenticated', description: 'Invalid email or password' });
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    // Two more wrong ones on the API port with Basic: the same counter reaches the threshold (5).
    for (let attempt = 4; attempt <= 5; attempt++) {
      const refused = await apiRequest(node.port, { path: '/v1/users/role', auth: { email: user.email, password: 'wrong-password' } });
      expect(refused.status).toBe(401);
    }
    const locked = await pageFetch(page, '/ui/api/login', { method: 'POST', body: { username: user.email, password: user.password } });
    expect(locked.status).toBe(401);
    expect(locked.json).toMatchObject({ error_code: 'user_locked', description: 'The account is locked after too many failed logins' });
    const lockedApi = await apiRequest(node.port, { path: '/v1/users/role', auth: user });
    expect(lockedApi.json.error_code).toBe('user_locked');
    // An unknown user gets the same answer as a wrong password.
    const unknown = await cm('/ui/api/login', { method: 'POST', body: { username: 'nobody@example.com', password: 'x' } });
    expect(unknown.json).toMatchObject({ error_code: 'unauthenticated', description: 'Invalid email or password' });
    const malformed = await cm('/ui/api/login', { method: 'POST', body: { username: user.email } });
    expect(malformed.status).toBe(400);
  });

  it('accepts neither Basic credentials nor tokens on the cm port’s REST API, only the session cookie', async () => {
    const basic = await cm('/v1/users/role', { auth: node.admin });
    expect(basic.status).toBe(401);
    expect(basic.json.error_code).toBe('unauthenticated');
    const token = await asAdmin('POST', '/v1/users/authorize', null);
    expect(token.status, token.text).toBe(200);
    const bearer = await cm('/v1/users/role', { headers: { authorization: `Bearer ${token.json.access_token}` } });
    expect(bearer.status).toBe(401);
    // No token endpoints on the cm port: even with a session (and its CSRF token) it issues no JWT.
    const session = await login(node.admin);
    const authorize = await cm('/v1/users/authorize', { method: 'POST', session, body: { username: node.admin.email, password: node.admin.password } });
    expect(authorize.status).toBe(404);
  });

  it('refuses a state change without the CSRF token, with a wrong one, or from another origin, changing nothing', async () => {
    const session = await login(node.admin);
    for (const [label, options] of [
      ['no token', { csrf: null }],
      ['a wrong token', { csrf: 'A'.repeat(43) }],
      ['another session’s token', { csrf: (await login(node.admin)).csrf }],
      ['a foreign Origin', { headers: { origin: 'https://evil.example' } }],
      ['a cross-site fetch', { headers: { 'sec-fetch-site': 'cross-site' } }],
    ] as const) {
      const refused = await expectNoChange(node, () => cm('/v1/cluster', { method: 'PUT', session, body: { password_min_length: 12 }, ...options }));
      expect(refused.status, label).toBe(403);
      expect(refused.json.error_code, label).toBe('csrf_failed');
    }
    // Login CSRF: a login posted from another origin is refused before any password check, and opens no session.
    const crossLogin = await expectNoChange(node, () =>
      cm('/ui/api/login', { method: 'POST', body: { username: node.admin.email, password: node.admin.password }, headers: { origin: 'https://evil.example' } }),
    );
    expect(crossLogin.status).toBe(403);
    expect(crossLogin.json.error_code).toBe('csrf_failed');
    expect(crossLogin.headers['set-cookie']).toBeUndefined();
    // A made-up cookie of the right form is no session.
    const forged = await expectNoChange(node, () => cm('/v1/cluster', { method: 'PUT', session: { cookie: 'A'.repeat(43), csrf: 'A'.repeat(43), body: {} }, body: { password_min_length: 12 } }));
    expect(forged.status).toBe(401);
    const logoutWithoutToken = await expectNoChange(node, () => cm('/ui/api/logout', { method: 'POST', session, csrf: null }));
    expect(logoutWithoutToken.status).toBe(403);
    expect((await cm('/ui/api/session', { session })).status).toBe(200);

    // In the browser: a fetch without the header is refused; with it the change goes through.
    const page = await openPage();
    const browserLogin = await pageFetch(page, '/ui/api/login', { method: 'POST', body: { username: node.admin.email, password: node.admin.password } });
    const noHeader = await expectNoChange(node, () => pageFetch(page, '/v1/cluster', { method: 'PUT', body: { password_min_length: 12 } }));
    expect(noHeader.status).toBe(403);
    const withHeader = await pageFetch(page, '/v1/cluster', { method: 'PUT', body: { password_min_length: 8 }, headers: { 'X-CSRF-Token': browserLogin.json.csrf_token } });
    expect(withHeader.status, withHeader.text).toBe(200);
  });

  it('enforces RBAC on the cm port: a cluster_viewer’s session reads but cannot replace a certificate', async () => {
    const viewer = await createTestUser(node, 'cluster_viewer', 'ui-viewer');
    const session = await login(viewer);
    expect(session.body.role).toBe('cluster_viewer');
    expect((await cm('/v1/cluster/certificates', { session })).status).toBe(200);
    const replacement = await selfSigned({ cn: 'cm.viewer.test', freshKey: true });
    const refused = await expectNoChange(node, () =>
      cm('/v1/cluster/certificates', { method: 'PUT', session, body: { certificates: [{ name: 'cm', certificate: replacement.certificate, key: replacement.key }] } }),
    );
    expect(refused.status).toBe(403);
    expect(refused.json.error_code).toBe('insufficient_permissions');
  });

  it('logout ends the session and clears the cookie', async () => {
    const session = await login(node.admin);
    const out = await cm('/ui/api/logout', { method: 'POST', session });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/certplane_session=;.*Max-Age=0/);
    const after = await cm('/v1/users/role', { session });
    expect(after.status).toBe(401);
    expect(after.json.description).toContain('session has ended');
    expect((await cm('/ui/api/session', { session })).status).toBe(401);
  });

  it('a password change ends the user’s other sessions and keeps the one that made it; a role change and a deletion end all', async () => {
    const user = await createTestUser(node, 'cluster_member', 'ui-pw');
    const [first, second] = [await login(user), await login(user)];
    const changed = await cm('/v1/users/password', { method: 'PUT', session: first, body: { username: user.email, old_password: user.password, new_password: 'New-Password-9x' } });
    expect(changed.status, changed.text).toBe(200);
    expect((await cm('/v1/users/role', { session: first })).status).toBe(200);
    const ended = await cm('/v1/users/role', { session: second });
    expect(ended.status).toBe(401);
    expect(ended.json.description).toContain('session has ended');

    const third = await login({ email: user.email, password: 'New-Password-9x' });
    const role = await asAdmin('PUT', `/v1/users/${user.uid}`, { role: 'cluster_viewer' });
    expect(role.status, role.text).toBe(200);
    expect((await cm('/v1/users/role', { session: first })).status).toBe(401);
    expect((await cm('/v1/users/role', { session: third })).status).toBe(401);

    const fourth = await login({ email: user.email, password: 'New-Password-9x' });
    expect(fourth.body.role).toBe('cluster_viewer');
    expect((await asAdmin('DELETE', `/v1/users/${user.uid}`)).status).toBe(200);
    expect((await cm('/v1/users/role', { session: fourth })).status).toBe(401);
  });

  it('ends a session after cm_session_timeout_minutes of idleness, not while it is used', async () => {
    await setCluster({ cm_session_timeout_minutes: 1 });
    try {
      const idle = await login(node.admin);
      const busy = await login(node.admin);
      expect(idle.body.session_timeout_minutes).toBe(1);
      // Used every 1.5 s (well within the 4 s "minute"), for 6 s: stays.
      const until = Date.now() + 1.5 * MINUTE_MS;
      while (Date.now() < until) {
        expect((await cm('/v1/users/role', { session: busy })).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      expect((await cm('/v1/users/role', { session: busy })).status).toBe(200);
      const expired = await cm('/v1/users/role', { session: idle });
      expect(expired.status).toBe(401);
      expect(expired.json.description).toContain('session has ended');
    } finally {
      await setCluster({ cm_session_timeout_minutes: 15 });
    }
  });

  it('caps the sessions of one user: the oldest ends when a new login goes beyond the cap', async () => {
    const user = await createTestUser(node, 'db_viewer', 'ui-cap');
    const sessions: CmSession[] = [];
    for (let i = 0; i < 17; i++) sessions.push(await login(user));
    expect((await cm('/ui/api/session', { session: sessions[0] })).status).toBe(401);
    expect((await cm('/ui/api/session', { session: sessions[1] })).status).toBe(200);
    expect((await cm('/ui/api/session', { session: sessions[16] })).status).toBe(200);
  });

  describe('certificate login', () => {
    let alice: TestCertificate;

    beforeAll(async () => {
      alice = await issueCertificate(ca, { subject: 'CN=alice,OU=ops,O=Acme', eku: ['clientAuth'] });
      const created = await asAdmin('POST', '/v1/users', { name: 'alice', auth_method: 'certificate', certificate_subject_line: 'CN=alice,OU=ops,O=Acme', role: 'cluster_viewer' });
      expect(created.status, created.text).toBe(200);
    });

    it('says certificate login is off when a certificate is presented before it is enabled', async () => {
      const page = await openPage({ cert: alice });
      const refused = await pageFetch(page, '/ui/api/session');
      expect(refused.status).toBe(401);
      expect(refused.json.error_code).toBe('certificate_login_disabled');
      expect(refused.json.description).toContain('certificate login is off');
    });

    it('logs a certificate user in from the browser’s client certificate, with no password', async () => {
      const upload = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] });
      expect(upload.status, upload.text).toBe(200);
      await setCluster({ mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' });

      const page = await openPage({ cert: alice });
      const session = await pageFetch(page, '/ui/api/session');
      expect(session.status, session.text).toBe(200);
      expect(session.json).toMatchObject({ name: 'alice', role: 'cluster_viewer', login_method: 'certificate', auth_method: 'certificate' });
      const cookies = await page.context().cookies(origin);
      expect(cookies.find((c) => c.name === 'certplane_session')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
      const role = await pageFetch(page, '/v1/users/role');
      expect(role.json).toMatchObject({ name: 'alice', role: 'cluster_viewer', authenticated_with: 'session' });
      // The session carries on without re-checking the certificate, and the cookie is what counts.
      const again = await pageFetch(page, '/ui/api/session');
      expect(again.json.csrf_token).toBe(session.json.csrf_token);
    });

    it.each([
      ['a certificate from an untrusted CA', () => issueCertificate(otherCa, { subject: 'CN=alice,OU=ops,O=Acme' }), 'certificate_not_trusted', /trust|chain/i],
      ['a self-signed certificate', () => selfSigned({ subject: 'CN=alice,OU=ops,O=Acme', freshKey: true }), 'certificate_not_trusted', /trust|chain|issuer/i],
      [
        'an expired certificate',
        () => issueCertificate(ca, { subject: 'CN=alice,OU=ops,O=Acme', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
        'client_certificate_expired',
        /expired/i,
      ],
      [
        'a certificate not valid yet',
        () => issueCertificate(ca, { subject: 'CN=alice,OU=ops,O=Acme', notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) }),
        'client_certificate_not_yet_valid',
        /not (yet )?valid/i,
      ],
      ['a certificate of no user', () => issueCertificate(ca, { subject: 'CN=mallory,OU=ops,O=Acme' }), 'unknown_certificate_user', /No certificate user/],
    ])('refuses %s with a clear message and no session', async (_label, make, code, message) => {
      const cert = await make();
      const page = await openPage({ cert });
      const refused = await expectNoChange(node, () => pageFetch(page, '/ui/api/session'), { exceptEvents: true });
      expect(refused.status).toBe(401);
      expect(refused.json.error_code).toBe(code);
      expect(refused.json.description).toMatch(message);
      expect((await page.context().cookies(origin)).find((c) => c.name === 'certplane_session')).toBeUndefined();
    });

    it('ends a certificate user’s session when certificate login is turned off', async () => {
      const page = await openPage({ cert: alice });
      expect((await pageFetch(page, '/ui/api/session')).status).toBe(200);
      await setCluster({ mtls_certificate_authentication: false });
      try {
        const role = await pageFetch(page, '/v1/users/role');
        expect(role.status).toBe(401);
        expect(role.json.error_code).toBe('certificate_login_disabled');
      } finally {
        await setCluster({ mtls_certificate_authentication: true });
      }
    });
  });

  it('hot-reloads the cm certificate on PUT of cm, and follows min_control_TLS_version', async () => {
    const next = await selfSigned({ cn: 'cm.rotated.test', sans: ['DNS:cm.rotated.test'], freshKey: true });
    const put = await asAdmin('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'cm', certificate: next.certificate, key: next.key }] });
    expect(put.status, put.text).toBe(200);
    expect((await peerCertificate(node.cmPort)).fingerprint256).toBe(next.x509.fingerprint256);
    // And the browser still gets the UI over the new certificate.
    const page = await openPage();
    expect(await page.title()).not.toBe('');

    await setCluster({ min_control_TLS_version: '1.3' });
    try {
      const tls12 = await new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: node.cmPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
          socket.end();
          resolve('connected');
        });
        socket.on('error', () => resolve('refused'));
      });
      expect(tls12).toBe('refused');
    } finally {
      await setCluster({ min_control_TLS_version: '1.2' });
    }
  });
});
