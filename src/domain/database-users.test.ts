import { describe, it, expect } from 'vitest';
import { databaseAclUsers } from './database-users.js';
import { canonicalCertificateSubject } from './rfc2253.js';
import type { UserRecord } from './users.js';

function certUser(uid: number, line: string): UserRecord {
  return {
    uid, name: `u${uid}`, email: '', role: 'none', role_uids: [9], auth_method: 'certificate',
    certificate_subject_line: line, email_alerts: true, password_issue_date: '', status: 'active',
  };
}

describe('databaseAclUsers: certificate users are keyed by their canonical subject', () => {
  const bdb = { roles_permissions: [{ role_uid: 9, redis_acl_uid: 1 }] };
  const acls = [{ uid: 1, name: 'Full', acl: '+@all ~*' }];

  it('maps a line written with spaces to the form a certificate subject gives', () => {
    const [user] = databaseAclUsers(bdb, acls, [certUser(2, 'CN=app, OU=Eng , O=Acme\\2C Inc')]);
    expect(user?.subject_line).toBe('CN=app,OU=Eng,O=Acme\\, Inc');
    expect(user?.subject_line).toBe(canonicalCertificateSubject('O=Acme\\, Inc\nOU=Eng\nCN=app'));
  });

  it('skips a stored line that is not a valid subject', () => {
    expect(databaseAclUsers(bdb, acls as never, [certUser(3, 'O=x,CN=app')])).toEqual([]);
  });
});
