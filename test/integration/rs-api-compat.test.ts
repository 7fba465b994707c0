// Responses an RS client parses (issue 10 item 8), against a real node and compared field by field with the
// captures of a live cluster (../shared/fixtures/rs-responses/): GET/PUT /v1/cluster (proxy/syncer certificates,
// cm_session_timeout_minutes, alert defaults), node software_version, a TLS-off database's
// enforce_client_authentication, built-in Redis ACL uids checked with redis-cli, and /v1/logs queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest, type ApiResponse } from '../helpers/api-client.js';
import { expectNoChange } from '../helpers/expect-no-change.js';
import { createCa } from '../helpers/pki.js';
import { freeDbPort, redisCli, waitForActive } from '../helpers/redis-cli.js';

// Captured from a live Redis Enterprise cluster (shared/fixtures/rs-responses/, from redis-developer/redis-enterprise-rs
// tests/fixtures, MIT or Apache-2.0): GET /v1/cluster (certificate bodies and the SSH key shortened) and GET /v1/nodes/1.
const CLUSTER_CAPTURE: Record<string, unknown> = {"alert_settings": {"cluster_ca_cert_about_to_expire": {"enabled": true, "threshold": "90"}, "cluster_certs_about_to_expire": {"enabled": true, "threshold": "45"}, "cluster_license_about_to_expire": {"enabled": true, "threshold": "7"}, "cluster_node_operation_failed": true, "cluster_ocsp_query_failed": true, "cluster_ocsp_status_revoked": true, "node_checks_error": true, "node_ephemeral_storage": {"enabled": true, "threshold": "70"}, "node_free_flash": {"enabled": true, "threshold": "70"}, "node_internal_certs_about_to_expire": {"enabled": true, "threshold": "45"}, "node_persistent_storage": {"enabled": true, "threshold": "70"}}, "availability_lag_tolerance_ms": 100, "bigstore_driver": "speedb", "block_cluster_changes": false, "ccs_internode_encryption": true, "cluster_api_internal_port": 3346, "cm_port": 8443, "cm_server_version": 1, "cm_session_timeout_minutes": 15, "cnm_http_max_threads_per_worker": 10, "cnm_http_port": 8080, "cnm_http_workers": 1, "cnm_https_port": 9443, "control_cipher_suites": "DEFAULT:!3DES", "control_cipher_suites_tls_1_3": "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256", "crdb_coordinator_ignore_requests": false, "crdb_coordinator_port": 9081, "crdt_supported_featureset_version": 8, "crdt_supported_protocol_versions": ["1"], "created_time": "2025-10-14T00:01:06Z", "data_cipher_list": "DEFAULT:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!RC4:!MD5:!PSK:!aECDH:!EDH-DSS-DES-CBC3-SHA:!EDH-RSA-DES-CBC3-SHA:!KRB5-DES-CBC3-SHA", "data_cipher_suites_tls_1_3": [], "debuginfo_path": "/tmp", "email_alerts": false, "encrypt_pkeys": false, "entra_id_cache_ttl": 30, "envoy_admin_port": 8002, "envoy_external_authorization": false, "envoy_max_downstream_connections": 1024, "envoy_mgmt_server_port": 8004, "gossip_envoy_admin_port": 8006, "handle_metrics_redirects": false, "handle_redirects": false, "http_support": true, "logrotate_settings": {"maxage": 7, "maxsize": "200M", "rotate": 10}, "mask_bdb_credentials": false, "metrics_system": 0, "min_control_TLS_version": "1.2", "min_data_TLS_version": "1.2", "min_sentinel_TLS_version": "1.2", "module_upload_max_size_mb": 40, "mtls_authorized_subjects": [], "mtls_certificate_authentication": false, "mtls_client_cert_subject_validation_type": "disabled", "multi_commands_opt": "batch", "name": "docker-cluster", "options_method_forbidden": false, "password_complexity": false, "password_expiration_duration": 0, "password_hashing_algorithm": "SHA-256", "password_min_length": 8, "rack_aware": false, "reserved_ports": [], "robust_crdt_syncer": true, "s3_certificate_verification": true, "sentinel_cipher_suites": [], "sentinel_cipher_suites_tls_1_3": "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256", "sentinel_tls_mode": "allowed", "slave_ha": true, "slave_ha_bdb_cooldown_period": 7200, "slave_ha_cooldown_period": 3600, "slave_ha_grace_period": 600, "slowlog_in_sanitized_support": true, "smtp_tls_mode": "none", "smtp_use_tls": false, "system_reserved_ports": [1968, 3333, 3334, 3335, 3336, 3339, 3340, 3341, 3342, 3343, 3344, 3345, 3346, 3348, 3349, 3350, 3351, 3352, 3353, 3354, 3355, 8000, 8001, 8002, 8004, 8006, 8070, 8071, 8080, 8443, 8444, 9080, 9081, 9091, 9125, 9443, 10050, 36379], "upgrade_in_progress": false, "upgrade_mode": false, "use_external_ipv6": true, "use_ipv6": true, "wait_command": true, "proxy_certificate": "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n", "syncer_certificate": "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n"};
const NODE_CAPTURE: Record<string, unknown> = {"accept_servers": true, "addr": "192.168.16.2", "architecture": "aarch64", "bigredis_storage_path": "/var/opt/redislabs/flash", "bigstore_enabled": false, "cores": 14, "ephemeral_storage_path": "/var/opt/redislabs/tmp", "ephemeral_storage_size": 1081100128256.0, "external_addr": [], "fips_enabled": false, "flash_shard_count": 0, "max_listeners": 100, "max_redis_forks": -1, "max_redis_servers": 100, "max_slave_full_syncs": -1, "os_family": "ubuntu", "os_name": "ubuntu", "os_semantic_version": "22.04", "os_version": "Ubuntu 22.04.5 LTS", "persistent_storage_path": "/var/opt/redislabs/persist", "persistent_storage_size": 1081100128256.0, "rack_id": "", "ram_shard_count": 1, "second_rack_id": "", "shard_count": 1, "shard_list": [1], "software_version": "100.0.21-16135", "status": "active", "supported_database_versions": [{"db_type": "redis", "major": true, "redis_version": "7.4", "version": "7.4.2"}, {"db_type": "redis", "major": true, "redis_version": "7.2", "version": "7.2.7"}, {"db_type": "redis", "major": true, "redis_version": "6.2", "version": "6.2.13"}, {"db_type": "memcached", "version": "1.4.17"}, {"db_type": "redis", "major": true, "redis_version": "8.0", "version": "8.0.0"}], "total_memory": 8217473024, "uid": 1, "uptime": 412, "use_internal_ipv6": false};
const typeOf = (value: unknown): string => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);
const REFERENCE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('RS response compatibility', () => {
  let node: TestNode;
  const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> => apiRequest(node.port, { method, path, body, auth: node.admin });

  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node?.destroy();
  });

  describe('GET/PUT /v1/cluster', () => {
    it('has the capture’s fields of this scope with the capture’s types and defaults', async () => {
      const reference = CLUSTER_CAPTURE;
      const cluster = (await api('GET', '/v1/cluster')).json as Record<string, unknown>;
      for (const field of ['proxy_certificate', 'syncer_certificate', 'cm_session_timeout_minutes', 'alert_settings']) {
        expect(typeOf(cluster[field]), field).toBe(typeOf(reference[field]));
      }
      expect(cluster.cm_session_timeout_minutes).toBe(reference.cm_session_timeout_minutes);
      // Every field certplane shares with the capture has the capture's type.
      const mismatched = Object.keys(reference).filter((f) => f in cluster && typeOf(cluster[f]) !== typeOf(reference[f]));
      expect(mismatched).toEqual([]);
      const alerts = cluster.alert_settings as Record<string, unknown>;
      const referenceAlerts = reference.alert_settings as Record<string, unknown>;
      for (const name of ['cluster_ca_cert_about_to_expire', 'cluster_certs_about_to_expire', 'node_internal_certs_about_to_expire', 'cluster_ocsp_query_failed', 'cluster_ocsp_status_revoked']) {
        expect(alerts[name], name).toEqual(referenceAlerts[name]);
      }
      // The certificate fields show the installed certificates (PEM, as GET /v1/cluster/certificates).
      const certificates = (await api('GET', '/v1/cluster/certificates')).json as Record<string, string>;
      expect(cluster.proxy_certificate).toBe(certificates.proxy_cert);
      expect(cluster.syncer_certificate).toBe(certificates.syncer_cert);
      expect(cluster.proxy_certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    });

    it('keeps proxy_certificate and syncer_certificate read-only (unchanged values pass a GET-edit-PUT round trip)', async () => {
      const cluster = (await api('GET', '/v1/cluster')).json as Record<string, unknown>;
      const roundTrip = await api('PUT', '/v1/cluster', { ...cluster, cm_session_timeout_minutes: 30 });
      expect(roundTrip.status, roundTrip.text).toBe(200);
      expect(roundTrip.json.cm_session_timeout_minutes).toBe(30);
      expect(roundTrip.json.proxy_certificate).toBe(cluster.proxy_certificate);
      const other = await createCa({ cn: 'not the proxy' });
      for (const field of ['proxy_certificate', 'syncer_certificate']) {
        const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', { [field]: other.certificate }));
        expect(response.status, field).toBe(400);
        expect(response.json.error_code).toBe('invalid_schema');
        expect(response.json.description).toContain('PUT /v1/cluster/certificates');
      }
      // Never stored in the cluster document: the certificate stays the one under /v1/cluster/certificates.
      expect((await api('GET', '/v1/cluster')).json.proxy_certificate).toBe(cluster.proxy_certificate);
    });

    it.each([[0], [1441], ['15'], [1.5]])('refuses cm_session_timeout_minutes %j with 400, changing nothing', async (value) => {
      const response = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', { cm_session_timeout_minutes: value }));
      expect(response.status).toBe(400);
      expect(response.json.error_code).toBe('invalid_schema');
    });

    it('accepts the CA-expiry alert setting as a threshold object', async () => {
      const response = await api('PUT', '/v1/cluster', { alert_settings: { cluster_ca_cert_about_to_expire: { threshold: '60' } } });
      expect(response.status, response.text).toBe(200);
      expect(response.json.alert_settings.cluster_ca_cert_about_to_expire).toEqual({ enabled: true, threshold: '60' });
      const bad = await expectNoChange(node.dataDir, () => api('PUT', '/v1/cluster', { alert_settings: { cluster_ca_cert_about_to_expire: { threshold: 60 } } }));
      expect(bad.status).toBe(400);
    });
  });

  it('reports node software_version in the reference form, with the capture’s types', async () => {
    const reference = NODE_CAPTURE;
    const nodeView = (await api('GET', '/v1/nodes/1')).json as Record<string, unknown>;
    expect(nodeView.software_version).toMatch(/^\d+\.\d+\.\d+-\d+$/);
    expect(reference.software_version).toMatch(/^\d+\.\d+\.\d+-\d+$/);
    expect(nodeView.software_version).toBe('8.2.0-100');
    expect(nodeView.certplane_version).toBe('0.1.0');
    const mismatched = Object.keys(reference).filter((f) => f in nodeView && typeOf(nodeView[f]) !== typeOf(reference[f]));
    expect(mismatched).toEqual([]);
    const list = (await api('GET', '/v1/nodes')).json as Array<Record<string, unknown>>;
    expect(list[0]?.software_version).toBe('8.2.0-100');
  });

  it('answers an endpoint that does not exist with 404 not_found in the RS error body', async () => {
    const response = await api('GET', '/v1/no_such_endpoint');
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ error_code: 'not_found', description: 'No endpoint GET /v1/no_such_endpoint', message: 'No endpoint GET /v1/no_such_endpoint' });
  });

  describe('databases', () => {
    let dbPort: number;
    beforeAll(async () => {
      dbPort = await freeDbPort();
      const created = await api('POST', '/v1/bdbs', { name: 'compat', memory_size: 50_000_000, port: dbPort });
      expect(created.status, created.text).toBe(200);
      await waitForActive(node.port, node.admin, created.json.uid as number);
    });

    it('does not report enforce_client_authentication "enabled" while TLS is off', async () => {
      const bdb = (await api('GET', '/v1/bdbs/1')).json;
      expect(bdb.tls_mode).toBe('disabled');
      expect(bdb.enforce_client_authentication).toBe('disabled');
      expect((await api('GET', '/v1/bdbs')).json[0].enforce_client_authentication).toBe('disabled');
    });

    it('numbers the built-in Redis ACLs as the reference: uid 2 bound to a role is read-only (redis-cli writes get NOPERM), uid 3 Not Dangerous', async () => {
      const acls = (await api('GET', '/v1/redis_acls')).json as Array<{ uid: number; name: string }>;
      expect(acls.filter((a) => a.uid <= 3).map((a) => [a.uid, a.name])).toEqual([[1, 'Full Access'], [2, 'Read Only'], [3, 'Not Dangerous']]);
      const readers = await api('POST', '/v1/roles', { name: 'Readers', management: 'none' });
      const careful = await api('POST', '/v1/roles', { name: 'Careful', management: 'none' });
      expect(readers.status, readers.text).toBe(200);
      const reader = await api('POST', '/v1/users', { name: 'reader', email: 'reader@example.com', password: 'Reader-Password-1', role_uids: [readers.json.uid] });
      const writer = await api('POST', '/v1/users', { name: 'writer', email: 'writer@example.com', password: 'Writer-Password-1', role_uids: [careful.json.uid] });
      expect(reader.status, reader.text).toBe(200);
      expect(writer.status, writer.text).toBe(200);
      const bind = await api('PUT', '/v1/bdbs/1', {
        roles_permissions: [
          { role_uid: readers.json.uid, redis_acl_uid: 2 },
          { role_uid: careful.json.uid, redis_acl_uid: 3 },
        ],
      });
      expect(bind.status, bind.text).toBe(200);
      await waitForActive(node.port, node.admin, 1);

      const asReader = { user: 'reader', pass: 'Reader-Password-1' };
      expect((await redisCli(dbPort, ['SET', 'k', 'v'], asReader)).stdout).toContain('NOPERM');
      expect((await redisCli(dbPort, ['GET', 'k'], asReader)).stdout).not.toContain('NOPERM');
      const asWriter = { user: 'writer', pass: 'Writer-Password-1' };
      expect((await redisCli(dbPort, ['SET', 'k', 'v'], asWriter)).stdout).toBe('OK');
      expect((await redisCli(dbPort, ['GET', 'k'], asReader)).stdout).toBe('v');
      expect((await redisCli(dbPort, ['KEYS', '*'], asWriter)).stdout).toContain('NOPERM');
    });
  });

  describe('GET /v1/logs', () => {
    const times: string[] = [];
    beforeAll(async () => {
      const [first, second] = await Promise.all([createCa({ cn: 'Logs CA 1' }), createCa({ cn: 'Logs CA 2' })]);
      // Three certificate events, each in its own second.
      for (const change of [
        () => api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: first.certificate }] }),
        () => api('PUT', '/v1/cluster/certificates', { certificates: [{ name: 'mtls_trusted_ca', certificate: second.certificate }] }),
        () => api('DELETE', '/v1/cluster/certificates/mtls_trusted_ca'),
      ]) {
        const response = await change();
        expect(response.status, response.text).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1100));
      }
      const events = (await api('GET', '/v1/logs')).json as Array<{ time: string; type: string }>;
      times.push(...events.filter((e) => e.type.startsWith('certificate_')).map((e) => e.time));
      expect(times).toHaveLength(3);
    });

    const certificateTimes = async (query: string): Promise<string[]> => {
      const response = await api('GET', `/v1/logs${query}`);
      expect(response.status, response.text).toBe(200);
      return (response.json as Array<{ time: string; type: string }>).filter((e) => e.type.startsWith('certificate_')).map((e) => e.time);
    };

    it('gives every event the reference time format and a severity', async () => {
      const events = (await api('GET', '/v1/logs')).json as Array<Record<string, unknown>>;
      expect(events.length).toBeGreaterThanOrEqual(3);
      for (const event of events) {
        expect(event.time).toMatch(REFERENCE_TIME);
        expect(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']).toContain(event.severity);
        expect(typeof event.type).toBe('string');
      }
      expect(events.find((e) => e.type === 'certificate_updated')?.severity).toBe('INFO');
    });

    it('filters by stime and etime (inclusive), in both orders', async () => {
      const [t1, t2, t3] = times as [string, string, string];
      expect(await certificateTimes(`?stime=${t2}`)).toEqual([t2, t3]);
      expect(await certificateTimes(`?etime=${t2}`)).toEqual([t1, t2]);
      expect(await certificateTimes(`?stime=${t2}&etime=${t2}`)).toEqual([t2]);
      expect(await certificateTimes(`?stime=${t1}&etime=${t3}&order=desc`)).toEqual([t3, t2, t1]);
      // Offsets written with a zone.
      const plusTwo = new Date(Date.parse(t2) + 2 * 3600_000).toISOString().replace(/\.000Z$/, '+02:00');
      expect(await certificateTimes(`?stime=${encodeURIComponent(plusTwo)}`)).toEqual([t2, t3]);
    });

    it('pages with offset and limit after ordering', async () => {
      const all = (await api('GET', '/v1/logs')).json as unknown[];
      expect((await api('GET', '/v1/logs?offset=1&limit=2')).json).toEqual(all.slice(1, 3));
      expect((await api('GET', '/v1/logs?order=desc&limit=1')).json).toEqual([all.at(-1)]);
      expect((await api('GET', `/v1/logs?offset=${all.length}`)).json).toEqual([]);
    });

    it.each([['?stime=yesterday'], ['?etime=2026-13-01T00:00:00Z'], ['?offset=-1'], ['?limit=x'], ['?order=up'], ['?since=2026-01-01']])(
      'refuses %s with 400 invalid_schema, changing nothing',
      async (query) => {
        const response = await expectNoChange(node.dataDir, () => api('GET', `/v1/logs${query}`));
        expect(response.status).toBe(400);
        expect(response.json.error_code).toBe('invalid_schema');
      },
    );
  });
});
