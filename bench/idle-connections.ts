// Idle TLS client connections for the memory benchmark: each completes its handshake, sends one greeting (the
// commands that leave it logged in, then PING) and waits for +PONG, then stays open doing nothing. Opened in
// batches; before each batch the open files of the server's process tree and of this process are checked
// against their limits (2 per proxied connection on the server: client and backend), and opening stops short
// of a limit instead of breaking the server for everyone else. What stopped it is reported.
import { readdir, readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { treeFileUse } from './proc-tree.js';

export interface IdleTarget {
  port: number;
  /** The server's root process (open files of it and its descendants are watched). */
  pid: number;
  /** Sent after the handshake; the connection counts once the reply contains +PONG. */
  greeting: string;
}

export interface IdleConnections {
  sockets: tls.TLSSocket[];
  /** How many are still open now (the server may have closed some). */
  open(): number;
  /** Why fewer than asked were opened, if so. */
  shortBecause?: string;
  errors: number;
  firstError?: string;
  close(): Promise<void>;
}

const BATCH = 250;
const IN_FLIGHT = 50;
/** Files kept free for everything else the processes do. */
const RESERVE = 200;

/** The soft open-file limit of this process (the node and its data plane inherit it). */
export async function openFileLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const soft = (limits.split('\n').find((l) => l.startsWith('Max open files')) ?? '').replace('Max open files', '').trim().split(/\s+/)[0] ?? '';
  return soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
}

/**
 * Data-plane processes needed to hold `connections` proxied connections on one endpoint: each holds two files
 * in its process (client and backend) and SO_REUSEPORT spreads them about evenly.
 */
export function processesFor(connections: number, limit: number): number {
  return Math.max(1, Math.ceil((2 * connections) / Math.max(1, limit - 2 * RESERVE - BATCH * 2)));
}

async function ownFileUse(): Promise<{ open: number; limit: number }> {
  const [fds, limit] = await Promise.all([readdir('/proc/self/fd'), openFileLimit()]);
  return { open: fds.length, limit };
}

function openOne(target: IdleTarget, context: tls.SecureContext): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = tls.connect({ host: '127.0.0.1', port: target.port, secureContext: context, rejectUnauthorized: false, checkServerIdentity: () => undefined });
    const timer = setTimeout(() => socket.destroy(new Error('no +PONG within 30 s')), 30_000);
    const onData = (chunk: Buffer): void => {
      reply += chunk.toString('latin1');
      if (reply.includes('+PONG\r\n')) {
        clearTimeout(timer);
        socket.off('data', onData);
        // Later bytes (none expected) are read and dropped; an error after this closes only this socket.
        socket.on('data', () => undefined);
        resolve(socket);
      } else if (/(^|\r\n)-[^\r]*\r\n/.test(reply)) {
        socket.destroy(new Error(`server answered ${reply.trim().slice(0, 120)}`));
      }
    };
    socket.once('secureConnect', () => socket.write(target.greeting));
    socket.on('data', onData);
    socket.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before +PONG'));
    });
  });
}

/** Opens up to `count` idle connections (fewer when a process nears its open-file limit). */
export async function openIdleConnections(target: IdleTarget, count: number): Promise<IdleConnections> {
  const context = tls.createSecureContext({ ecdhCurve: 'X25519' });
  const sockets: tls.TLSSocket[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let shortBecause: string | undefined;
  while (sockets.length < count && shortBecause === undefined) {
    const batch = Math.min(BATCH, count - sockets.length);
    const server = await treeFileUse(target.pid);
    const tight = server.find((p) => p.open + 2 * batch + RESERVE > p.limit);
    const own = await ownFileUse();
    if (tight !== undefined) {
      shortBecause = `${tight.comm} (pid ${tight.pid}) has ${tight.open} of ${tight.limit} files open (2 per proxied connection)`;
      break;
    }
    if (own.open + batch + RESERVE > own.limit) {
      shortBecause = `this benchmark process has ${own.open} of ${own.limit} files open`;
      break;
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch) {
        next += 1;
        try {
          sockets.push(await openOne(target, context));
        } catch (error) {
          errors += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batch) }, () => worker()));
    if (errors > Math.max(10, count / 100)) {
      shortBecause = `${errors} connections failed (first: ${firstError})`;
      break;
    }
  }
  const result: IdleConnections = {
    sockets,
    errors,
    open: () => sockets.filter((s) => !s.destroyed).length,
    close: async () => {
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.destroyed) return resolve();
              socket.once('close', () => resolve());
              socket.destroy();
            }),
        ),
      );
    },
  };
  if (shortBecause !== undefined) result.shortBecause = shortBecause;
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}
