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
  /** certplane's own version (absent in records written before it was kept). */
  certplane_version?: string;
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

/**
 * The Redis Enterprise release whose REST API certplane implements (digest §0: "latest" = 8.2; certplane has
 * PUT /v1/cluster/certificates from 7.22.2, the 8.0 certificate names and 8.2's control_plane_basic_authentication),
 * so clients that gate features on a node's software_version take the right path.
 */
export const REFERENCE_RELEASE = '8.2.0';

/**
 * A node's `software_version` in the reference's form `MAJOR.MINOR.PATCH-BUILD` (fixture: "100.0.21-16135"):
 * the reference release certplane implements, and as build number certplane's own version packed as
 * major×10000 + minor×100 + patch (0.1.0 → "8.2.0-100", 1.2.3 → "8.2.0-10203"). certplane's own version is
 * reported beside it as `certplane_version`.
 */
export function rsSoftwareVersion(certplaneVersion: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(certplaneVersion);
  const build = match === null ? 0 : Number(match[1]) * 10_000 + Number(match[2]) * 100 + Number(match[3]);
  return `${REFERENCE_RELEASE}-${build}`;
}
