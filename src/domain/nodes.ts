// The node documents kept in the store (pure types): the permanent record of every node that joined
// (keys.nodeInfo) and the liveness record attached to the node's lease (keys.node).

/** The permanent record of a node (keys.nodeInfo). */
export interface NodeInfoRecord {
  uid: string;
  name: string;
  addr: string;
  cnm_https_port: number;
  architecture: string;
  os_version: string;
  cores: number;
  total_memory: number;
  software_version: string;
  joined_at: string;
}

/** Left behind by POST /v1/nodes/{uid}/actions/remove (keys.removedNode): the uid may never rejoin. */
export interface RemovedNodeRecord {
  uid: string;
  name: string;
  addr: string;
  removed_at: string;
  removed_by: string;
}

/** The liveness record (keys.node), present only while the node's lease is alive. */
export interface NodeLiveRecord {
  uid: string;
  name: string;
  addr: string;
  cnm_https_port: number;
  status: 'active';
  started_at: string;
}
