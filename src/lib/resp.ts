// The few pieces of the Redis protocol (RESP2) certplane speaks itself: encoding a command, and parsing
// replies incrementally. Used by the agent's admin connection and by the proxy's one-time backend login,
// never on the proxy's data path.

export type RespValue = string | number | null | RespError | RespValue[];

export class RespError extends Error {
  override name = 'RespError';
}

/** `*N\r\n$len\r\narg\r\n…` */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${data.length}\r\n`), data, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const MAX_BULK = 64 * 1024 * 1024;

/** Feeds bytes in, takes complete replies out. Throws on a protocol violation. */
export class RespReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): { value: RespValue } | undefined {
    const parsed = this.parse(0);
    if (parsed === undefined) return undefined;
    this.buffer = this.buffer.subarray(parsed.end);
    return { value: parsed.value };
  }

  /** Bytes received after the replies taken so far. */
  rest(): Buffer {
    return this.buffer;
  }

  private line(offset: number): { text: string; end: number } | undefined {
    const cr = this.buffer.indexOf('\r\n', offset);
    if (cr < 0) return undefined;
    return { text: this.buffer.toString('utf8', offset + 1, cr), end: cr + 2 };
  }

  private parse(offset: number): { value: RespValue; end: number } | undefined {
    if (offset >= this.buffer.length) return undefined;
    const type = String.fromCharCode(this.buffer[offset] as number);
    const line = this.line(offset);
    if (line === undefined) return undefined;
    switch (type) {
      case '+':
        return { value: line.text, end: line.end };
      case '-':
        return { value: new RespError(line.text), end: line.end };
      case ':':
        return { value: Number(line.text), end: line.end };
      case '$': {
        const length = Number(line.text);
        if (length === -1) return { value: null, end: line.end };
        if (!Number.isInteger(length) || length < 0 || length > MAX_BULK) throw new RespError(`bad bulk length ${line.text}`);
        if (this.buffer.length < line.end + length + 2) return undefined;
        return { value: this.buffer.toString('utf8', line.end, line.end + length), end: line.end + length + 2 };
      }
      case '*': {
        const count = Number(line.text);
        if (count === -1) return { value: null, end: line.end };
        if (!Number.isInteger(count) || count < 0) throw new RespError(`bad array length ${line.text}`);
        const items: RespValue[] = [];
        let end = line.end;
        for (let i = 0; i < count; i++) {
          const item = this.parse(end);
          if (item === undefined) return undefined;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new RespError(`unexpected reply type byte 0x${(this.buffer[offset] as number).toString(16)}`);
    }
  }
}
