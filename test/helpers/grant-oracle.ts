// The expected answer of the grant rule (src/domain/grant-rules.ts), written out by hand: which management roles
// each role may grant, change or remove. The unit matrix and the HTTP matrix (rbac-escalation) both check against it.
export type OracleRole = 'admin' | 'user_manager' | 'cluster_member' | 'db_member' | 'cluster_viewer' | 'db_viewer' | 'none';

export const MAY_GRANT: Record<OracleRole, readonly OracleRole[]> = {
  admin: ['admin', 'user_manager', 'cluster_member', 'db_member', 'cluster_viewer', 'db_viewer', 'none'],
  user_manager: ['user_manager', 'cluster_member', 'db_member', 'cluster_viewer', 'db_viewer', 'none'],
  cluster_member: ['cluster_member', 'db_member', 'cluster_viewer', 'db_viewer', 'none'],
  db_member: ['db_member', 'cluster_viewer', 'db_viewer', 'none'],
  cluster_viewer: ['cluster_viewer', 'db_viewer', 'none'],
  db_viewer: ['db_viewer', 'none'],
  none: ['none'],
};
