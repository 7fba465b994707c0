// Client → backend half of a proxied database connection: every byte goes through the RESP command scanner
// (src/lib/resp-command-scanner.ts); ordinary commands are written on as they came, AUTH / HELLO-with-AUTH
// commands are held, rewritten by `login` (which may take time: certplane's password check) and written in
// their place. While a login is being decided the client socket is paused, so pipelined commands (and
// pipelined AUTHs) are handled one at a time, in order. Backpressure as in stream.pipe: a full backend pauses
// the client until it drains.
import type net from 'node:net';
import { RespCommandScanner, type ScanItem } from '../lib/resp-command-scanner.js';

export interface ClientCommandsOptions {
  /** The bytes to send redis in place of a held login command. */
  login: (args: Buffer[]) => Promise<Buffer>;
  /** The connection must go (a login command over the size limit, or a failed login decision). */
  abort: (reason: string) => void;
}

export function forwardClientCommands(client: net.Socket, backend: net.Socket, options: ClientCommandsOptions): void {
  const scanner = new RespCommandScanner();
  const queue: ScanItem[] = [];
  let deciding = false;
  let draining = false;
  let ended = false;

  const resumeIfIdle = (): void => {
    if (!deciding && !draining && !client.destroyed) client.resume();
  };
  const write = (data: Buffer): void => {
    if (backend.destroyed) return;
    if (!backend.write(data) && !draining) {
      draining = true;
      client.pause();
      backend.once('drain', () => {
        draining = false;
        resumeIfIdle();
      });
    }
  };
  const run = (): void => {
    while (!deciding && queue.length > 0) {
      const item = queue.shift() as ScanItem;
      if (item.kind === 'bytes') {
        write(item.data);
      } else if (item.kind === 'too-long') {
        options.abort('AUTH or HELLO command (or inline line) longer than the proxy holds');
        return;
      } else {
        deciding = true;
        client.pause();
        options.login(item.args).then(
          (replacement) => {
            deciding = false;
            write(replacement);
            run();
            resumeIfIdle();
          },
          (error: unknown) => options.abort(`login check failed: ${error instanceof Error ? error.message : String(error)}`),
        );
        return;
      }
    }
    if (ended && queue.length === 0 && !deciding) backend.end();
  };

  client.on('data', (chunk: Buffer) => {
    // The common case (nothing held, nothing queued, only ordinary commands): the chunk goes on as it came.
    if (!deciding && queue.length === 0 && scanner.passes(chunk)) {
      write(chunk);
      return;
    }
    const items = scanner.push(chunk);
    // The common case (nothing held, nothing queued): straight through.
    if (!deciding && queue.length === 0 && items.length === 1 && items[0]?.kind === 'bytes') {
      write(items[0].data);
      return;
    }
    queue.push(...items);
    run();
  });
  client.once('end', () => {
    ended = true;
    run();
  });
  client.resume();
}
