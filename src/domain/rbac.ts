// Management roles, the 96 API permissions and which role holds which (digest §6.3, §6.4), plus the
// predefined roles seeded at cluster creation. Pure data; the API checks routes with hasPermission().

export const ROLE_NAMES = [
  'none',
  'db_viewer',
  'db_member',
  'cluster_viewer',
  'cluster_member',
  'user_manager',
  'admin',
] as const;

export type RoleName = (typeof ROLE_NAMES)[number];

export function isRoleName(value: unknown): value is RoleName {
  return typeof value === 'string' && (ROLE_NAMES as readonly string[]).includes(value);
}

/** The six role columns of the digest table, in its order. `none` holds no permission. */
const COLUMNS = ['admin', 'cluster_member', 'cluster_viewer', 'db_member', 'db_viewer', 'user_manager'] as const;

type Mark = 'X' | '-';
/** One mark per column of COLUMNS: X = granted (the digest's X* counts as granted), - = not granted. */
type Row = `${Mark}${Mark}${Mark}${Mark}${Mark}${Mark}`;

// prettier-ignore
const MATRIX = {
  //                                  adm c_mem c_view db_mem db_view u_mgr
  add_cluster_module:                'X-----',
  cancel_cluster_action:             'X-----',
  cancel_node_action:                'X-----',
  config_ldap:                       'X----X',
  config_ocsp:                       'X-----',
  config_sso:                        'X-----',
  create_bdb:                        'XX-X--',
  create_crdb:                       'XX-X--',
  create_ldap_mapping:               'X----X',
  create_new_user:                   'X----X',
  create_redis_acl:                  'X----X',
  create_role:                       'X----X',
  delete_bdb:                        'XX-X--',
  delete_cluster_module:             'X-----',
  delete_crdb:                       'XX-X--',
  delete_ldap_mapping:               'X----X',
  delete_redis_acl:                  'X----X',
  delete_role:                       'X----X',
  delete_user:                       'X----X',
  edit_bdb_module:                   'XX-X--',
  failover_shard:                    'XX-X--',
  flush_crdb:                        'XX-X--',
  install_new_license:               'X----X',
  manage_cluster_modules:            'X-----',
  migrate_shard:                     'XX-X--',
  purge_instance:                    'XX-X--',
  reset_bdb_current_backup_status:   'XX-X--',
  reset_bdb_current_export_status:   'XX-X--',
  reset_bdb_current_import_status:   'XX-X--',
  start_bdb_export:                  'XX-X--',
  start_bdb_import:                  'XX-X--',
  start_bdb_recovery:                'XX-X--',
  start_cluster_action:              'X-----',
  start_node_action:                 'X-----',
  test_ocsp_status:                  'X-----',
  update_bdb:                        'XX-X--',
  update_bdb_alerts:                 'XX-X--',
  update_bdb_with_action:            'XX-X--',
  update_cluster:                    'X-----',
  update_crdb:                       'XX-X--',
  update_ldap_mapping:               'X----X',
  update_node:                       'X-----',
  update_proxy:                      'X----X',
  update_redis_acl:                  'X----X',
  update_role:                       'X----X',
  update_user:                       'X----X',
  upgrade_crdb:                      'XX-X--',
  view_all_bdb_stats:                'XXXXXX',
  view_all_bdbs_alerts:              'XXXXXX',
  view_all_bdbs_info:                'XXXXXX',
  view_all_ldap_mappings_info:       'X----X',
  view_all_metrics:                  'XXX---',
  view_all_nodes_alerts:             'XXXXXX',
  view_all_nodes_checks:             'XXXXXX',
  view_all_nodes_info:               'XXXXXX',
  view_all_nodes_stats:              'XXXXXX',
  view_all_proxies_info:             'XXXXXX',
  view_all_redis_acls_info:          'XXXXXX',
  view_all_roles_info:               'XXXXXX',
  view_all_shard_stats:              'XXXXXX',
  view_all_users_info:               'X----X',
  view_bdb_alerts:                   'XXXXXX',
  view_bdb_info:                     'XXXXXX',
  view_bdb_recovery_plan:            'XXXXXX', // u_mgr is X* in the digest
  view_bdb_stats:                    'XXXXXX',
  view_cluster_alerts:               'XXXXXX',
  view_cluster_info:                 'XXXXXX',
  view_cluster_keys:                 'XX---X',
  view_cluster_modules:              'XXXXXX',
  view_cluster_stats:                'XXXXXX',
  view_crdb:                         'XXXXXX',
  view_crdb_list:                    'XXXXXX',
  view_crdb_task:                    'XXXXXX',
  view_crdb_task_list:               'XXXXXX',
  view_debugging_info:               'XX-X-X', // u_mgr is X* in the digest
  view_endpoint_stats:               'XXXXXX',
  view_ldap_config:                  'X----X',
  view_ldap_mapping_info:            'X----X',
  view_license:                      'XXXXXX',
  view_logged_events:                'XXXX-X',
  view_node_alerts:                  'XXXXXX',
  view_node_check:                   'XXXXXX',
  view_node_info:                    'XXXXXX',
  view_node_stats:                   'XXXXXX',
  view_ocsp_config:                  'X-----',
  view_ocsp_status:                  'X-----',
  view_proxy_info:                   'XXXXXX',
  view_redis_acl_info:               'XXXXXX',
  view_redis_pass:                   'XX-X-X',
  view_role_info:                    'XXXXXX',
  view_shard_stats:                  'XXXXXX',
  view_sso:                          'XXXXXX',
  view_status_of_all_node_actions:   'XXXXXX',
  view_status_of_cluster_action:     'XXXXXX',
  view_status_of_node_action:        'XXXXXX',
  view_user_info:                    'X----X',
} as const satisfies Record<string, Row>;

export type Permission = keyof typeof MATRIX;

/** Every permission name of digest §6.4, in the digest's (alphabetical) order. */
export const PERMISSIONS: readonly Permission[] = Object.freeze(Object.keys(MATRIX) as Permission[]);

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(MATRIX, value);
}

function permissionsOfColumn(column: number): ReadonlySet<Permission> {
  return new Set(PERMISSIONS.filter((permission) => MATRIX[permission][column] === 'X'));
}

export const ROLE_PERMISSIONS: Readonly<Record<RoleName, ReadonlySet<Permission>>> = Object.freeze({
  none: new Set<Permission>(),
  ...(Object.fromEntries(COLUMNS.map((role, column) => [role, permissionsOfColumn(column)])) as Record<
    (typeof COLUMNS)[number],
    ReadonlySet<Permission>
  >),
});

export function hasPermission(role: RoleName, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.has(permission) ?? false;
}

export interface RoleDefinition {
  uid: number;
  name: string;
  management: RoleName;
}

/**
 * The predefined roles seeded at cluster creation (digest §6.3 lists uids 1-6; User Manager, missing from
 * the docs' example, takes 7).
 */
export const DEFAULT_ROLES: readonly Readonly<RoleDefinition>[] = Object.freeze([
  { uid: 1, name: 'Admin', management: 'admin' },
  { uid: 2, name: 'Cluster Member', management: 'cluster_member' },
  { uid: 3, name: 'Cluster Viewer', management: 'cluster_viewer' },
  { uid: 4, name: 'DB Member', management: 'db_member' },
  { uid: 5, name: 'DB Viewer', management: 'db_viewer' },
  { uid: 6, name: 'None', management: 'none' },
  { uid: 7, name: 'User Manager', management: 'user_manager' },
] as const);
