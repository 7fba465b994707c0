// Every REST endpoint certplane serves. A test fails if one declares no permission.
import type { ApiRoute } from '../route.js';
import { getBootstrap } from './bootstrap/get-bootstrap.js';
import { getCertificates } from './cluster-certificates/get-certificates.js';
import { putCertificates } from './cluster-certificates/put-certificates.js';
import { updateCert } from './cluster-certificates/update-cert.js';
import { deleteCertificateRoute } from './cluster-certificates/delete-certificate.js';
import { rotateCertificates } from './cluster-certificates/rotate-certificates.js';
import { getJobScheduler } from './job-scheduler/get-job-scheduler.js';
import { putJobScheduler } from './job-scheduler/put-job-scheduler.js';
import { getAcmeRoute } from './cluster-acme/get-acme.js';
import { putAcmeRoute } from './cluster-acme/put-acme.js';
import { listLogs } from './logs/list-logs.js';
import { getCluster } from './cluster/get-cluster.js';
import { putCluster } from './cluster/put-cluster.js';
import { getPolicy } from './cluster/get-policy.js';
import { putPolicy } from './cluster/put-policy.js';
import { listUsers } from './users/list-users.js';
import { getUser } from './users/get-user.js';
import { createUser } from './users/create-user.js';
import { updateUser } from './users/update-user.js';
import { deleteUser } from './users/delete-user.js';
import { listRoles } from './roles/list-roles.js';
import { getRole } from './roles/get-role.js';
import { createRole } from './roles/create-role.js';
import { updateRole } from './roles/update-role.js';
import { deleteRole } from './roles/delete-role.js';
import { listRedisAclsRoute } from './redis-acls/list-redis-acls.js';
import { getRedisAcl } from './redis-acls/get-redis-acl.js';
import { createRedisAcl } from './redis-acls/create-redis-acl.js';
import { updateRedisAcl } from './redis-acls/update-redis-acl.js';
import { deleteRedisAcl } from './redis-acls/delete-redis-acl.js';
import { validateRedisAcl } from './redis-acls/validate-redis-acl.js';
import { listBdbs } from './bdbs/list-bdbs.js';
import { getBdb } from './bdbs/get-bdb.js';
import { createBdb } from './bdbs/create-bdb.js';
import { updateBdb } from './bdbs/update-bdb.js';
import { deleteBdb } from './bdbs/delete-bdb.js';
import { bdbAction } from './bdbs/bdb-action.js';
import { putUserPassword, postUserPassword, deleteUserPassword } from './users/user-password.js';
import { getOwnRole } from './users/get-own-role.js';
import { authorizeUser } from './users/authorize-user.js';
import { refreshJwt } from './users/refresh-jwt.js';
import { listNodes } from './nodes/list-nodes.js';
import { getNode } from './nodes/get-node.js';
import { removeNode } from './nodes/remove-node.js';
import { getOcsp } from './ocsp/get-ocsp.js';
import { putOcsp } from './ocsp/put-ocsp.js';
import { getOcspStatus } from './ocsp/get-ocsp-status.js';
import { testOcsp } from './ocsp/test-ocsp.js';
import { getCrls } from './crls/get-crls.js';
import { putCrls } from './crls/put-crls.js';
import { openApiRoute } from '../openapi/get-openapi.js';
import { getClusterAlerts } from './alerts/get-cluster-alerts.js';
import { getClusterAlert } from './alerts/get-cluster-alert.js';
import { getNodesAlerts } from './alerts/get-nodes-alerts.js';
import { getNodeAlerts, getNodeAlertsByNode } from './alerts/get-node-alerts.js';
import { getNodeAlert } from './alerts/get-node-alert.js';

export const allRoutes: ApiRoute[] = [
  getBootstrap,
  getCertificates,
  putCertificates,
  updateCert,
  deleteCertificateRoute,
  rotateCertificates,
  getJobScheduler,
  putJobScheduler,
  getAcmeRoute,
  putAcmeRoute,
  listLogs,
  getCluster,
  putCluster,
  getPolicy,
  putPolicy,
  getOwnRole,
  authorizeUser,
  refreshJwt,
  putUserPassword,
  postUserPassword,
  deleteUserPassword,
  listUsers,
  getUser,
  createUser,
  updateUser,
  deleteUser,
  listRoles,
  getRole,
  createRole,
  updateRole,
  deleteRole,
  listRedisAclsRoute,
  getRedisAcl,
  createRedisAcl,
  updateRedisAcl,
  deleteRedisAcl,
  validateRedisAcl,
  listBdbs,
  getBdb,
  createBdb,
  updateBdb,
  deleteBdb,
  bdbAction,
  listNodes,
  getNode,
  removeNode,
  getOcsp,
  putOcsp,
  getOcspStatus,
  testOcsp,
  getClusterAlerts,
  getClusterAlert,
  getNodesAlerts,
  getNodeAlerts,
  getNodeAlertsByNode,
  getNodeAlert,
  getCrls,
  putCrls,
  openApiRoute(() => allRoutes),
] as ApiRoute[];
