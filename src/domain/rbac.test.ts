import { describe, it, expect } from 'vitest';
import {
  DEFAULT_ROLES,
  PERMISSIONS,
  ROLE_NAMES,
  ROLE_PERMISSIONS,
  hasPermission,
  isPermission,
  isRoleName,
  type Permission,
} from './rbac.js';

function difference(a: ReadonlySet<Permission>, b: ReadonlySet<Permission>): Permission[] {
  return [...a].filter((p) => !b.has(p)).sort();
}

describe('rbac permission matrix', () => {
  it('lists the 96 permissions of the digest, each once', () => {
    expect(PERMISSIONS).toHaveLength(96);
    expect(new Set(PERMISSIONS).size).toBe(96);
    expect([...PERMISSIONS].sort()).toEqual(PERMISSIONS);
  });

  it('gives admin every permission and none no permission', () => {
    expect(ROLE_PERMISSIONS.admin.size).toBe(96);
    for (const permission of PERMISSIONS) expect(hasPermission('admin', permission)).toBe(true);
    expect(ROLE_PERMISSIONS.none.size).toBe(0);
  });

  it('has one permission set per role name', () => {
    expect(Object.keys(ROLE_PERMISSIONS).sort()).toEqual([...ROLE_NAMES].sort());
  });

  it('cluster_member and db_member differ only in view_all_metrics and view_cluster_keys', () => {
    expect(difference(ROLE_PERMISSIONS.cluster_member, ROLE_PERMISSIONS.db_member)).toEqual([
      'view_all_metrics',
      'view_cluster_keys',
    ]);
    expect(difference(ROLE_PERMISSIONS.db_member, ROLE_PERMISSIONS.cluster_member)).toEqual([]);
  });

  it('cluster_viewer is db_viewer plus view_logged_events and view_all_metrics', () => {
    expect(difference(ROLE_PERMISSIONS.cluster_viewer, ROLE_PERMISSIONS.db_viewer)).toEqual([
      'view_all_metrics',
      'view_logged_events',
    ]);
    expect(difference(ROLE_PERMISSIONS.db_viewer, ROLE_PERMISSIONS.cluster_viewer)).toEqual([]);
  });

  it('keeps OCSP permissions and update_cluster admin-only', () => {
    const adminOnly: Permission[] = [
      'config_ocsp',
      'view_ocsp_config',
      'view_ocsp_status',
      'test_ocsp_status',
      'update_cluster',
    ];
    for (const permission of adminOnly) {
      const holders = ROLE_NAMES.filter((role) => hasPermission(role, permission));
      expect(holders, permission).toEqual(['admin']);
    }
  });

  it('grants the X* cells of user_manager (view_bdb_recovery_plan, view_debugging_info)', () => {
    expect(hasPermission('user_manager', 'view_bdb_recovery_plan')).toBe(true);
    expect(hasPermission('user_manager', 'view_debugging_info')).toBe(true);
  });

  it('gives user management to admin and user_manager only', () => {
    for (const permission of ['create_new_user', 'update_user', 'delete_user', 'view_all_users_info'] as const) {
      expect(ROLE_NAMES.filter((role) => hasPermission(role, permission))).toEqual(['user_manager', 'admin']);
    }
  });

  it('has the role sizes counted from the digest table', () => {
    const sizes = Object.fromEntries(ROLE_NAMES.map((role) => [role, ROLE_PERMISSIONS[role].size]));
    expect(sizes).toEqual({
      none: 0,
      db_viewer: 37,
      db_member: 60,
      cluster_viewer: 39,
      cluster_member: 62,
      user_manager: 61,
      admin: 96,
    });
  });

  it('recognises role and permission names', () => {
    expect(isRoleName('user_manager')).toBe(true);
    expect(isRoleName('root')).toBe(false);
    expect(isPermission('update_cluster')).toBe(true);
    expect(isPermission('toString')).toBe(false);
  });
});

describe('DEFAULT_ROLES', () => {
  it('seeds one role per management role with the RS uids', () => {
    expect(DEFAULT_ROLES.map((r) => [r.uid, r.name, r.management])).toEqual([
      [1, 'Admin', 'admin'],
      [2, 'Cluster Member', 'cluster_member'],
      [3, 'Cluster Viewer', 'cluster_viewer'],
      [4, 'DB Member', 'db_member'],
      [5, 'DB Viewer', 'db_viewer'],
      [6, 'None', 'none'],
      [7, 'User Manager', 'user_manager'],
    ]);
    expect(new Set(DEFAULT_ROLES.map((r) => r.management))).toEqual(new Set(ROLE_NAMES));
  });
});
