// What the logged-in person's role may do, from the server's own role matrix (src/domain/rbac.ts). The UI only
// hides controls with it; the server enforces every permission again.
import { hasPermission, isRoleName, type Permission } from '../../src/domain/rbac.js';

let role = 'none';

export function setRole(name: string): void {
  role = name;
}

export function can(permission: Permission): boolean {
  return isRoleName(role) && hasPermission(role, permission);
}
