// Reconciles this node's databases with the store: for every bdb placed on this node, a redis-server (through
// the RedisSupervisor) with the database's users, and a proxy endpoint (through DatabaseEndpoints, which
// src/proxy implements); databases that are gone are stopped and their data removed. After each database is
// applied the node records its status under keys.bdbStatus(uid), which GET /v1/bdbs reports. It also runs the
// flush requests of PUT /v1/bdbs/{uid}/flush for its databases (claim, FLUSHALL, result; see
// src/domain/database-actions.ts).
//
// States and transitions (the loop engine, lib/loop.ts, runs the passes, as in NodeAgent; `state` is the engine's):
//   idle --start()--> running --done--> idle (watching) --change or requestReconcile()--> running
//   running --some database failed (also on the first pass)--> backoff --timer--> running
//   any --close()--> closed
// Level-triggered: each pass reads bdbs, Redis ACLs, users, the cluster document and mtls_trusted_ca whole,
// so merged or missed events are harmless. Unchanged databases cost a comparison.
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterStore, KeyValue } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { certificateRecordKey, parseCertificateRecord } from '../store/certificate-records.js';
import type { Clock } from '../lib/clock.js';
import type { BdbAppliedStatus, BdbRecord } from '../domain/databases.js';
import type { ClusterDocument } from '../domain/cluster-settings.js';
import { dataTlsPolicy, HYBRID_KEY_EXCHANGE_GROUP } from '../domain/tls-policy.js';
import { opensslKnowsGroup } from '../lib/tls-groups.js';
import type { BdbActionRequest, BdbActionResult } from '../domain/database-actions.js';
import { PREDEFINED_REDIS_ACLS, type RedisAclRecord } from '../domain/redis-acls.js';
import { databaseAclUsers } from '../domain/database-users.js';
import type { UserRecord } from '../domain/users.js';
import type { DatabaseEndpointConfig } from '../domain/database-endpoint.js';
import { certificateFingerprint, parseCertificateChain } from '../domain/pem.js';
import type { RedisDatabaseSpec, RedisSupervisor } from './redis-supervisor.js';
import { sha256Hex, type RedisSecrets } from './redis-secrets.js';
import { Loop, type LoopState } from '../lib/loop.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';

/** What the proxy offers the agent (src/proxy/database-proxy.ts implements it; src/node wires it). */
export interface DatabaseEndpoints {
  /** Opens the endpoint, or reconfigures it for new connections; throws if the port cannot be bound. */
  apply(config: DatabaseEndpointConfig): Promise<void>;
  /** Closes the endpoint and its connections. */
  remove(uid: number): Promise<void>;
  uids(): number[];
}

export type DatabaseReconcilerState = LoopState;

export interface DatabaseReconcilerDeps {
  store: ClusterStore;
  nodeId: string;
  /** The address endpoints listen on (the node's --address). */
  address: string;
  supervisor: RedisSupervisor;
  endpoints: DatabaseEndpoints;
  secrets: RedisSecrets;
  clock: Clock;
  log: FastifyBaseLogger;
  retryDelayMs?: number;
}

const WATCHED_PREFIXES: [string, ...string[]] = [keys.bdbPrefix, keys.bdbActionPrefix, keys.redisAclPrefix, keys.userPrefix, keys.rolePrefix, certificateRecordKey('mtls_trusted_ca'), keys.cluster];

export class DatabaseReconciler {
  /** Last status written per database, to avoid rewriting an unchanged one. */
  private readonly reported = new Map<number, string>();
  private staleRemoved = false;
  private readonly loop: Loop<number>;

  constructor(private readonly deps: DatabaseReconcilerDeps) {
    this.loop = new Loop({
      pass: () => this.reconcileOnce(),
      onError: (error) => this.deps.log.error({ err: error }, 'databases could not all be applied; retrying'),
      backoff: deps.retryDelayMs ?? 1000,
    });
  }

  get state(): DatabaseReconcilerState {
    return this.loop.state;
  }

  async start(): Promise<void> {
    const revision = await this.loop.runOnce().catch((error: unknown) => {
      this.deps.log.error({ err: error }, 'databases could not all be applied at start; retrying');
      this.loop.backOff();
      return undefined;
    });
    const from = revision ?? (await this.deps.store.list(keys.bdbPrefix)).revision;
    // Level-triggered: after lost watch history (compaction) a fresh pass is all it takes.
    await this.loop.follow((wake) =>
      followPrefixesWaking(this.deps.store, WATCHED_PREFIXES, wake, {
        fromRevision: from,
        onTrouble: (error, what, prefix) => this.deps.log.warn({ err: error, prefix }, `database reconciler: ${what}; re-reading`),
      }),
    );
  }

