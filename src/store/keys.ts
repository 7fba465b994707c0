// Every key certplane keeps in the cluster store, in one place. Values are JSON documents.
const ROOT = '/certplane';

export const keys = {
  /** The cluster document: name, created_time and the settings of PUT /v1/cluster. */
  cluster: `${ROOT}/cluster`,
  /** The internal CA that issues the internode certificates (never returned by the API). */
  internalCa: `${ROOT}/internal-ca`,
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
  /** Start-time migrations of older stores that have run (value: ISO time), by name (src/node/migrate-store.ts). */
  migration: (name: string) => `${ROOT}/migrations/${name}`,
  /** The HMAC key that signs the REST API's JSON Web Tokens (generated at creation; never returned by the API). */
  jwtSecret: `${ROOT}/jwt-secret`,
  /** The leader of a cluster-wide role ('cluster': background work), attached to the leader's lease. */
  leader: (role: string) => `${ROOT}/leaders/${role}`,
  /** Cluster Manager UI sessions, by the hex SHA-256 of the session id (never the id itself: src/domain/ui-sessions.ts). */
  uiSessionPrefix: `${ROOT}/ui-sessions/`,
  uiSession: (idHash: string) => `${ROOT}/ui-sessions/${idHash}`,
} as const;
