// JSON Web Tokens on the REST API (issue 10 item 8, digest §1.2) against a real node: POST /v1/users/authorize
// with body credentials, Basic or a client certificate; Bearer on every route, also with Basic auth off; expiry;
// password change, lockout and deletion end a user's tokens; tampered, alg-none and foreign tokens are refused
// and change nothing; POST /v1/users/refresh_jwt.
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createTestUser } from '../helpers/test-users.js';
import { createCa, issueCertificate } from '../helpers/pki.js';
import { waitFor } from '../helpers/redis-cli.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('JSON Web Tokens', () => {
  let node: TestNode;
  const api = (method: string, path: string, body?: unknown, auth: Credentials | null = node.admin): Promise<ApiResponse> =>
    apiRequest(node.port, { method, path, body, auth });
  const bearer = (token: string, method = 'GET', path = '/v1/users/role', body?: unknown, scheme = 'Bearer'): Promise<ApiResponse> =>
    apiRequest(node.port, { method, path, body, headers: { authorization: `${scheme} ${token}` } });
  const authorize = async (credentials: Credentials, ttl?: number): Promise<string> => {
    const response = await api('POST', '/v1/users/authorize', { username: credentials.email, password: credentials.password, ...(ttl === undefined ? {} : { ttl }) }, null);
    expect(response.status, response.text).toBe(200);
    expect(Object.keys(response.json)).toEqual(['access_token']);
    return response.json.access_token as string;
  };
  const expectError = (response: ApiResponse, status: number, code: string): void => {
    expect(response.status, response.text).toBe(status);
    expect(response.json?.error_code).toBe(code);
  };

  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('issues a token for body credentials (default ttl 300) that works as Bearer (and the reference’s JWT scheme)', async () => {
    const token = await authorize(node.admin);
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = claimsOf(token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    expect(JSON.stringify(claims)).not.toContain(node.admin.password);
    const role = await bearer(token);
    expect(role.status, role.text).toBe(200);
    expect(role.json).toMatchObject({ role: 'admin', uid: 1, authenticated_with: 'jwt' });
    expect((await bearer(token, 'GET', '/v1/cluster')).status).toBe(200);
    expect((await bearer(token, 'GET', '/v1/users/role', undefined, 'JWT')).status).toBe(200);
    const put = await bearer(token, 'PUT', '/v1/cluster', { cm_session_timeout_minutes: 20 });
    expect(put.status, put.text).toBe(200);
  });

  it('issues a token to a caller authenticated with Basic and an optional {ttl}', async () => {
    const plain = await api('POST', '/v1/users/authorize');
    expect(plain.status, plain.text).toBe(200);
    const withTtl = await api('POST', '/v1/users/authorize', { ttl: 86400 });
    expect(withTtl.status, withTtl.text).toBe(200);
    const claims = claimsOf(withTtl.json.access_token as string);
    expect((claims.exp as number) - (claims.iat as number)).toBe(86400);
  });

  it.each([[{ ttl: 0 }], [{ ttl: 86401 }], [{ ttl: '300' }], [{ ttl: 1.5 }], [{ username: 'x' }], [{ scope: 'all' }]])(
    'refuses authorize body %j with 400, changing nothing',
    async (body) => {
      const response = await expectNoChange(node.dataDir, () => api('POST', '/v1/users/authorize', body));
      expectError(response, 400, 'invalid_schema');
    },
  );

  it('refuses wrong body credentials and credentials sent twice', async () => {
    expectError(await api('POST', '/v1/users/authorize', { username: node.admin.email, password: 'wrong-password' }, null), 401, 'unauthenticated');
    expectError(await api('POST', '/v1/users/authorize', { username: 'nobody@example.com', password: 'x' }, null), 401, 'unauthenticated');
    const twice = await expectNoChange(node.dataDir, () => api('POST', '/v1/users/authorize', { username: node.admin.email, password: node.admin.password }));
    expectError(twice, 400, 'ambiguous_credentials');
    expectError(await api('POST', '/v1/users/authorize', undefined, null), 401, 'unauthenticated');
  });

  it('stops accepting a token at its expiry (ttl 1)', async () => {
    const issuedAt = Date.now();
    const token = await authorize(node.admin, 1);
    expect((await bearer(token)).status).toBe(200);
    const expired = await waitFor('the token to expire', async () => {
      const response = await bearer(token);
      return response.status === 401 ? response : undefined;
    }, 10_000, 100);
    expect(Date.now() - issuedAt).toBeGreaterThanOrEqual(1000);
    expectError(expired, 401, 'invalid_token');
  });

  it('applies RBAC to Bearer callers: a db_viewer token cannot change the cluster', async () => {
    const viewer = await createTestUser(node, 'db_viewer', 'jwt-viewer');
    const token = await authorize(viewer);
    expect((await bearer(token, 'GET', '/v1/bdbs')).status).toBe(200);
    const denied = await expectNoChange(node.dataDir, () => bearer(token, 'PUT', '/v1/cluster', { cm_session_timeout_minutes: 25 }));
    expectError(denied, 403, 'insufficient_permissions');
  });

  it('refuses tampered, alg none, foreign-key and oversized tokens with 401, changing nothing', async () => {
    const viewer = await createTestUser(node, 'cluster_viewer', 'jwt-tamper');
    const token = await authorize(viewer);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const asAdmin = b64({ ...claimsOf(token), sub: '1' });
    const foreignKey = randomBytes(32);
    const foreign = `${header}.${asAdmin}.${createHmac('sha256', foreignKey).update(`${header}.${asAdmin}`).digest('base64url')}`;
    const forged: Record<string, string> = {
      'payload changed to the admin': `${header}.${asAdmin}.${signature}`,
      'alg none, no signature': `${b64({ alg: 'none', typ: 'JWT' })}.${asAdmin}.`,
      'alg none, old signature': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
      'signed with another key': foreign,
      'signature cut': `${header}.${payload}.${signature.slice(0, 20)}`,
      oversized: `${header}.${'A'.repeat(5000)}.${signature}`,
      garbage: 'not-a-token',
    };
    for (const [what, value] of Object.entries(forged)) {
      const response = await expectNoChange(node.dataDir, () => bearer(value, 'PUT', '/v1/cluster', { cm_session_timeout_minutes: 44 }));
      expect(response.status, what).toBe(401);
      expect(['invalid_token', 'unauthenticated'], what).toContain(response.json?.error_code);
    }
    expect((await api('GET', '/v1/cluster')).json.cm_session_timeout_minutes).not.toBe(44);
    expect((await bearer(token)).json.uid).toBe(viewer.uid);
  });

  it('ends a user’s tokens when the password changes (own change or an admin’s)', async () => {
    const user = await createTestUser(node, 'cluster_viewer', 'jwt-password');
    const token = await authorize(user);
    expect((await bearer(token)).status).toBe(200);
    const changed = await api('PUT', '/v1/users/password', { old_password: user.password, new_password: 'Changed-Password-2' }, user);
    expect(changed.status, changed.text).toBe(200);
    expectError(await bearer(token), 401, 'invalid_token');
    const renewed = await authorize({ email: user.email, password: 'Changed-Password-2' });
    expect((await bearer(renewed)).status).toBe(200);
    const reset = await api('PUT', `/v1/users/${user.uid}`, { password: 'Admin-Set-Password-3' });
    expect(reset.status, reset.text).toBe(200);
    expectError(await bearer(renewed), 401, 'invalid_token');
  });

  it('refuses a locked user’s token and a deleted user’s token', async () => {
    const locked = await createTestUser(node, 'cluster_viewer', 'jwt-locked');
    const lockedToken = await authorize(locked);
    for (let i = 0; i < 5; i++) expect((await api('GET', '/v1/roles', undefined, { email: locked.email, password: 'wrong-one' })).status).toBe(401);
    expectError(await bearer(lockedToken), 401, 'user_locked');

    const deleted = await createTestUser(node, 'cluster_viewer', 'jwt-deleted');
    const deletedToken = await authorize(deleted);
    expect((await api('DELETE', `/v1/users/${deleted.uid}`)).status).toBe(200);
    expectError(await bearer(deletedToken), 401, 'invalid_token');
  });

  it('refreshes a valid token (optional ttl) and refuses refresh without one', async () => {
    const token = await authorize(node.admin, 600);
    const refreshed = await bearer(token, 'POST', '/v1/users/refresh_jwt', { ttl: 120 });
    expect(refreshed.status, refreshed.text).toBe(200);
    const next = refreshed.json.access_token as string;
    expect(next).not.toBe(token);
    const claims = claimsOf(next);
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
    expect((await bearer(next)).status).toBe(200);
    expect((await bearer(token, 'POST', '/v1/users/refresh_jwt')).status).toBe(200);
    expectError(await api('POST', '/v1/users/refresh_jwt'), 401, 'invalid_token');
    expectError(await bearer(`${token}x`, 'POST', '/v1/users/refresh_jwt'), 401, 'invalid_token');
  });

  it('keeps Bearer working when Basic authentication is off, and refuses password logins then', async () => {
    const token = await authorize(node.admin, 600);
    // Basic may be turned off only while certificate login is on (no_login_method otherwise).
    const ca = await createCa({ cn: 'JWT basic-off CA' });
    expect((await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] })).status).toBe(200);
    expect((await api('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' })).status).toBe(200);
    const off = await api('PUT', '/v1/cluster', { control_plane_basic_authentication: false });
    expect(off.status, off.text).toBe(200);
    try {
      expect((await api('GET', '/v1/cluster')).status).toBe(401);
      const noPassword = await expectNoChange(node.dataDir, () => api('POST', '/v1/users/authorize', { username: node.admin.email, password: node.admin.password }, null));
      expect(noPassword.status).toBe(401);
      expect((await bearer(token, 'GET', '/v1/cluster')).status).toBe(200);
      const refreshed = await bearer(token, 'POST', '/v1/users/refresh_jwt');
      expect(refreshed.status, refreshed.text).toBe(200);
      expect((await bearer(refreshed.json.access_token as string, 'GET', '/v1/bdbs')).status).toBe(200);
    } finally {
      const on = await bearer(token, 'PUT', '/v1/cluster', { control_plane_basic_authentication: true, mtls_certificate_authentication: false });
      expect(on.status, on.text).toBe(200);
    }
    expect((await api('GET', '/v1/cluster')).status).toBe(200);
    expect((await api('PUT', '/v1/cluster', { mtls_certificate_authentication: false })).status).toBe(200);
  });

  it('gives a token to a caller logged in by client certificate', async () => {
    const ca = await createCa({ cn: 'JWT client CA' });
    const client = await issueCertificate(ca, { subject: 'CN=jwtcert,O=Acme', eku: ['clientAuth'] });
    expect((await api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: ca.certificate }] })).status).toBe(200);
    expect((await api('PUT', '/v1/cluster', { mtls_certificate_authentication: true, mtls_client_cert_subject_validation_type: 'disabled' })).status).toBe(200);
    const user = await api('POST', '/v1/users', { name: 'jwtcert', auth_method: 'certificate', certificate_subject_line: 'CN=jwtcert,O=Acme', role: 'cluster_viewer' });
    expect(user.status, user.text).toBe(200);
    const issued = await waitFor('certificate login', async () => {
      const response = await apiRequest(node.port, { method: 'POST', path: '/v1/users/authorize', body: { ttl: 60 }, cert: client.certificate, key: client.key });
      return response.status === 200 ? response : undefined;
    });
    const token = issued.json.access_token as string;
    const role = await bearer(token);
    expect(role.status, role.text).toBe(200);
    expect(role.json).toMatchObject({ name: 'jwtcert', role: 'cluster_viewer', authenticated_with: 'jwt' });

    // Review M1: the token must not outlive certificate login. Turned off, the token and refresh_jwt are
    // refused (nothing changes); turned on again, the same token works again.
    const off = await api('PUT', '/v1/cluster', { mtls_certificate_authentication: false });
    expect(off.status, off.text).toBe(200);
    expectError(await expectNoChange(node.dataDir, () => bearer(token)), 401, 'invalid_token');
    expectError(await expectNoChange(node.dataDir, () => bearer(token, 'POST', '/v1/users/refresh_jwt', { ttl: 86400 })), 401, 'invalid_token');
    expect((await api('PUT', '/v1/cluster', { mtls_certificate_authentication: true })).status).toBe(200);
    expect((await bearer(token)).status).toBe(200);
  });

  it('counts wrong old_password guesses toward the lockout: at the threshold the user is locked (review M2)', async () => {
    const user = await createTestUser(node, 'cluster_viewer', 'jwt-oldpw');
    const token = await authorize(user, 600);
    const guesses: Array<() => Promise<ApiResponse>> = [
      () => bearer(token, 'PUT', '/v1/users/password', { old_password: 'guess-1', new_password: 'Attacker-Password-9' }),
      () => bearer(token, 'PUT', `/v1/users/${user.uid}`, { old_password: 'guess-2', password: 'Attacker-Password-9' }),
      () => bearer(token, 'PUT', '/v1/users/password', { old_password: 'guess-3', new_password: 'Attacker-Password-9' }),
      () => bearer(token, 'PUT', '/v1/users/password', { old_password: 'guess-4', new_password: 'Attacker-Password-9' }),
      () => bearer(token, 'PUT', `/v1/users/${user.uid}`, { old_password: 'guess-5', password: 'Attacker-Password-9' }),
    ];
    for (const guess of guesses) expectError(await guess(), 401, 'unauthenticated');
    const status = await api('GET', `/v1/users/${user.uid}`);
    expect(status.json.status, status.text).toBe('locked');
    // Locked: the right old password no longer changes anything, on either route, by token or Basic.
    for (const attempt of [
      () => bearer(token, 'PUT', '/v1/users/password', { old_password: user.password, new_password: 'Attacker-Password-9' }),
      () => bearer(token, 'PUT', `/v1/users/${user.uid}`, { old_password: user.password, password: 'Attacker-Password-9' }),
    ]) {
      expectError(await expectNoChange(node.dataDir, attempt), 401, 'user_locked');
    }
    expectError(await api('PUT', '/v1/users/password', { old_password: user.password, new_password: 'Attacker-Password-9' }, user), 401, 'user_locked');
    expect((await api('GET', '/v1/roles', undefined, { email: user.email, password: 'Attacker-Password-9' })).status).toBe(401);
  });
});