  /** Stops following the store; resolves when a pass under way has ended. */
  async close(): Promise<void> {
    await this.loop.close();
  }

  /** Asks for a pass now (also used by the supervisor after it restarted a crashed redis-server). */
  requestReconcile(): void {
    this.loop.wake();
  }

  private async reconcileOnce(): Promise<number> {
    const { store } = this.deps;
    const [bdbs, acls, users, cluster, trustedCa, actions] = await Promise.all([
      store.list(keys.bdbPrefix),
      store.list(keys.redisAclPrefix),
      store.list(keys.userPrefix),
      store.get(keys.cluster),
      store.get(certificateRecordKey('mtls_trusted_ca')),
      store.list(keys.bdbActionPrefix),
    ]);
    const allAcls: RedisAclRecord[] = [...PREDEFINED_REDIS_ACLS, ...acls.kvs.map((kv) => JSON.parse(kv.value) as RedisAclRecord)];
    const allUsers = users.kvs.map((kv) => JSON.parse(kv.value) as UserRecord);
    const clusterDoc = cluster === undefined ? undefined : (JSON.parse(cluster.value) as ClusterDocument);
    const clusterCa = trustedCa === undefined ? undefined : parseCertificateRecord(trustedCa.value).certificate;

    const mine = bdbs.kvs
      .map((kv) => ({ record: JSON.parse(kv.value) as BdbRecord, modRevision: kv.modRevision }))
      .filter(({ record }) => record.node_uid === this.deps.nodeId);
    const wanted = new Set(mine.map(({ record }) => record.uid));

    if (!this.staleRemoved) {
      for (const uid of await this.deps.supervisor.removeStale(wanted)) {
        await store.txn({ success: [{ type: 'delete', key: keys.bdbStatus(uid) }] });
        this.deps.log.info({ bdb: uid }, 'removed the data of a database deleted while this node was down');
      }
      this.staleRemoved = true;
    }
    // Gone first, so a port or name freed by a delete is free for a new database in the same pass.
    for (const uid of new Set([...this.deps.endpoints.uids(), ...this.deps.supervisor.uids()])) {
      if (wanted.has(uid)) continue;
      await this.deps.endpoints.remove(uid);
      await store.txn({
        success: [
          { type: 'delete', key: keys.bdbStatus(uid) },
          { type: 'delete', key: keys.bdbAction(uid) },
          { type: 'delete', key: keys.bdbActionResult(uid) },
        ],
      });
      await this.deps.supervisor.remove(uid, { deleteData: true });
      this.reported.delete(uid);
      this.deps.log.info({ bdb: uid }, 'database removed from this node');
    }

    let failures = 0;
    const applied = new Set<number>();
    for (const { record, modRevision } of mine) {
      try {
        const aclUsers = databaseAclUsers(record, allAcls, allUsers);
        const spec: RedisDatabaseSpec = {
          uid: record.uid,
          maxmemory: record.memory_size,
          evictionPolicy: record.eviction_policy,
          // Redis keeps only the node's secrets; authentication_redis_pass is checked by the proxy.
          defaultUser: { enabled: record.default_user, passwordSha256: sha256Hex(this.deps.secrets.defaultUserPassword(record.uid)) },
          users: aclUsers.map((u) => ({
            username: u.username,
            passwordSha256: sha256Hex(this.deps.secrets.userPassword(record.uid, u.user_uid)),
            rules: u.rules,
          })),
        };
        const { socketPath, pid } = await this.deps.supervisor.ensure(spec);
        await this.deps.endpoints.apply(this.endpointConfig(record, socketPath, aclUsers, clusterDoc, clusterCa));
        await this.report(record.uid, modRevision, 'active', null, pid ?? null);
        applied.add(record.uid);
      } catch (error) {
        failures++;
        const message = error instanceof Error ? error.message : String(error);
        this.deps.log.error({ bdb: record.uid, error: message }, 'database could not be applied');
        await this.report(record.uid, modRevision, 'creation-failed', message, null).catch(() => undefined);
      }
    }
    // Only databases that serve right now: a request for one that failed stays queued until the API withdraws it.
    await this.runActions(actions.kvs, applied);
    if (failures > 0) throw new Error(`${failures} database(s) could not be applied`);
    return bdbs.revision;
  }

