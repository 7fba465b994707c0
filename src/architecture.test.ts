// Keeps the import rules of STYLE.md true: domain/ imports only lib/; the parts (api, agent, proxy, ocsp, metrics, expiry)
// import domain/, lib/ and the store *interface*, never each other and never a concrete store backend;
// only node/ (the composition root) wires everything. ui-server/ (the cm port) builds on api/ only.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const PARTS = ['api', 'agent', 'proxy', 'ocsp', 'metrics', 'expiry'];

/** Deliberate exceptions, each with its reason. */
const ALLOWED: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

function topFolder(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

function violations(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = topFolder(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), match[1]!);
      const to = topFolder(target);
      const rel = path.relative(SRC, target);
      const edge = `${path.relative(SRC, file)} -> ${rel}`;
      if (ALLOWED[edge] !== undefined || from === to) continue;
      const concreteStore = to === 'store' && /^store\/(sqlite|etcd)\//.test(rel.split(path.sep).join('/'));
      if (from === 'domain' && to !== 'lib') found.push(edge);
      else if (from === 'lib' && to !== 'lib') found.push(edge);
      else if (PARTS.includes(from) && (PARTS.includes(to) || concreteStore || to === 'node' || to === 'cli')) found.push(edge);
      else if (from === 'cli' && !['cli', 'config', 'node', 'lib'].includes(to)) found.push(edge);
      else if (from === 'store' && !['store', 'lib'].includes(to)) found.push(edge);
      // The Cluster Manager UI server builds on the REST API (its routes, auth and deps), nothing else of the node.
      else if (from === 'ui-server' && (!['ui-server', 'api', 'domain', 'lib', 'store'].includes(to) || concreteStore)) found.push(edge);
      else if (PARTS.includes(from) && to === 'ui-server') found.push(edge);
    }
  }
  return found;
}

/**
 * Inside the API (README "How it works"): a route reaches the store only through one service function
 * (src/api/services), so a file under api/routes imports nothing from store/ or api/state/ (the services'
 * building blocks), and does not touch the store, its keys or its stored JSON by other means.
 */
function routeViolations(): string[] {
  const routes = path.join(SRC, 'api', 'routes');
  const found: string[] = [];
  for (const file of sourceFiles(routes)) {
    const name = path.relative(SRC, file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
      const rel = path.relative(SRC, path.resolve(path.dirname(file), match[1]!)).split(path.sep).join('/');
      if (rel.startsWith('store/') || rel.startsWith('api/state/')) found.push(`${name} -> ${rel}`);
    }
    const code = text
      .split('\n')
      .filter((line) => !/^\s*(\/\/|\/?\*)/.test(line))
      .join('\n');
    for (const pattern of [/\bdeps\.(store|users)\b/, /\bkeys\.[a-zA-Z]/, /JSON\.parse\(/]) {
      if (pattern.test(code)) found.push(`${name} uses ${pattern.source}`);
    }
  }
  return found;
}

describe('architecture', () => {
  it('keeps imports flowing one way between the parts of DESIGN.md', () => {
    expect(violations()).toEqual([]);
  });

  it('lets API routes reach the store only through a service (no store, api/state, keys or stored JSON in routes/)', () => {
    expect(routeViolations()).toEqual([]);
  });
});
