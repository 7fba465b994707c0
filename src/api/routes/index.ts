// Every REST endpoint certplane serves. A test fails if one declares no permission.
import type { ApiRoute } from '../route.js';
import { getBootstrap } from './bootstrap/get-bootstrap.js';
import { getCertificates } from './cluster-certificates/get-certificates.js';
import { putCertificates } from './cluster-certificates/put-certificates.js';
import { updateCert } from './cluster-certificates/update-cert.js';
import { deleteCertificateRoute } from './cluster-certificates/delete-certificate.js';
import { listLogs } from './logs/list-logs.js';
import { getCluster, putCluster, getPolicy, putPolicy } from './cluster/cluster-routes.js';
import { listUsers } from './users/list-users.js';
import { getUser } from './users/get-user.js';
import { createUser } from './users/create-user.js';
import { updateUser } from './users/update-user.js';
import { deleteUser } from './users/delete-user.js';
import { listRoles } from './roles/list-roles.js';
import { putUserPassword, postUserPassword, deleteUserPassword } from './users/user-password.js';
import { getOwnRole } from './users/get-own-role.js';

export const allRoutes: ApiRoute[] = [
  getBootstrap,
  getCertificates,
  putCertificates,
  updateCert,
  deleteCertificateRoute,
  listLogs,
  getCluster,
  putCluster,
  getPolicy,
  putPolicy,
  getOwnRole,
  putUserPassword,
  postUserPassword,
  deleteUserPassword,
  listUsers,
  getUser,
  createUser,
  updateUser,
  deleteUser,
  listRoles,
] as ApiRoute[];