  /** Claims each queued request for a database in `ready`, runs it and records the result (done or failed). */
  private async runActions(requests: readonly KeyValue[], ready: ReadonlySet<number>): Promise<void> {
    for (const kv of requests) {
      const request = JSON.parse(kv.value) as BdbActionRequest;
      if (!ready.has(request.uid) || kv.key !== keys.bdbAction(request.uid)) continue;
      const result = (state: BdbActionResult['state'], error: string | null): string =>
        JSON.stringify({
          request_id: request.request_id,
          action: request.action,
          uid: request.uid,
          node_uid: this.deps.nodeId,
          state,
          error,
          updated_at: this.deps.clock.now().toISOString(),
        } satisfies BdbActionResult);
      // Claim: the request goes and `running` is recorded in one transaction, unless the API withdrew it first.
      const claimed = await this.deps.store.txn({
        compare: [{ key: kv.key, target: 'mod', op: '==', value: kv.modRevision }],
        success: [
          { type: 'delete', key: kv.key },
          { type: 'put', key: keys.bdbActionResult(request.uid), value: result('running', null) },
        ],
      });
      if (!claimed.succeeded) continue;
      this.deps.log.info({ bdb: request.uid, request: request.request_id }, 'database flush started');
      let error: string | null = null;
      try {
        await this.deps.supervisor.flush(request.uid);
        this.deps.log.info({ bdb: request.uid, request: request.request_id }, 'database flushed');
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
        this.deps.log.error({ bdb: request.uid, request: request.request_id, error }, 'database flush failed');
      }
      await this.deps.store.txn({ success: [{ type: 'put', key: keys.bdbActionResult(request.uid), value: result(error === null ? 'done' : 'failed', error) }] });
    }
  }

  private endpointConfig(
    record: BdbRecord,
    socketPath: string,
    aclUsers: ReturnType<typeof databaseAclUsers>,
    cluster: ClusterDocument | undefined,
    clusterCa: string | undefined,
  ): DatabaseEndpointConfig {
    const config: DatabaseEndpointConfig = {
      uid: record.uid,
      address: this.deps.address,
      port: record.port,
      backendSocketPath: socketPath,
      certificateUsers: aclUsers
        .filter((u) => u.kind === 'certificate')
        .map((u) => ({
          subjectLine: u.subject_line as string,
          username: u.username,
          password: this.deps.secrets.userPassword(record.uid, u.user_uid),
        })),
      passwordUsers: aclUsers
        .filter((u) => u.kind === 'password')
        .map((u) => ({ userUid: u.user_uid, name: u.name, username: u.username, password: this.deps.secrets.userPassword(record.uid, u.user_uid) })),
      defaultUser: {
        enabled: record.default_user,
        ...(record.authentication_redis_pass === '' ? {} : { passwordSha256: sha256Hex(record.authentication_redis_pass) }),
        password: this.deps.secrets.defaultUserPassword(record.uid),
      },
    };
    if (record.tls_mode !== 'enabled') return config;
    // min_data_TLS_version, data_cipher_list, data_cipher_suites_tls_1_3 and pq_key_exchange (a change rebuilds the endpoint's TLS front).
    config.tls = dataTlsPolicy(cluster, opensslKnowsGroup(HYBRID_KEY_EXCHANGE_GROUP));
    if (record.enforce_client_authentication === 'enabled') {
      const uploaded = record.authentication_ssl_client_certs.map((c) => c.client_cert);
      const fingerprints: string[] = [];
      for (const pem of uploaded) {
        const chain = parseCertificateChain(pem);
        if (chain.ok) fingerprints.push(...chain.value.map((cert) => certificateFingerprint(cert)));
      }
      config.tls.clientAuth = {
        ca: clusterCa === undefined ? uploaded : [...uploaded, clusterCa],
        uploadedFingerprints: fingerprints,
        validationType: record.client_cert_subject_validation_type,
        authorizedSubjects: record.authorized_subjects,
        allowOutdated: record.mtls_allow_outdated_certs,
      };
    }
    return config;
  }

  private async report(uid: number, modRevision: number, status: BdbAppliedStatus['status'], error: string | null, pid: number | null): Promise<void> {
    const fingerprint = JSON.stringify([modRevision, status, error, pid]);
    if (this.reported.get(uid) === fingerprint) return;
    const record: BdbAppliedStatus = {
      uid,
      node_uid: this.deps.nodeId,
      applied_mod_revision: modRevision,
      status,
      error,
      redis_pid: pid,
      updated_at: this.deps.clock.now().toISOString(),
    };
    await this.deps.store.txn({ success: [{ type: 'put', key: keys.bdbStatus(uid), value: JSON.stringify(record) }] });
    this.reported.set(uid, fingerprint);
  }
}
