// Alert state (RS "Cluster alerts requests" and "Node alerts requests"): every alert certplane knows for the
// cluster or a node, raised or not, as RS alert objects keyed by alert name (domain/alerts.ts alertView). The
// records are written by the leader's checkers through the alert store (src/alerts/alert-records.ts).
import type { ApiDeps } from '../api-deps.js';
import { ApiError } from '../../lib/api-error.js';
import { keys } from '../../store/keys.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import { ALERTS, alertNamesOf, alertView, isAlertName, type AlertEntity, type AlertRecord, type AlertView } from '../../domain/alerts.js';
import { listNodes } from './nodes.js';

/** `?ignore_settings` is a flag, with or without a value. */
export function isIgnoreSettings(query: { ignore_settings?: string | undefined } | undefined): boolean {
  const value = query?.ignore_settings;
  return value === '' || value === 'true' || value === '1';
}

async function readState(deps: ApiDeps): Promise<{ cluster: Partial<ClusterDocument> | undefined; records: Map<string, AlertRecord> }> {
  const [clusterKv, records] = await Promise.all([deps.store.get(keys.cluster), deps.store.list(keys.alertPrefix)]);
  const byName = new Map<string, AlertRecord>();
  for (const kv of records.kvs) {
    const record = JSON.parse(kv.value) as AlertRecord;
    byName.set(record.name, record);
  }
  return { cluster: clusterKv === undefined ? undefined : (JSON.parse(clusterKv.value) as Partial<ClusterDocument>), records: byName };
}

function viewsOf(entity: AlertEntity, state: Awaited<ReturnType<typeof readState>>, ignoreSettings: boolean): Record<string, AlertView> {
  return Object.fromEntries(alertNamesOf(entity).map((name) => [name, alertView(name, state.records.get(name), state.cluster, ignoreSettings)]));
}

/** GET /v1/cluster/alerts. */
export async function clusterAlerts(deps: ApiDeps, ignoreSettings: boolean): Promise<Record<string, AlertView>> {
  return viewsOf('cluster', await readState(deps), ignoreSettings);
}

/** GET /v1/cluster/alerts/{alert}: 404 for a name that is not a cluster alert. */
export async function clusterAlert(deps: ApiDeps, name: string, ignoreSettings: boolean): Promise<AlertView> {
  if (!isAlertName(name) || ALERTS[name].entity !== 'cluster') throw new ApiError('not_found', `'${name}' is not a cluster alert`);
  const state = await readState(deps);
  return alertView(name, state.records.get(name), state.cluster, ignoreSettings);
}

/** GET /v1/nodes/alerts: by node uid (every node that joined, live or down). */
export async function allNodesAlerts(deps: ApiDeps, ignoreSettings: boolean): Promise<Record<string, Record<string, AlertView>>> {
  const [nodes, state] = await Promise.all([listNodes(deps), readState(deps)]);
  return Object.fromEntries(nodes.map((node) => [String(node.uid), viewsOf('node', state, ignoreSettings)]));
}

/** GET /v1/nodes/alerts/{uid} and /v1/nodes/{uid}/alerts: 404 for an unknown node. */
export async function nodeAlerts(deps: ApiDeps, uid: number, ignoreSettings: boolean): Promise<Record<string, AlertView>> {
  const [nodes, state] = await Promise.all([listNodes(deps), readState(deps)]);
  if (!nodes.some((node) => node.uid === uid)) throw new ApiError('not_found', `Node ${uid} does not exist`);
  return viewsOf('node', state, ignoreSettings);
}

/** GET /v1/nodes/alerts/{uid}/{alert}. */
export async function nodeAlert(deps: ApiDeps, uid: number, name: string, ignoreSettings: boolean): Promise<AlertView> {
  const alerts = await nodeAlerts(deps, uid, ignoreSettings);
  const view = alerts[name];
  if (view === undefined) throw new ApiError('not_found', `'${name}' is not a node alert`);
  return view;
}
