// Overview: the nodes (status, leader, address), certificates that expire soon, the OCSP status and the
// cluster's alerts (GET /v1/cluster/alerts; a node without that endpoint answers 404 and the panel says so).
import { get, getOptional } from '../api.js';
import { h, load, section, table, formatTime } from '../dom.js';
import { can } from '../permissions.js';
import type { Page } from '../page.js';
import { daysBadge, loadCertificates, thresholdDays, type ClusterDocument } from '../certificates-data.js';

interface NodeView {
  uid: number;
  addr: string;
  status: string;
  is_leader?: boolean;
  software_version?: string;
  certplane_version?: string;
}

interface OcspStatus {
  cert_status?: string;
  produced_at?: string;
  next_update?: string;
  last_query_time?: string;
  last_query_error?: string;
  consecutive_failures?: number;
}

export const overviewPage: Page = {
  path: '/',
  title: 'Overview',
  needs: [],
  render(main) {
    const nodes = h('div');
    const expiring = h('div');
    const ocsp = h('div');
    const alerts = h('div');
    main.append(h('div', { class: 'grid' }, section('Nodes', nodes), section('Certificates expiring soon', expiring), section('OCSP status', ocsp), section('Alerts', alerts)));

    if (can('view_all_nodes_info')) {
      void load(nodes, 'nodes', () => get<NodeView[]>('/v1/nodes'), (list) =>
        table('Nodes of the cluster', [
          { header: 'Node', cell: (n) => `#${n.uid}` },
          { header: 'Address', cell: (n) => n.addr },
          { header: 'Status', cell: (n) => h('span', { class: `badge ${n.status === 'active' ? 'success' : 'danger'}` }, n.status) },
          { header: 'Leader', cell: (n) => (n.is_leader ? h('span', { class: 'badge info' }, 'leader') : '—') },
          { header: 'Version', cell: (n) => n.certplane_version ?? n.software_version ?? '—' },
        ], list),
      );
    } else nodes.append(h('p', { class: 'empty' }, 'Your role cannot view nodes.'));

    void load(expiring, 'certificates', async () => {
      const [certificates, cluster] = await Promise.all([loadCertificates(), getOptional<ClusterDocument>('/v1/cluster')]);
      return { certificates, threshold: thresholdDays(cluster) };
    }, ({ certificates, threshold }) => {
      const soon = certificates.filter((c) => c.daysLeft !== undefined && c.daysLeft < threshold).sort((a, b) => (a.daysLeft ?? 0) - (b.daysLeft ?? 0));
      return [
        h('p', { class: 'hint' }, `${certificates.length} certificates installed; alert threshold ${threshold} days.`),
        table('Certificates expiring soon', [
          { header: 'Name', cell: (c) => h('a', { href: '#/certificates' }, c.name) },
          { header: 'Expires', cell: (c) => formatTime(c.leaf?.notAfter) },
          { header: 'Days left', cell: (c) => daysBadge(c.daysLeft, threshold, c.leaf?.notAfter) },
        ], soon, `No certificate expires within ${threshold} days.`),
      ];
    });

    if (can('view_ocsp_status')) {
      void load(ocsp, 'the OCSP status', () => get<OcspStatus>('/v1/ocsp/status'), (status) => ocspSummary(status));
    } else ocsp.append(h('p', { class: 'empty' }, 'Your role cannot view the OCSP status.'));

    void load(alerts, 'alerts', () => getOptional<unknown>('/v1/cluster/alerts'), (body) => renderAlerts(body));
  },
};

export function ocspSummary(status: OcspStatus): HTMLElement {
  const kind = status.cert_status === 'GOOD' ? 'success' : status.cert_status === 'REVOKED' ? 'danger' : 'warning';
  return h(
    'dl',
    { class: 'facts' },
    h('dt', {}, 'Proxy certificate'),
    h('dd', {}, h('span', { class: `badge ${kind}` }, status.cert_status ?? 'no response yet')),
    h('dt', {}, 'Produced at'),
    h('dd', {}, status.produced_at || '—'),
    h('dt', {}, 'Next update'),
    h('dd', {}, status.next_update || '—'),
    h('dt', {}, 'Last query'),
    h('dd', {}, status.last_query_time || '—'),
    status.last_query_error ? h('dt', {}, 'Last error') : null,
    status.last_query_error ? h('dd', { class: 'text-danger' }, `${status.last_query_error} (${status.consecutive_failures ?? 0} failures in a row)`) : null,
  );
}

interface AlertEntry {
  name: string;
  state: boolean;
  severity: string;
  detail: string;
}

/** Alerts as RS shapes them (`{name: {state, severity, change_time, …}}`) or as a list of objects. */
function alertEntries(body: unknown): AlertEntry[] {
  const entries: AlertEntry[] = [];
  const add = (name: string, value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    const v = value as Record<string, unknown>;
    // RS alert objects: change_value holds what decided (description, threshold, certificate…), not `state`.
    const change = typeof v.change_value === 'object' && v.change_value !== null ? (v.change_value as Record<string, unknown>) : {};
    const facts =
      typeof change.description === 'string'
        ? [change.description]
        : Object.entries(change)
            .filter(([key]) => key !== 'state')
            .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    const detail = [typeof v.change_time === 'string' ? `since ${v.change_time}` : '', typeof v.description === 'string' ? v.description : '', ...facts]
      .filter((x) => x !== '')
      .join(' · ');
    entries.push({ name: typeof v.name === 'string' ? v.name : name, state: v.state === true || v.state === 'on', severity: typeof v.severity === 'string' ? v.severity : '', detail });
  };
  if (Array.isArray(body)) body.forEach((item, i) => add(String(i), item));
  else if (typeof body === 'object' && body !== null) for (const [name, value] of Object.entries(body)) add(name, value);
  return entries;
}

function renderAlerts(body: unknown): HTMLElement {
  if (body === undefined) return h('p', { class: 'empty' }, 'This node does not report cluster alerts (no /v1/cluster/alerts).');
  const raised = alertEntries(body).filter((a) => a.state);
  return table('Raised alerts', [
    { header: 'Alert', cell: (a) => a.name },
    { header: 'Severity', cell: (a) => h('span', { class: `badge ${/error|critical/i.test(a.severity) ? 'danger' : 'warning'}` }, a.severity || 'raised') },
    { header: 'Details', cell: (a) => a.detail || '—' },
  ], raised, 'No alert is raised.');
}
