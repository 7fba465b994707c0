// Issue 16.6 and 16.7 on a real node: GET /v1/openapi.json answers without credentials with a valid OpenAPI 3.1
// document of every route, whose stated success bodies match what the node answers; a node whose stdout is not a
// terminal still writes JSON lines only (the start summary being one of them); under a pseudo-terminal (`script`)
// it writes readable lines and the summary as text.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestNode, type TestNode } from '../helpers/test-node.js';
import { apiRequest } from '../helpers/api-client.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/redis-cli.js';
import { allRoutes } from '../../src/api/routes/index.js';

const CLI = path.resolve('dist/src/cli/main.js');

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
});

afterAll(async () => {
  await node?.destroy();
});

describe('GET /v1/openapi.json on a running node', () => {
  it('answers without credentials with a valid OpenAPI 3.1 document of every route', async () => {
    const response = await apiRequest(node.port, { path: '/v1/openapi.json', auth: null });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
    const document = response.json as { openapi: string; paths: Record<string, Record<string, { 'x-certplane-permission': string }>> };
    const validation = await new Validator().validate(document);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);
    const operations = Object.entries(document.paths).flatMap(([p, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${p}`));
    expect(operations.sort()).toEqual(allRoutes.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`).sort());
    expect(document.paths['/v1/cluster/certificates']!.put!['x-certplane-permission']).toBe('update_cluster');
  });
});

/** A schema with every `#/components/schemas/…` reference replaced by what it names. */
function dereference(schema: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => dereference(item, components));
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') return dereference(components[ref.replace('#/components/schemas/', '')], components);
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, dereference(value, components)]));
}

describe('the success bodies the document states', () => {
  it('match what the node answers for every GET it can call as admin', async () => {
    const document = (await apiRequest(node.port, { path: '/v1/openapi.json', auth: null })).json as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    let checked = 0;
    for (const [template, item] of Object.entries(document.paths)) {
      const get = item.get;
      const url = template.replace('{uid}', '1');
      if (get === undefined || url.includes('{')) continue;
      const response = await apiRequest(node.port, { path: url, auth: node.admin });
      // A fresh node has no database 1: nothing to compare there.
      if (url !== template && response.status === 404) continue;
      expect(response.status, url).toBe(200);
      const validate = ajv.compile(dereference(get.responses['200']!.content['application/json']!.schema, document.components.schemas) as object);
      expect(validate(response.json), `${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(14);
  });
});

describe('start output', () => {
  it('is JSON lines when stdout is not a terminal, the start summary being one of them', async () => {
    await waitFor('the start summary line', async () => node.output().includes('"msg":"where to start"') || undefined, 20_000);
    const lines = node.output().split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    const summary = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'where to start');
    expect(summary).toMatchObject({
      api_url: `https://127.0.0.1:${node.port}`,
      openapi_url: `https://127.0.0.1:${node.port}/v1/openapi.json`,
      metrics_url: `https://127.0.0.1:${node.metricsPort}/`,
      data_dir: node.dataDir,
    });
  });

  it('is readable lines and a summary with the credentials file under a pseudo-terminal', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'certplane-tty-'));
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const command = [process.execPath, CLI, 'start', '--data-dir', dataDir, '--api-port', String(apiPort), '--metrics-port', String(metricsPort)]
      .map((word) => `'${word}'`)
      .join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.CERTPLANE_ADMIN_PASSWORD;
    delete env.CERTPLANE_ADMIN_EMAIL;
    delete env.CERTPLANE_LOG_FORMAT;
    // `script` gives the node a pseudo-terminal as stdout; its own group, so teardown stops script and node.
    const child: ChildProcess = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor('the start summary on the terminal', async () => output.includes('status\r\n') || output.includes('status\n') || undefined, 40_000);
      const text = output.replace(/\r/g, '');
      expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}certplane node ready node=1 /m);
      expect(text).not.toContain('"msg":');
      expect(text).toContain(`REST API   https://127.0.0.1:${apiPort}`);
      expect(text).toContain(`admin      admin@cluster.local, password in ${path.join(dataDir, 'admin-credentials')}`);
      expect(text).toContain(`curl --cacert ${path.join(dataDir, 'certs', 'api_cert.pem')} -u admin@cluster.local https://127.0.0.1:${apiPort}/v1/cluster/certificates`);
      expect(text).toMatch(new RegExp(`CERTPLANE_URL=https://127.0.0.1:${apiPort} node \\S*bin/certplane.js --data-dir ${dataDir} status`));
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
