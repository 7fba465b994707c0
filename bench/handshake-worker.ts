// Worker thread of the handshake load generator (handshakes.ts): `concurrency` loops, each opening a TLS
// connection, completing the handshake, closing it cleanly (close_notify + FIN, waiting for the server's close)
// and starting the next one, for warmupMs + durationMs. Handshakes completed inside the measured window count
// towards the rate; all of them towards the CPU per handshake. In `resume` mode each loop offers the newest
// session (TLS 1.3 ticket, or TLS 1.2 session ID / ticket) the server gave it.
import { parentPort, workerData } from 'node:worker_threads';
import tls from 'node:tls';

export interface HandshakeWorkerData {
  port: number;
  mode: 'full' | 'resume';
  /** Client certificate and key (PEM) for mutual-TLS endpoints. */
  cert?: string;
  key?: string;
  /** Key-exchange groups the client offers (ecdhCurve), e.g. 'X25519'. */
  groups: string;
  maxVersion: tls.SecureVersion;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface HandshakeWorkerResult {
  /** Every handshake completed, warm-up included. */
  all: number;
  /** Completed inside the measured window. */
  measured: number;
  /** Of the measured ones, how many resumed a session. */
  resumed: number;
  /** Handshake latencies of the measured ones, ms. */
  latencies: number[];
  errors: number;
  firstError?: string;
}

const data = workerData as HandshakeWorkerData;
const result: HandshakeWorkerResult = { all: 0, measured: 0, resumed: 0, latencies: [], errors: 0 };
const start = performance.now();
const measureFrom = start + data.warmupMs;
const end = measureFrom + data.durationMs;
// One context for every connection: building one per tls.connect (what passing cert/key/ecdhCurve to it does)
// costs more CPU than the handshake itself.
const secureContext = tls.createSecureContext({
  ecdhCurve: data.groups,
  maxVersion: data.maxVersion,
  ...(data.cert === undefined ? {} : { cert: data.cert, key: data.key }),
});

function handshake(session: Buffer | undefined): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const began = performance.now();
    let latest = session;
    const socket = tls.connect({
      host: '127.0.0.1',
      port: data.port,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      secureContext,
      ...(session === undefined ? {} : { session }),
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no close within 10 s')));
    if (data.mode === 'resume') socket.on('session', (s: Buffer) => (latest = s));
    socket.once('secureConnect', () => {
      const now = performance.now();
      result.all += 1;
      if (began >= measureFrom && now <= end) {
        result.measured += 1;
        result.latencies.push(now - began);
        if (socket.isSessionReused()) result.resumed += 1;
      }
      socket.end();
    });
    // Server bytes (session tickets, an error line) are read and dropped.
    socket.on('data', () => undefined);
    socket.on('error', (error: Error) => {
      result.errors += 1;
      result.firstError ??= error.message;
      socket.destroy();
    });
    socket.once('close', () => resolve(latest));
  });
}

async function loop(): Promise<void> {
  let session: Buffer | undefined;
  while (performance.now() < end) {
    const next = await handshake(data.mode === 'resume' ? session : undefined);
    session = next;
  }
}

await Promise.all(Array.from({ length: data.concurrency }, () => loop()));
parentPort?.postMessage(result);
