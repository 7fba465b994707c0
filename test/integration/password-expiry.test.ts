// Password expiry (digest §5.2): a password older than password_expiration_duration days makes the user
// `status: password_expired`; Basic auth answers 401 password_expired everywhere except the password
// endpoint, where the user sets a new one. The password's age is set by editing the stopped node's store.
import Database from 'better-sqlite3';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';

describe('password expiry', () => {
  let node: TestNode;
  const henry = { email: 'henry@example.com', password: 'Henry-Password-1' };

  beforeAll(async () => {
    const first = await startTestNode();
    const created = await apiRequest(first.port, { method: 'POST', path: '/v1/users', auth: first.admin, body: { name: 'henry', ...henry, role: 'db_viewer' } });
    expect(created.status, created.text).toBe(200);
    const policy = await apiRequest(first.port, { method: 'PUT', path: '/v1/cluster', auth: first.admin, body: { password_expiration_duration: 30 } });
    expect(policy.status).toBe(200);
    await first.stop();

    const db = new Database(path.join(first.dataDir, 'ccs.sqlite'));
    const row = db.prepare("SELECT key, value FROM kv WHERE key LIKE '/certplane/users/%' AND value LIKE ?").get(`%${henry.email}%`) as { key: string; value: string };
    const user = JSON.parse(row.value) as { password_issue_date: string };
    user.password_issue_date = new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    db.prepare('UPDATE kv SET value = ? WHERE key = ?').run(JSON.stringify(user), row.key);
    db.close();

    node = await startTestNode({ dataDir: first.dataDir, port: first.port, admin: first.admin });
  });

  afterAll(async () => {
    await node?.destroy();
    if (node !== undefined) await rm(node.dataDir, { recursive: true, force: true });
  });

  it('shows the user as password_expired and refuses Basic auth with 401 password_expired', async () => {
    const users = await apiRequest(node.port, { path: '/v1/users', auth: node.admin });
    expect(users.json.find((u: { email: string }) => u.email === henry.email).status).toBe('password_expired');
    const refused = await apiRequest(node.port, { path: '/v1/users/role', auth: henry });
    expect(refused.status).toBe(401);
    expect(refused.json.error_code).toBe('password_expired');
  });

  it('lets the user set a new password through /v1/users/password, after which login works again', async () => {
    const changed = await apiRequest(node.port, {
      method: 'PUT',
      path: '/v1/users/password',
      auth: henry,
      body: { old_password: henry.password, new_password: 'Henry-Password-2' },
    });
    expect(changed.status, changed.text).toBe(200);
    const role = await apiRequest(node.port, { path: '/v1/users/role', auth: { email: henry.email, password: 'Henry-Password-2' } });
    expect(role.status).toBe(200);
    const users = await apiRequest(node.port, { path: '/v1/users', auth: node.admin });
    expect(users.json.find((u: { email: string }) => u.email === henry.email).status).toBe('active');
  });
});
