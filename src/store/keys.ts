// Every key certplane keeps in the cluster store, in one place. Values are JSON documents.
const ROOT = '/certplane';

export const keys = {
  /** The cluster document: name, created_time and the settings of PUT /v1/cluster. */
  cluster: `${ROOT}/cluster`,
  /** The internal CA that issues the internode certificates (never returned by the API). */
  internalCa: `${ROOT}/internal-ca`,
  /** The overlap of an internal CA renewal while it lasts: the previous CA, still trusted until retire_after. */
  internalCaRenewal: `${ROOT}/internal-ca-renewal`,
  /** GET/PUT /v1/job_scheduler (absent until the first PUT: RS defaults). */
  jobScheduler: `${ROOT}/job-scheduler`,
  /** The certificate rotation job's last run (the leader writes it with the rotation it made). */
  certRotationJob: `${ROOT}/jobs/cert-rotation`,
  /** Cluster policy (lockout settings). */
  policy: `${ROOT}/policy`,
  /** One key per installed certificate: { certificate, key? }. */
  certificatePrefix: `${ROOT}/certificates/`,
  certificate: (name: string) => `${ROOT}/certificates/${name}`,
  /** Users by uid, and the unique indexes that guard email and subject line. */
  userPrefix: `${ROOT}/users/`,
  user: (uid: number) => `${ROOT}/users/${String(uid).padStart(10, '0')}`,
  userEmailIndex: (email: string) => `${ROOT}/index/user-email/${email.toLowerCase()}`,
  userNameIndex: (name: string) => `${ROOT}/index/user-name/${name}`,
  userSubjectIndex: (subject: string) => `${ROOT}/index/user-subject/${subject}`,
  /** Failed-login counters for the lockout policy. */
  loginFailures: (uid: number) => `${ROOT}/login-failures/${uid}`,
  rolePrefix: `${ROOT}/roles/`,
  role: (uid: number) => `${ROOT}/roles/${String(uid).padStart(10, '0')}`,
  roleNameIndex: (name: string) => `${ROOT}/index/role-name/${name}`,
  /** Databases (bdb) by uid, the indexes that keep ports and names unique, and the status each node applied. */
  bdbPrefix: `${ROOT}/bdbs/`,
  bdb: (uid: number) => `${ROOT}/bdbs/${String(uid).padStart(10, '0')}`,
  bdbPortIndex: (port: number) => `${ROOT}/index/bdb-port/${port}`,
  bdbNameIndex: (name: string) => `${ROOT}/index/bdb-name/${name}`,
  bdbStatusPrefix: `${ROOT}/bdb-status/`,
  bdbStatus: (uid: number) => `${ROOT}/bdb-status/${String(uid).padStart(10, '0')}`,
  /** PUT /v1/bdbs/{uid}/flush: the pending request (one per database) and the owning node's claim / result
   *  (src/domain/database-actions.ts). */
  bdbActionPrefix: `${ROOT}/bdb-actions/`,
  bdbAction: (uid: number) => `${ROOT}/bdb-actions/${String(uid).padStart(10, '0')}`,
  bdbActionResult: (uid: number) => `${ROOT}/bdb-action-results/${String(uid).padStart(10, '0')}`,
  /** Redis ACLs (digest §6.3) by uid, and their name index. */
  redisAclPrefix: `${ROOT}/redis-acls/`,
  redisAcl: (uid: number) => `${ROOT}/redis-acls/${String(uid).padStart(10, '0')}`,
  redisAclNameIndex: (name: string) => `${ROOT}/index/redis-acl-name/${name}`,
  /** Monotonic uid counters, advanced with compare-and-swap. */
  counter: (name: string) => `${ROOT}/counters/${name}`,
  /** The event log (GET /v1/logs: audit events, alerts, entity changes), ordered by key: the event's ISO time
   *  first, then a suffix unique to the write (src/store/event-log.ts builds every one). */
  eventPrefix: `${ROOT}/events/`,
  event: (time: string, unique: string) => `${ROOT}/events/${time}-${unique}`,
  /** Live nodes (attached to each node's lease) and what each has applied. */
  nodePrefix: `${ROOT}/nodes/`,
  node: (nodeId: string) => `${ROOT}/nodes/${nodeId}`,
  nodeAppliedPrefix: `${ROOT}/applied/`,
  nodeApplied: (nodeId: string) => `${ROOT}/applied/${nodeId}`,
  /** Every node that ever joined (no lease: GET /v1/nodes shows a node whose live key is gone as down). */
  nodeInfoPrefix: `${ROOT}/node-info/`,
  nodeInfo: (nodeId: string) => `${ROOT}/node-info/${nodeId}`,
  /** Nodes an operator removed (POST /v1/nodes/{uid}/actions/remove): a removed uid never registers again. */
  removedNodePrefix: `${ROOT}/removed-nodes/`,
  removedNode: (nodeId: string) => `${ROOT}/removed-nodes/${nodeId}`,
  /** OCSP (digest §3): the settings of PUT /v1/ocsp (absent until the first PUT: defaults) and the cached
   *  status + DER response of the proxy certificate, written by the OCSP poller and POST /v1/ocsp/test. */
  ocspPrefix: `${ROOT}/ocsp/`,
  ocspSettings: `${ROOT}/ocsp/settings`,
  ocspStatus: `${ROOT}/ocsp/status`,
  /** Certificate-expiry alerts currently raised, by certificate name (written by the leader's expiry checker). */
  expiryAlerts: `${ROOT}/expiry-alerts`,
  /** Alert state (GET /v1/cluster/alerts, /v1/nodes/alerts), one record per alert (src/alerts/alert-records.ts). */
  alertPrefix: `${ROOT}/alerts/`,
  alert: (entity: string, name: string) => `${ROOT}/alerts/${entity}/${name}`,
  /** Alert events waiting for e-mail / webhook delivery (src/alerts/alert-dispatcher.ts), ordered by time. */
  alertOutboxPrefix: `${ROOT}/alert-outbox/`,
  alertOutbox: (id: string) => `${ROOT}/alert-outbox/${id}`,
  /** The write-only secrets of alert delivery (smtp_password, the webhook's HMAC key); never returned by the API. */
  alertSecrets: `${ROOT}/alert-secrets`,
  /** Start-time migrations of older stores that have run (value: ISO time), by name (src/node/migrate-store.ts). */
  migration: (name: string) => `${ROOT}/migrations/${name}`,
  /** The HMAC key that signs the REST API's JSON Web Tokens (generated at creation; never returned by the API). */
  jwtSecret: `${ROOT}/jwt-secret`,
  /** ACME renewal (issue 15.2, src/acme): the settings of PUT /v1/cluster/acme, the ACME account (its private key
   *  never returned by the API), per certificate name the renewal status (written by the leader) and the marker of
   *  a hand upload that switched ACME off for it, and the pending http-01 answers every node serves. */
  acmePrefix: `${ROOT}/acme/`,
  acmeSettings: `${ROOT}/acme/settings`,
  acmeAccount: `${ROOT}/acme/account`,
  acmeStatus: (name: string) => `${ROOT}/acme/status/${name}`,
  acmeManualPrefix: `${ROOT}/acme/manual/`,
  acmeManual: (name: string) => `${ROOT}/acme/manual/${name}`,
  acmeChallenge: (token: string) => `${ROOT}/acme/challenges/${token}`,
  /** Certificate revocation lists (certplane extension, src/domain/crl-document.ts): the crl_checking settings
   *  and every installed CRL (uploaded or fetched); nodes apply it like a certificate change. */
  crls: `${ROOT}/crls`,
  /** The leader's CRL fetch outcome per URL (last attempt, last success, error); not a node's applied state. */
  crlFetchStatus: `${ROOT}/crl-fetch-status`,
  /** The leader of a cluster-wide role ('cluster': background work), attached to the leader's lease. */
  leader: (role: string) => `${ROOT}/leaders/${role}`,
  /** Cluster Manager UI sessions, by the hex SHA-256 of the session id (never the id itself: src/domain/ui-sessions.ts). */
  uiSessionPrefix: `${ROOT}/ui-sessions/`,
  uiSession: (idHash: string) => `${ROOT}/ui-sessions/${idHash}`,
} as const;
