// A one-shot admin connection to a local redis-server over its Unix socket: AUTH, pipelined commands, replies.
// For configuration only (ACLs, CONFIG SET), never for data.
import net from 'node:net';
import { encodeCommand, RespError, RespReader, type RespValue } from '../lib/resp.js';

export interface RedisAuth {
  username: string;
  password: string;
}

/** Sends the commands (after AUTH when given) and resolves with one reply per command (errors as RespError). */
export function runRedisCommands(socketPath: string, auth: RedisAuth | undefined, commands: readonly string[][], timeoutMs = 5000): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const all = auth === undefined ? commands : [['AUTH', auth.username, auth.password], ...commands];
    const reader = new RespReader();
    const replies: RespValue[] = [];
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => finish(new Error(`redis at ${socketPath} did not answer within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(auth === undefined ? replies : replies.slice(1));
    };
    socket.on('connect', () => socket.write(Buffer.concat(all.map((c) => encodeCommand(c)))));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
        for (let reply = reader.next(); reply !== undefined; reply = reader.next()) {
          if (auth !== undefined && replies.length === 0 && reply.value instanceof RespError) {
            finish(new Error(`redis admin login failed: ${reply.value.message}`));
            return;
          }
          replies.push(reply.value);
        }
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (replies.length === all.length) finish();
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`redis at ${socketPath} closed the connection`)));
  });
}
