import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { encodeCommand } from '../lib/resp.js';
import { forwardClientCommands } from './client-commands.js';

const sockets: net.Socket[] = [];
const servers: net.Server[] = [];

/** A connected pair: [the far end, the near end]. */
async function pair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const far = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const near = await accepted;
  sockets.push(far, near);
  return [far, near];
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

describe('forwardClientCommands', () => {
  it('forwards ordinary bytes, replaces each login command in place, one decision at a time, in order', async () => {
    const [client, proxyClient] = await pair();
    const [backend, proxyBackend] = await pair();
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    forwardClientCommands(proxyClient, proxyBackend, {
      login: async (args) => {
        running += 1;
        most = Math.max(most, running);
        seen.push(String(args[2]));
        await new Promise((r) => setTimeout(r, 20));
        running -= 1;
        return encodeCommand(['AUTH', String(args[1]), `checked-${String(args[2])}`]);
      },
      abort: (reason) => {
        throw new Error(reason);
      },
    });
    const wire = Buffer.concat([
      encodeCommand(['GET', 'a']),
      encodeCommand(['AUTH', 'u', 'p1']),
      encodeCommand(['GET', 'b']),
      encodeCommand(['AUTH', 'u', 'p2']),
      encodeCommand(['SET', 'c', 'x'.repeat(100_000)]),
    ]);
    const expected = Buffer.concat([
      encodeCommand(['GET', 'a']),
      encodeCommand(['AUTH', 'u', 'checked-p1']),
      encodeCommand(['GET', 'b']),
      encodeCommand(['AUTH', 'u', 'checked-p2']),
      encodeCommand(['SET', 'c', 'x'.repeat(100_000)]),
    ]);
    const received: Buffer[] = [];
    let length = 0;
    const done = new Promise<void>((resolve) =>
      backend.on('data', (chunk: Buffer) => {
        received.push(chunk);
        length += chunk.length;
        if (length >= expected.length) resolve();
      }),
    );
    client.write(wire);
    await done;
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    expect(seen).toEqual(['p1', 'p2']);
    expect(most).toBe(1);
  });

  it('aborts the connection on a login command longer than the scanner holds', async () => {
    const [client, proxyClient] = await pair();
    const [, proxyBackend] = await pair();
    const aborted = new Promise<string>((resolve) => forwardClientCommands(proxyClient, proxyBackend, { login: () => Promise.reject(new Error('no')), abort: resolve }));
    client.write(encodeCommand(['AUTH', 'u', 'p'.repeat(100_000)]));
    expect(await aborted).toMatch(/longer/);
  });
});
