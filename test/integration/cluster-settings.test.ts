// GET/PUT /v1/cluster and /v1/cluster/policy, and the password endpoints, against a real node:
// partial updates merged and returned whole, dry_run, read-only fields, schema errors that change nothing,
// self-service password changes and the admin-only rule for other users' passwords.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse, type Credentials } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';

describe('cluster settings and passwords', () => {
  let node: TestNode;
  const asAdmin = (method: string, path: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path, body, auth: node.admin });

  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  it('returns the cluster object with RS field names, types and defaults', async () => {
    const response = await asAdmin('GET', '/v1/cluster');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      name: 'cluster.local',
      min_control_TLS_version: '1.2',
      min_data_TLS_version: '1.2',
      mtls_certificate_authentication: false,
      mtls_client_cert_subject_validation_type: 'disabled',
      mtls_authorized_subjects: [],
      control_plane_basic_authentication: true,
      password_complexity: false,
      password_min_length: 8,
      password_expiration_duration: 0,
      alert_settings: { cluster_certs_about_to_expire: { enabled: true, threshold: '45' }, cluster_ocsp_query_failed: true, cluster_ocsp_status_revoked: true },
    });
    expect(response.json.created_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('merges a partial update, returns the full object, and honours dry_run', async () => {
    const dry = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster?dry_run', { password_min_length: 12 }));
    expect(dry.status).toBe(200);
    expect(dry.json.password_min_length).toBe(12);
    expect((await asAdmin('GET', '/v1/cluster')).json.password_min_length).toBe(8);

    const real = await asAdmin('PUT', '/v1/cluster', { password_min_length: 10, alert_settings: { cluster_certs_about_to_expire: { threshold: '30' } } });
    expect(real.status).toBe(200);
    expect(real.json.password_min_length).toBe(10);
    expect(real.json.alert_settings.cluster_certs_about_to_expire).toEqual({ enabled: true, threshold: '30' });
    expect(real.json.min_data_TLS_version).toBe('1.2');
    // GET-edit-PUT round trip: read-only fields sent back unchanged are accepted.
    const roundTrip = await asAdmin('PUT', '/v1/cluster', { ...real.json, password_min_length: 8 });
    expect(roundTrip.status, roundTrip.text).toBe(200);
  });

  it.each([
    [{ password_min_length: 7 }],
    [{ password_min_length: '10' }],
    [{ min_data_TLS_version: '1.1' }],
    [{ mtls_client_cert_subject_validation_type: 'cn_only' }],
    [{ mtls_authorized_subjects: [{ O: 'no CN' }] }],
    [{ alert_settings: { cluster_certs_about_to_expire: { threshold: 45 } } }],
    [{ unknown_field: true }],
    [{ name: 'renamed.example.com' }],
  ])('rejects %j with 400 invalid_schema and changes nothing', async (body) => {
    const response = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster', body));
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('invalid_schema');
  });

  it('applies min_control_TLS_version to new connections on the API port without a restart', async () => {
    const handshake = (version: '-tls1_2' | '-tls1_3'): Promise<boolean> =>
      new Promise((resolve) => {
        const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${node.port}`, version], { timeout: 10_000 }, (error, stdout) => {
          resolve(error === null && /New, TLSv1\.[23], Cipher is (?!\(NONE\))/.test(stdout));
        });
        child.stdin?.end();
      });
    expect(await handshake('-tls1_2')).toBe(true);
    expect((await asAdmin('PUT', '/v1/cluster', { min_control_TLS_version: '1.3' })).status).toBe(200);
    expect(await handshake('-tls1_2')).toBe(false);
    expect(await handshake('-tls1_3')).toBe(true);
    expect((await asAdmin('PUT', '/v1/cluster', { min_control_TLS_version: '1.2' })).status).toBe(200);
    expect(await handshake('-tls1_2')).toBe(true);
  });

  it('serves and updates the lockout policy with RS defaults', async () => {
    const policy = await asAdmin('GET', '/v1/cluster/policy');
    expect(policy.json).toEqual({ login_lockout_threshold: 5, login_lockout_counter_reset_after: 900, login_lockout_duration: 1800 });
    const bad = await expectNoChange(node.dataDir, () => asAdmin('PUT', '/v1/cluster/policy', { login_lockout_threshold: -1 }));
    expect(bad.status).toBe(400);
    const updated = await asAdmin('PUT', '/v1/cluster/policy', { login_lockout_threshold: 3 });
    expect(updated.json.login_lockout_threshold).toBe(3);
    await asAdmin('PUT', '/v1/cluster/policy', { login_lockout_threshold: 5 });
  });

  it('lets a user change their own password with the old one, and only admins change others’', async () => {
    const email = 'frank@example.com';
    const created = await asAdmin('POST', '/v1/users', { name: 'frank', email, password: 'Frank-Password-1', role: 'db_viewer' });
    expect(created.status, created.text).toBe(200);
    expect(created.json).not.toHaveProperty('password');
    expect(created.json).not.toHaveProperty('password_hash');
    const frank: Credentials = { email, password: 'Frank-Password-1' };

    // A wrong old_password is a counted password check: the login-failure counter is the only change.
    const wrongOld = await expectNoChange(
      node.dataDir,
      () => apiRequest(node.port, { method: 'PUT', path: '/v1/users/password', auth: frank, body: { old_password: 'nope', new_password: 'Frank-Password-2' } }),
      { exceptKeys: (key) => key.includes('/login-failures/') },
    );
    expect(wrongOld.status).toBe(401);
    // Frank's successful Basic login clears that counter again.
    const same = await expectNoChange(
      node.dataDir,
      () => apiRequest(node.port, { method: 'PUT', path: '/v1/users/password', auth: frank, body: { old_password: frank.password, new_password: frank.password } }),
      { exceptKeys: (key) => key.includes('/login-failures/') },
    );
    expect(same.json.error_code).toBe('new_password_same_as_current');
    const others = await expectNoChange(node.dataDir, () =>
      apiRequest(node.port, { method: 'PUT', path: '/v1/users/password', auth: frank, body: { username: node.admin.email, new_password: 'Hijack-Password-1' } }),
    );
    expect(others.status).toBe(403);
    expect(others.json.error_code).toBe('unauthorized_action');

    const changed = await apiRequest(node.port, { method: 'PUT', path: '/v1/users/password', auth: frank, body: { old_password: frank.password, new_password: 'Frank-Password-2' } });
    expect(changed.status, changed.text).toBe(200);
    expect((await apiRequest(node.port, { path: '/v1/users/role', auth: frank })).status).toBe(401);
    expect((await apiRequest(node.port, { path: '/v1/users/role', auth: { email, password: 'Frank-Password-2' } })).json.role).toBe('db_viewer');

    const byAdmin = await asAdmin('PUT', '/v1/users/password', { username: email, new_password: 'Frank-Password-3' });
    expect(byAdmin.status, byAdmin.text).toBe(200);
    expect((await apiRequest(node.port, { path: '/v1/users/role', auth: { email, password: 'Frank-Password-3' } })).status).toBe(200);
  });

  it('counts parallel failed logins without losing any, so a burst of guesses locks the account', async () => {
    const email = 'ivan@example.com';
    const created = await asAdmin('POST', '/v1/users', { name: 'ivan', email, password: 'Ivan-Password-1', role: 'db_viewer' });
    expect(created.status, created.text).toBe(200);
    const guesses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => apiRequest(node.port, { path: '/v1/users/role', auth: { email, password: `guess-${i}` } })),
    );
    expect(guesses.map((g) => g.status)).toEqual([401, 401, 401, 401, 401]);
    const locked = await apiRequest(node.port, { path: '/v1/users/role', auth: { email, password: 'Ivan-Password-1' } });
    expect(locked.status).toBe(401);
    expect(locked.json.error_code).toBe('user_locked');
  });

  it('enforces password complexity when the cluster asks for it', async () => {
    expect((await asAdmin('PUT', '/v1/cluster', { password_complexity: true })).status).toBe(200);
    const weak = await expectNoChange(node.dataDir, () => asAdmin('POST', '/v1/users', { name: 'gina', email: 'gina@example.com', password: 'alllowercase', role: 'db_viewer' }));
    expect(weak.status).toBe(400);
    expect(weak.json.error_code).toBe('password_not_complex');
    expect((await asAdmin('PUT', '/v1/cluster', { password_complexity: false })).status).toBe(200);
  });
});
