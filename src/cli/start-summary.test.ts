// The start summary (issue 16.7): the addresses, where the credentials are (a path, never the password), and
// commands that work as printed.
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatStartSummary, readAdminHint, shellWord, startSummaryFields, type StartFacts } from './start-summary.js';

const facts: StartFacts = {
  nodeId: '1',
  clusterName: 'cluster.local',
  address: '127.0.0.1',
  apiPort: 9443,
  metricsPort: 8070,
  cmPort: 8443,
  dataDir: '/srv/certplane-data',
  credentialsFile: '/srv/certplane-data/admin-credentials',
  adminEmail: 'admin@cluster.local',
  cli: 'node bin/certplane.js',
};

describe('start summary', () => {
  it('names the API, OpenAPI, metrics and UI addresses and the credentials file', () => {
    const text = formatStartSummary(facts);
    expect(text).toContain('REST API   https://127.0.0.1:9443');
    expect(text).toContain('https://127.0.0.1:9443/v1/openapi.json');
    expect(text).toContain('metrics    https://127.0.0.1:8070/');
    expect(text).toContain('UI         not running (cm port 8443: see the log above)');
    expect(formatStartSummary({ ...facts, uiRunning: true })).toContain('UI         https://127.0.0.1:8443/');
    expect(text).toContain('admin      admin@cluster.local, password in /srv/certplane-data/admin-credentials');
  });

  it('suggests a curl that trusts the node’s api certificate and asks for the password, and the CLI status', () => {
    const text = formatStartSummary(facts);
    expect(text).toContain('curl --cacert /srv/certplane-data/certs/api_cert.pem -u admin@cluster.local https://127.0.0.1:9443/v1/cluster/certificates');
    expect(text).toContain('  node bin/certplane.js --data-dir /srv/certplane-data status');
    const other = formatStartSummary({ ...facts, address: '0.0.0.0', apiPort: 19443, metricsPort: undefined, dataDir: '/srv/my data' });
    expect(other).toContain('CERTPLANE_URL=https://127.0.0.1:19443 node bin/certplane.js --data-dir \'/srv/my data\' status');
    expect(other).toContain('metrics    not running');
  });

  it('without a credentials file points to CERTPLANE_ADMIN_PASSWORD', () => {
    const text = formatStartSummary({ ...facts, credentialsFile: undefined, adminEmail: undefined });
    expect(text).toContain('admin      ADMIN_EMAIL, the password set with CERTPLANE_ADMIN_PASSWORD at first start');
  });

  it('gives the same facts as JSON log fields', () => {
    expect(startSummaryFields({ ...facts, address: '::1', uiRunning: true })).toEqual({
      api_url: 'https://[::1]:9443',
      openapi_url: 'https://[::1]:9443/v1/openapi.json',
      metrics_url: 'https://[::1]:8070/',
      ui_url: 'https://[::1]:8443/',
      admin_credentials_file: '/srv/certplane-data/admin-credentials',
      data_dir: '/srv/certplane-data',
    });
  });

  it('reads the email from the credentials file and never returns the password', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-summary-'));
    try {
      expect(await readAdminHint(dir, { CERTPLANE_ADMIN_EMAIL: 'ops@example.com' })).toEqual({ credentialsFile: undefined, adminEmail: 'ops@example.com' });
      await writeFile(path.join(dir, 'admin-credentials'), 'email=admin@cluster.local\npassword=s3cret-Generated\n');
      const hint = await readAdminHint(dir, {});
      expect(hint).toEqual({ credentialsFile: path.join(dir, 'admin-credentials'), adminEmail: 'admin@cluster.local' });
      expect(formatStartSummary({ ...facts, ...hint })).not.toContain('s3cret');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('quotes shell words only when needed', () => {
    expect(shellWord('/a/b-c_d.pem')).toBe('/a/b-c_d.pem');
    expect(shellWord("it's here")).toBe(`'it'\\''s here'`);
  });
});
