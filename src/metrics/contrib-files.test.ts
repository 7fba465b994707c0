// The files in contrib/ against what the exporter emits: the Prometheus rules pass `promtool check rules` and
// their unit tests (`promtool test rules`), and every PromQL expression of the rules and of the Grafana
// dashboard names only metrics the exporter emits (so a renamed series cannot leave a silent rule or panel).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../lib/clock.js';
import { renderCertificateMetrics } from './metrics-exporter.js';
import { CertificateMetrics } from './certificate-metrics.js';
import { ocspFamilies } from './ocsp-metrics.js';
import { accessFamilies } from './access-metrics.js';
import { DATA_PLANE_RESTARTS } from './process-counters.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RULES_DIR = path.join(ROOT, 'contrib/prometheus');
const DASHBOARD = path.join(ROOT, 'contrib/grafana/certplane-certificate-health.json');

/** Every metric name the exporter can emit (families are declared even without samples). */
export function exportedMetricNames(): Set<string> {
  const names = new Set<string>([DATA_PLANE_RESTARTS]);
  const rsOptions = { clusterName: 'c', nodeId: '1', dataDir: '/d', certificateNames: [], certificates: { get: () => undefined, register: () => () => undefined }, clock: systemClock };
  for (const url of ['/', '/v2'] as const) {
    for (const match of renderCertificateMetrics(url, rsOptions).matchAll(/^# TYPE (\S+) /gm)) names.add(match[1]!);
  }
  const families = [
    ...new CertificateMetrics([], { get: () => undefined }, systemClock).collect(),
    ...ocspFamilies({ enabled: false, record: undefined, proxySerial: undefined }),
    ...accessFamilies({ successes: 0, failures: {} }, undefined),
  ];
  for (const family of families) names.add(family.name);
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/** The metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and grouping clauses, not called as functions. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (call !== undefined || PROMQL_WORDS.has(word!.toLowerCase())) continue;
    names.push(word!);
  }
  return names;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: `${stdout}${stderr}` });
    });
  });
}

/** The `expr:` values of a rules file (block scalars and one-liners); enough YAML for our own file. */
function ruleExpressions(text: string): string[] {
  const lines = text.split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (match === null) continue;
    const [, indent, rest] = match;
    if (rest !== '|' && rest !== '>') {
      exprs.push(rest!);
      continue;
    }
    const body: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > indent!.length)) body.push(lines[++i]!.trim());
    exprs.push(body.join(' '));
  }
  return exprs;
}

describe('metricNamesIn', () => {
  it('finds selected metrics and skips functions, labels, ranges, grouping and variables', () => {
    expect(metricNamesIn('sum by (cluster, reason) (rate(a_total{cluster=~"$cluster",x="y z"}[$__rate_interval])) > 0.05')).toEqual(['a_total']);
    expect(metricNamesIn('(min by (name) (b_seconds) - time()) / 86400 and on (name) c or vector(0)')).toEqual(['b_seconds', 'c']);
    expect(metricNamesIn('max(d{status="revoked"}) == 1 unless e offset 5m')).toEqual(['d', 'e']);
  });
});

describe('contrib/prometheus/certplane-rules.yml', () => {
  it('passes promtool check rules', async () => {
    const result = await run('promtool', ['check', 'rules', 'certplane-rules.yml'], RULES_DIR);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS: 5 rules found');
  });

  it('passes its unit tests (promtool test rules certplane-rules.test.yml)', async () => {
    const result = await run('promtool', ['test', 'rules', 'certplane-rules.test.yml'], RULES_DIR);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('has the alerts of README "Metrics", and every expression names only metrics the exporter emits', () => {
    const text = readFileSync(path.join(RULES_DIR, 'certplane-rules.yml'), 'utf8');
    const alerts = [...text.matchAll(/- alert: (\S+)/g)].map((m) => m[1]);
    expect(alerts).toEqual(['CertplaneCertificateExpiresIn30Days', 'CertplaneCertificateExpiresIn7Days', 'CertplaneOcspQueryFailing', 'CertplaneOcspStatusRevoked', 'CertplaneClientCertificateLoginFailures']);
    const exported = exportedMetricNames();
    const exprs = ruleExpressions(text);
    expect(exprs).toHaveLength(5);
    for (const expr of exprs) {
      const names = metricNamesIn(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${name} in ${expr}`).toContain(name);
    }
  });
});

describe('contrib/grafana/certplane-certificate-health.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    panels: Array<{ id: number; type: string; title: string; targets?: Array<{ expr: string; refId: string }> }>;
    templating: { list: Array<{ name: string; query?: unknown; definition?: string }> };
  };

  it('is a dashboard with unique panel ids, every non-row panel with a query', () => {
    expect(dashboard.uid).toBe('certplane-cert-health');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toMatch(/\S/);
    }
  });

  it('queries only metrics the exporter emits, and shows each kind of series', () => {
    const exported = exportedMetricNames();
    const used = new Set<string>();
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    for (const variable of dashboard.templating.list) {
      const match = /label_values\((\w+)\s*,/.exec(variable.definition ?? '');
      if (match !== null) exprs.push(match[1]!);
    }
    for (const expr of exprs) {
      const names = metricNamesIn(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported, `${name} in ${expr}`).toContain(name);
        used.add(name);
      }
    }
    for (const name of [
      'certplane_certificate_not_after_timestamp_seconds',
      'certplane_ocsp_certificate_status',
      'certplane_ocsp_last_success_timestamp_seconds',
      'certplane_client_certificate_logins_total',
      'certplane_client_certificate_login_failures_total',
      'certplane_proxy_connections_open',
      'certplane_proxy_tls_handshake_failures_total',
    ]) {
      expect(used).toContain(name);
    }
  });
});
