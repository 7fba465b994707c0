// What each node records in the store after reconciling: the store revision whose certificates it now
// serves, or the revision it failed to apply and why. Written by the node agent, read by the API.
export interface AppliedRecord {
  node_uid: string;
  certificates_revision: number;
  applied_at: string;
  /** Set when the last attempt failed: the revision it could not apply and why. */
  failed_revision: number | null;
  error: string | null;
}
