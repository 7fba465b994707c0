// First start on an empty store creates the cluster in one transaction (exactly once, even if several
// nodes race): self-signed certificates, the internal CA and internode certificates, default roles,
// cluster settings and policy, and the first admin user. Any later start resumes what is there.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterStore, TxnOp } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { putCertificateRecordOp } from '../store/certificate-records.js';
import type { Clock } from '../lib/clock.js';
import type { NodeConfig } from '../config/node-config.js';
import { generateClusterCertificates } from './cluster-pki.js';
import { defaultClusterDocument, DEFAULT_CLUSTER_POLICY } from '../domain/cluster-settings.js';
import { DEFAULT_ROLES } from '../domain/rbac.js';
import { hashPassword } from '../domain/passwords.js';
import type { UserRecord } from '../domain/users.js';
import { newClusterMigrationOps } from './migrate-store.js';

export interface ClusterCreation {
  created: boolean;
  /** Set only when this start generated the admin password (it is shown once). */
  generatedAdmin?: { email: string; password: string };
}

export async function ensureCluster(store: ClusterStore, config: NodeConfig, clock: Clock, log: Logger): Promise<ClusterCreation> {
  if ((await store.get(keys.cluster)) !== undefined) return { created: false };

  const now = clock.now();
  const email = config.adminEmail ?? `admin@${config.clusterName.includes('.') ? config.clusterName : `${config.clusterName}.local`}`;
  const password = config.adminPassword ?? randomBytes(18).toString('base64url');
  const [certificates, passwordHash] = await Promise.all([generateClusterCertificates(config.clusterName, now), hashPassword(password)]);
  const { internal_ca: internalCa, ...clusterCertificates } = certificates;

  const admin: UserRecord = {
    uid: 1,
    name: 'Administrator',
    email,
    role: 'admin',
    role_uids: [1],
    auth_method: 'regular',
    certificate_subject_line: '',
    email_alerts: true,
    password_hash: passwordHash,
    password_issue_date: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    status: 'active',
  };
  const ops: TxnOp[] = [
    { type: 'put', key: keys.cluster, value: JSON.stringify(defaultClusterDocument(config.clusterName, now, config.apiPort, config.cmPort)) },
    { type: 'put', key: keys.policy, value: JSON.stringify(DEFAULT_CLUSTER_POLICY) },
    { type: 'put', key: keys.internalCa, value: JSON.stringify(internalCa) },
    ...Object.entries(clusterCertificates).map(([name, pair]): TxnOp => putCertificateRecordOp(name, pair)),
    ...DEFAULT_ROLES.map((role): TxnOp => ({ type: 'put', key: keys.role(role.uid), value: JSON.stringify(role) })),
    { type: 'put', key: keys.counter('role_uid'), value: String(Math.max(...DEFAULT_ROLES.map((r) => r.uid))) },
    { type: 'put', key: keys.user(1), value: JSON.stringify(admin) },
    { type: 'put', key: keys.userEmailIndex(email), value: '1' },
    { type: 'put', key: keys.userNameIndex(admin.name), value: '1' },
    { type: 'put', key: keys.counter('user_uid'), value: '1' },
    ...newClusterMigrationOps(now),
  ];
  const result = await store.txn({ compare: [{ key: keys.cluster, target: 'version', op: '==', value: 0 }], success: ops });
  if (!result.succeeded) {
    log.info('another node created the cluster first; joining it');
    return { created: false };
  }
  log.info({ cluster: config.clusterName, admin: email }, 'cluster created');
  return config.adminPassword === undefined ? { created: true, generatedAdmin: { email, password } } : { created: true };
}
