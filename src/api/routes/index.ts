// Every REST endpoint certplane serves. A test fails if one declares no permission.
import type { ApiRoute } from '../route.js';
import { getBootstrap } from './bootstrap/get-bootstrap.js';
import { getCertificates } from './cluster-certificates/get-certificates.js';
import { putCertificates } from './cluster-certificates/put-certificates.js';
import { updateCert } from './cluster-certificates/update-cert.js';
import { deleteCertificateRoute } from './cluster-certificates/delete-certificate.js';
import { listLogs } from './logs/list-logs.js';

export const allRoutes: ApiRoute[] = [
  getBootstrap,
  getCertificates,
  putCertificates,
  updateCert,
  deleteCertificateRoute,
  listLogs,
] as ApiRoute[];
