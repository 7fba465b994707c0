// Small pure rules that keep certplane's responses in the reference's shape: built-in Redis ACL uids, the
// cluster document defaults, and a node's software_version.
import { describe, expect, it } from 'vitest';
import { migrateLegacyAclBindings, PREDEFINED_REDIS_ACLS } from './redis-acls.js';
import { defaultClusterDocument, withClusterDefaults, type ClusterDocument } from './cluster-settings.js';
import { rsSoftwareVersion } from './nodes.js';

describe('reference compatibility rules', () => {
  it('numbers the built-in Redis ACLs as the reference: 1 Full Access, 2 Read Only, 3 Not Dangerous', () => {
    expect(PREDEFINED_REDIS_ACLS.map((a) => [a.uid, a.name])).toEqual([[1, 'Full Access'], [2, 'Read Only'], [3, 'Not Dangerous']]);
    expect(PREDEFINED_REDIS_ACLS.find((a) => a.uid === 2)?.acl).toBe('+@read ~* &*');
  });

  it('moves bindings written with the old uids to the ACLs they meant', () => {
    expect(migrateLegacyAclBindings([{ role_uid: 8, redis_acl_uid: 1 }, { role_uid: 9, redis_acl_uid: 100 }])).toBeUndefined();
    expect(migrateLegacyAclBindings([{ role_uid: 8, redis_acl_uid: 2 }, { role_uid: 9, redis_acl_uid: 3 }, { role_uid: 10, redis_acl_uid: 1 }])).toEqual([
      { role_uid: 8, redis_acl_uid: 3 },
      { role_uid: 9, redis_acl_uid: 2 },
      { role_uid: 10, redis_acl_uid: 1 },
    ]);
  });

  it('completes a stored cluster document with new defaults and keeps what was stored', () => {
    const fresh = defaultClusterDocument('c.local', new Date('2026-01-01T00:00:00Z'), 9443, 8443);
    expect(fresh.alert_settings).toMatchObject({
      cluster_ca_cert_about_to_expire: { enabled: true, threshold: '90' },
      cluster_ocsp_query_failed: true,
      cluster_ocsp_status_revoked: true,
    });
    expect(fresh.cm_session_timeout_minutes).toBe(15);
    const { cm_session_timeout_minutes: _c, ...olderFields } = fresh;
    const { cluster_ca_cert_about_to_expire: _a, ...olderAlerts } = fresh.alert_settings;
    const older = { ...olderFields, password_min_length: 12, alert_settings: { ...olderAlerts, cluster_ocsp_query_failed: false } } as unknown as ClusterDocument;
    const completed = withClusterDefaults(older);
    expect(completed.cm_session_timeout_minutes).toBe(15);
    expect(completed.password_min_length).toBe(12);
    expect(completed.alert_settings.cluster_ca_cert_about_to_expire).toEqual({ enabled: true, threshold: '90' });
    expect(completed.alert_settings.cluster_ocsp_query_failed).toBe(false);
    expect(withClusterDefaults(fresh)).toEqual(fresh);
  });

  it('reports software_version in the reference form MAJOR.MINOR.PATCH-BUILD', () => {
    expect(rsSoftwareVersion('0.1.0')).toBe('8.2.0-100');
    expect(rsSoftwareVersion('1.2.3')).toBe('8.2.0-10203');
    expect(rsSoftwareVersion('0.1.0')).toMatch(/^\d+\.\d+\.\d+-\d+$/);
  });
});
