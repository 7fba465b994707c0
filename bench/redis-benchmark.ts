// One bounded `redis-benchmark --csv` run against a TLS endpoint on 127.0.0.1, parsed per test (SET, GET, ...).
import { run } from './fixture.js';

export interface RedisBenchmarkResult {
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

export interface RedisBenchmarkOptions {
  port: number;
  /** TLS and login arguments (tlsArgs(), directAuth). */
  args: string[];
  clients: number;
  requests: number;
  pipeline?: number;
  tests: string;
}

export async function redisBenchmark(options: RedisBenchmarkOptions): Promise<Record<string, RedisBenchmarkResult>> {
  const out = await run('redis-benchmark', [
    '-h',
    '127.0.0.1',
    '-p',
    String(options.port),
    ...options.args,
    '-c',
    String(options.clients),
    '-n',
    String(options.requests),
    '-P',
    String(options.pipeline ?? 1),
    '-t',
    options.tests,
    '--csv',
  ]);
  const result: Record<string, RedisBenchmarkResult> = {};
  for (const line of out.split('\n').slice(1)) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    if (cells.length < 8) continue;
    result[cells[0] as string] = { rps: Number(cells[1]), p50: Number(cells[4]), p99: Number(cells[6]), max: Number(cells[7]) };
  }
  if (Object.keys(result).length === 0) throw new Error(`redis-benchmark printed no results: ${out.slice(0, 500)}`);
  return result;
}
