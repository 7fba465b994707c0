// PUT /v1/bdbs/{uid}/{action} (digest §7.1): the actions certplane knows, and the documents through which the
// API asks the node owning a database to run one and the node answers (the API reaches the agent only through
// the store). One request per database at a time under keys.bdbAction(uid); the node claims it (deleting the
// request and writing a `running` result in one transaction), runs it, then writes `done` or `failed` under
// keys.bdbActionResult(uid). The API withdraws a request nobody claimed in time with the same kind of
// transaction, so a request is either claimed by the node or withdrawn by the API, never both: a flush that
// timed out can never run later.
export const BDB_ACTIONS = ['flush', 'reset_admin_pass'] as const;
export type BdbAction = (typeof BDB_ACTIONS)[number];

export function isBdbAction(value: string): value is BdbAction {
  return (BDB_ACTIONS as readonly string[]).includes(value);
}

/** Actions that the owning node runs against its redis-server (reset_admin_pass is a bdb update instead). */
export type NodeBdbAction = 'flush';

/** The document under keys.bdbAction(uid). */
export interface BdbActionRequest {
  request_id: string;
  action: NodeBdbAction;
  uid: number;
  /** The node that runs the database (the one expected to claim the request). */
  node_uid: string;
  requested_at: string;
}

/** The document under keys.bdbActionResult(uid): the last request the owning node claimed. */
export interface BdbActionResult {
  request_id: string;
  action: NodeBdbAction;
  uid: number;
  node_uid: string;
  state: 'running' | 'done' | 'failed';
  error: string | null;
  updated_at: string;
}
