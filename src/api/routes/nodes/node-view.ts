// The node object of GET /v1/nodes and /v1/nodes/{uid}, shaped like Redis Enterprise's (fixtures nodes_list.json)
// for the fields that exist here, plus what certplane adds: which certificate revision the node has applied and
// whether it leads cluster-wide background work. Built from three store prefixes read together.
import type { ClusterStore } from '../../../store/cluster-store.js';
import { keys } from '../../../store/keys.js';
import type { AppliedRecord } from '../../../domain/node-status.js';
import { rsSoftwareVersion, type NodeInfoRecord, type NodeLiveRecord } from '../../../domain/nodes.js';

export interface NodeView {
  uid: number;
  addr: string;
  external_addr: string[];
  /** `active` while the node keeps its lease alive, `down` once the lease has expired (RS: active | down). */
  status: 'active' | 'down';
  accept_servers: boolean;
  rack_id: string;
  second_rack_id: string;
  architecture: string;
  os_version: string;
  cores: number;
  total_memory: number;
  /** The reference's form, `8.2.0-100` (src/domain/nodes.ts rsSoftwareVersion). */
  software_version: string;
  /** Seconds since this node process started; 0 while down. */
  uptime: number;
  // certplane extensions
  node_name: string;
  certplane_version: string;
  cnm_https_port: number;
  /** Store revision of the certificates this node serves (files written, listeners reloaded). */
  certificates_revision: number;
  certificates_applied_at: string;
  /** The last failed apply on this node, if the last attempt failed. */
  certificates_error: string | null;
  /** True on the one node chosen (etcd election) to run cluster-wide background work. */
  is_leader: boolean;
}

export async function readNodeViews(store: ClusterStore, now: Date): Promise<NodeView[]> {
  const [infos, lives, applied, leader] = await Promise.all([
    store.list(keys.nodeInfoPrefix),
    store.list(keys.nodePrefix),
    store.list(keys.nodeAppliedPrefix),
    store.get(keys.leader('cluster')),
  ]);
  const byId = <T>(prefix: string, kvs: Array<{ key: string; value: string }>): Map<string, T> =>
    new Map(kvs.map((kv) => [kv.key.slice(prefix.length), JSON.parse(kv.value) as T]));
  const live = byId<NodeLiveRecord>(keys.nodePrefix, lives.kvs);
  const appliedRecords = byId<AppliedRecord>(keys.nodeAppliedPrefix, applied.kvs);
  const views: NodeView[] = [];
  for (const [nodeId, info] of byId<NodeInfoRecord>(keys.nodeInfoPrefix, infos.kvs)) {
    const liveRecord = live.get(nodeId);
    const record = appliedRecords.get(nodeId);
    views.push({
      uid: Number(nodeId),
      addr: info.addr,
      external_addr: [],
      status: liveRecord === undefined ? 'down' : 'active',
      accept_servers: true,
      rack_id: '',
      second_rack_id: '',
      architecture: info.architecture,
      os_version: info.os_version,
      cores: info.cores,
      total_memory: info.total_memory,
      // A record written by an older certplane (not yet restarted) holds the bare package version.
      software_version: /^\d+\.\d+\.\d+-\d+$/.test(info.software_version) ? info.software_version : rsSoftwareVersion(info.software_version),
      uptime: liveRecord === undefined ? 0 : Math.max(0, Math.floor((now.getTime() - Date.parse(liveRecord.started_at)) / 1000)),
      node_name: info.name,
      certplane_version: info.certplane_version ?? info.software_version,
      cnm_https_port: info.cnm_https_port,
      certificates_revision: record?.certificates_revision ?? 0,
      certificates_applied_at: record?.applied_at ?? '',
      certificates_error: record?.error ?? null,
      is_leader: liveRecord !== undefined && leader?.value === nodeId,
    });
  }
  return views.sort((a, b) => a.uid - b.uid);
}
