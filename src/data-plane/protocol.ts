// The control protocol between a node (control plane) and a data-plane process: JSON lines over the process's
// Unix control socket (<data-dir>/data-plane/control-<n>.sock, directory 0700, socket 0600). The node is the
// client; it connects (or reconnects after its own restart), says hello with PROTOCOL_VERSION and sends its
// full state (settings, the `proxy` certificate, the staple, every endpoint). Requests carry an id and are
// answered by a `reply` with the same id; a request the data plane cannot apply is answered ok: false with the
// reason, which the node counts as not applied. The data plane asks the node in turn (password checks) with
// its own ids. Key material and passwords travel only on this socket: never in argv, environment or logs.
import type { DatabaseEndpointConfig } from '../domain/database-endpoint.js';
import type { ProxyStatsSnapshot } from '../proxy/proxy-stats.js';
import type { RevocationState } from '../domain/crl-revocation.js';

/** Bumped on any incompatible change: a node that finds a data plane of another version replaces it. */
export const PROTOCOL_VERSION = 1;

/** One line at most (an endpoint with many trust anchors and users stays far below it). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface DataPlaneSettings {
  handshakeTimeoutMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  logLevel: string;
  /** Several processes share each port (SO_REUSEPORT). */
  reusePort: boolean;
  /** base64 of 48 bytes: TLS session ticket keys shared by every process of the node. */
  ticketKeys: string;
}

export type PasswordVerdict = 'ok' | 'wrong' | 'locked' | 'expired';

/** Node → data plane. */
export type NodeRequest =
  | { type: 'hello'; id: number; version: number }
  | { type: 'settings'; id: number; settings: DataPlaneSettings }
  | { type: 'certificate'; id: number; name: string; certificate: string; key: string }
  | { type: 'staple'; id: number; /** base64 DER of the OCSP response for the proxy certificate, null: none. */ staple: string | null }
  | { type: 'apply'; id: number; endpoint: DatabaseEndpointConfig }
  | { type: 'remove'; id: number; uid: number }
  /** Revocation checking (certplane CRL extension) for every endpoint's mutual TLS; null: off. Sent only once set. */
  | { type: 'revocation'; id: number; state: RevocationState | null }
  /** A spare process takes over a slot: its control socket moves to that slot's path. */
  | { type: 'promote'; id: number; control: string }
  /** Stop serving: close the listeners and connections and exit (the node stops for good). */
  | { type: 'shutdown'; id: number }
  /** The process's counters (metrics); a process that predates it answers ok: false ('unknown request'). */
  | { type: 'stats'; id: number };

export type NodeMessage = NodeRequest | { type: 'password-result'; id: number; verdict?: PasswordVerdict; error?: string };

export interface HelloReply {
  version: number;
  pid: number;
  /** The endpoints this process serves now (a reattaching node removes the ones it no longer wants). */
  uids: number[];
  /** ms since the epoch. */
  startedAt: number;
  /** Revocation checking is on in this process (certplane CRL extension): a reattaching node that has none turns it off. */
  revocation?: boolean;
}

/** Data plane → node. */
export type DataPlaneMessage =
  | { type: 'reply'; id: number; ok: true; hello?: HelloReply; stats?: ProxyStatsSnapshot }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'password-check'; id: number; userUid: number; password: string }
  | { type: 'login-refused'; refusal: { bdbUid: number; user: string; userUid?: number; remoteAddress: string; reason: string } }
  /** A client certificate refused for revocation (certplane CRL extension): the node counts it (metrics). */
  | { type: 'revocation-refused'; refusal: { bdbUid: number; errorCode: 'certificate_revoked' | 'revocation_unknown' } }
  /** One pino log line of the data plane (the node writes it to its own log). */
  | { type: 'log'; line: string };

/** Splits a byte stream into JSON messages; a line over MAX_LINE_BYTES is an error (the peer is broken). */
export class LineDecoder<T> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): T[] {
    const out: T[] = [];
    let start = 0;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, at);
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      start = at + 1;
      if (line.length > 0) out.push(JSON.parse(line.toString('utf8')) as T);
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_LINE_BYTES) throw new Error('control message too long');
    }
    return out;
  }
}

export function encodeMessage(message: NodeMessage | DataPlaneMessage): string {
  return `${JSON.stringify(message)}\n`;
}
