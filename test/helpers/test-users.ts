// Creates users of a given management role through the real API (POST /v1/users as the node's admin),
// for RBAC and key-visibility tests.
import { expect } from 'vitest';
import { apiRequest, type Credentials } from './api-client.js';
import type { TestNode } from './test-node.js';

export const ROLES = ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager', 'none'] as const;
export type TestRole = (typeof ROLES)[number];

export interface TestUser extends Credentials {
  uid: number;
  role: TestRole;
}

let counter = 0;

export async function createTestUser(node: TestNode, role: TestRole, label: string = role): Promise<TestUser> {
  counter += 1;
  const email = `${label.replace(/_/g, '-')}-${process.pid}-${counter}@example.com`;
  const password = `Pw-${label}-${counter}-secret`;
  const response = await apiRequest(node.port, {
    method: 'POST',
    path: '/v1/users',
    auth: node.admin,
    body: { name: `${label} ${counter}`, email, password, role },
  });
  expect(response.status, response.text).toBe(200);
  return { email, password, uid: response.json.uid as number, role };
}