describe('JSON Web Tokens: maximum session age (review M1)', () => {
  const MAX_SESSION = 6;
  let node: TestNode;
  const bearer = (token: string, method = 'GET', path = '/v1/users/role', body?: unknown): Promise<ApiResponse> =>
    apiRequest(node.port, { method, path, body, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    node = await startTestNode({ env: { CERTPLANE_JWT_MAX_SESSION_SECONDS: String(MAX_SESSION) } });
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('caps every token at auth_time + the maximum age; refresh_jwt keeps auth_time and cannot extend the session', async () => {
    const login = await apiRequest(node.port, { method: 'POST', path: '/v1/users/authorize', body: { username: node.admin.email, password: node.admin.password, ttl: 3600 } });
    expect(login.status, login.text).toBe(200);
    const first = login.json.access_token as string;
    const authTime = claimsOf(first).auth_time as number;
    expect(authTime).toBe(claimsOf(first).iat);
    expect(claimsOf(first).exp).toBe(authTime + MAX_SESSION);
    // Refresh while the session is young: allowed, same auth_time, still capped.
    const refreshed = await bearer(first, 'POST', '/v1/users/refresh_jwt', { ttl: 86400 });
    expect(refreshed.status, refreshed.text).toBe(200);
    let token = refreshed.json.access_token as string;
    expect(claimsOf(token).auth_time).toBe(authTime);
    expect(claimsOf(token).exp).toBe(authTime + MAX_SESSION);
    // Keep refreshing: no chain of refreshes outlives the session's maximum age.
    const refused = await waitFor('session at its maximum age', async () => {
      const next = await bearer(token, 'POST', '/v1/users/refresh_jwt', { ttl: 86400 });
      if (next.status === 200) {
        token = next.json.access_token as string;
        expect(claimsOf(token).exp as number).toBeLessThanOrEqual(authTime + MAX_SESSION);
        return undefined;
      }
      return next;
    }, 30_000, 500);
    expect(refused.status, refused.text).toBe(401);
    expect(refused.json?.error_code).toBe('invalid_token');
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(authTime + MAX_SESSION - 1);
    const again = await expectNoChange(node.dataDir, () => bearer(token, 'POST', '/v1/users/refresh_jwt'));
    expect(again.status).toBe(401);
    expect((await bearer(token)).status).toBe(401);
  });
});

