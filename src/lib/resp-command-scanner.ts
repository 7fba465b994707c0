// A streaming scanner of the commands a Redis client sends (RESP multibulk and inline), framing them exactly as
// redis-server does (networking.c processMultibulkBuffer / processInlineBuffer), so the database proxy can
// hold the few commands that carry a password (AUTH with 1 or 2 arguments, HELLO with an AUTH option) and
// pass every other byte through untouched.
//
// Cost on the data path: per command, the `*N` line and (only when N fits AUTH or HELLO) the name; argument
// payloads are skipped by length, never copied. Bytes are held only while a command head straddles two chunks
// or while an AUTH/HELLO command is incomplete, and never more than MAX_HELD_BYTES.
//
// A framing error (what redis answers with "Protocol error" and a close) stops the scan: the bytes up to the
// error are passed on so redis gives its own error, and everything after it is dropped, as redis drops it.

/** What one push() yields, in stream order. */
export type ScanItem =
  | { kind: 'bytes'; data: Buffer }
  /** A command held back: AUTH with 2 or 3 arguments, or HELLO with 5 or more (inline ones already split). */
  | { kind: 'command'; args: Buffer[] }
  /** An AUTH/HELLO command longer than MAX_HELD_BYTES, or an inline line longer than redis's inline limit
   *  (one the scanner could not classify): the caller closes the connection. */
  | { kind: 'too-long' };

/** Longest AUTH/HELLO command held in memory (redis itself refuses bulk arguments over 16 KiB before login). */
export const MAX_HELD_BYTES = 64 * 1024;
/** redis PROTO_INLINE_MAX_SIZE: longest inline line and longest `*`/`$` line. */
const INLINE_MAX = 64 * 1024;
/** redis proto-max-bulk-len default. */
const MAX_BULK = 512 * 1024 * 1024;
const INT_MAX = 2 ** 31 - 1;
const CR = 0x0d;
const LF = 0x0a;

type Mode =
  /** At a command boundary. */
  | 'start'
  /** Passing the remaining arguments of a multibulk command. */
  | 'pass'
  /** After a framing error: nothing more is forwarded. */
  | 'broken';

type Head =
  | { decision: 'more' }
  | { decision: 'error' }
  | { decision: 'pass'; end: number; argsLeft: number; skip: number }
  | { decision: 'command'; end: number; args: Buffer[] }
  | { decision: 'too-long' };

/** redis string2ll: optional '-', no '+', no spaces, no leading zeros. */
function parseInteger(buf: Buffer, start: number, end: number): number | undefined {
  const length = end - start;
  if (length < 1 || length > 20) return undefined;
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i += 1;
    if (i === end) return undefined;
  }
  if (buf[i] === 0x30) return end - i === 1 && !negative ? 0 : undefined;
  let value = 0;
  for (; i < end; i++) {
    const digit = (buf[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/**
 * A command or option name as redis compares it: case-insensitive and only up to the first NUL byte
 * (strcasecmp on C strings: `AUTH\0x` is AUTH to redis, in command lookup and in HELLO's options).
 */
export function commandName(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return (nul < 0 ? buf : buf.subarray(0, nul)).toString('latin1').toLowerCase();
}

/** Whether a command named `name` with `argc` arguments (name included) is one the proxy holds. */
export function isLoginCommand(name: string, argc: number): boolean {
  return (name === 'auth' && (argc === 2 || argc === 3)) || (name === 'hello' && argc >= 5);
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === LF || c === CR || c === 0x0b || c === 0x0c;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/**
 * redis sdssplitargs: whitespace-separated arguments, "double quotes" with \xHH \n \r \t \b \a escapes,
 * 'single quotes' with \'; a NUL byte ends the input. Undefined for unbalanced quotes (redis then refuses).
 */
export function splitInlineArgs(line: Buffer): Buffer[] | undefined {
  const nul = line.indexOf(0);
  const text = nul < 0 ? line : line.subarray(0, nul);
  const args: Buffer[] = [];
  let p = 0;
  const at = (i: number): number | undefined => text[i];
  for (;;) {
    while (p < text.length && isSpace(at(p))) p++;
    if (p >= text.length) return args;
    const current: number[] = [];
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === 0x5c && at(p + 1) === 0x78 && isHex(at(p + 2)) && isHex(at(p + 3))) {
          current.push(parseInt(String.fromCharCode(at(p + 2) as number, at(p + 3) as number), 16));
          p += 3;
        } else if (c === 0x5c && at(p + 1) !== undefined) {
          p++;
          const e = at(p) as number;
          const map: Record<number, number> = { 0x6e: LF, 0x72: CR, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };
          current.push(map[e] ?? e);
        } else if (c === 0x22) {
          if (at(p + 1) !== undefined && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else if (c === undefined) {
          return undefined;
        } else {
          current.push(c);
        }
      } else if (insq) {
        if (c === 0x5c && at(p + 1) === 0x27) {
          p++;
          current.push(0x27);
        } else if (c === 0x27) {
          if (at(p + 1) !== undefined && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else if (c === undefined) {
          return undefined;
        } else {
          current.push(c);
        }
      } else if (c === 0x20 || c === LF || c === CR || c === 0x09 || c === undefined) {
        done = true;
      } else if (c === 0x22) {
        inq = true;
      } else if (c === 0x27) {
        insq = true;
      } else {
        current.push(c);
      }
      if (c !== undefined) p++;
    }
    args.push(Buffer.from(current));
  }
}

export class RespCommandScanner {
  private mode: Mode = 'start';
  /** Bytes of the current command not yet decided (a head straddling chunks, or a held login command). */
  private held: Buffer = Buffer.alloc(0);
  /** 'pass': payload bytes (with CRLF) still to skip, then bulk arguments still to skip. */
  private skip = 0;
  private argsLeft = 0;

  /**
   * The data path's fast case: nothing held and the whole chunk is ordinary commands (or parts of them). Then
   * the scan advances over it and the answer is true: the caller forwards the chunk as it is, with no item
   * array and no closures per chunk. Otherwise (a login command, a head that straddles chunks, a framing
   * error, an over-long line) nothing changes and the answer is false: the caller hands the chunk to push().
   */
  passes(chunk: Buffer): boolean {
    if (this.mode === 'broken' || this.held.length !== 0) return false;
    let mode: Mode = this.mode;
    let skip = this.skip;
    let argsLeft = this.argsLeft;
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      if (mode === 'pass') {
        if (skip > 0) {
          const n = Math.min(skip, length - pos);
          pos += n;
          skip -= n;
          continue;
        }
        if (argsLeft === 0) {
          mode = 'start';
          continue;
        }
        const header = this.bulkHeader(chunk, pos);
        if (typeof header === 'string') return false;
        skip = header.length + 2;
        argsLeft -= 1;
        pos = header.end;
        continue;
      }
      const head = chunk[pos] === 0x2a ? this.multibulkHead(chunk, pos) : this.inlineHead(chunk, pos);
      if (head.decision !== 'pass') return false;
      pos = head.end;
      argsLeft = head.argsLeft;
      skip = head.skip;
      mode = 'pass';
    }
    if (mode === 'pass' && skip === 0 && argsLeft === 0) mode = 'start';
    this.mode = mode;
    this.skip = skip;
    this.argsLeft = argsLeft;
    return true;
  }

  /** Scans one chunk from the client; the items to forward or handle, in order. */
  push(chunk: Buffer): ScanItem[] {
    if (this.mode === 'broken') return [];
    const buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    this.held = Buffer.alloc(0);
    const out: ScanItem[] = [];
    let pos = 0;
    /** Start of the bytes decided to pass but not yet emitted. */
    let passFrom = 0;
    const flush = (end: number): void => {
      if (end > passFrom) out.push({ kind: 'bytes', data: buf.subarray(passFrom, end) });
      passFrom = end;
    };
    const hold = (from: number): void => {
      flush(from);
      this.held = Buffer.from(buf.subarray(from));
      passFrom = buf.length;
    };
    while (pos < buf.length) {
      if (this.mode === 'pass') {
        if (this.skip > 0) {
          const n = Math.min(this.skip, buf.length - pos);
          pos += n;
          this.skip -= n;
          continue;
        }
        if (this.argsLeft === 0) {
          this.mode = 'start';
          continue;
        }
        const header = this.bulkHeader(buf, pos);
        if (header === 'more') {
          hold(pos);
          return out;
        }
        if (header === 'error') return this.fail(out, buf, passFrom);
        this.skip = header.length + 2;
        this.argsLeft -= 1;
        pos = header.end;
        continue;
      }
      // At a command boundary.
      const head = buf[pos] === 0x2a ? this.multibulkHead(buf, pos) : this.inlineHead(buf, pos);
      switch (head.decision) {
        case 'more':
          hold(pos);
          return out;
        case 'error':
          return this.fail(out, buf, passFrom);
        case 'too-long':
          flush(pos);
          out.push({ kind: 'too-long' });
          this.mode = 'broken';
          return out;
        case 'pass':
          pos = head.end;
          this.argsLeft = head.argsLeft;
          this.skip = head.skip;
          this.mode = 'pass';
          continue;
        case 'command':
          flush(pos);
          out.push({ kind: 'command', args: head.args });
          pos = head.end;
          passFrom = pos;
          continue;
      }
    }
    if (this.mode === 'pass' && this.skip === 0 && this.argsLeft === 0) this.mode = 'start';
    flush(buf.length);
    return out;
  }

  /** Passes the bytes so far and the rest of this chunk (redis reports the error and closes); drops the rest. */
  private fail(out: ScanItem[], buf: Buffer, passFrom: number): ScanItem[] {
    if (buf.length > passFrom) out.push({ kind: 'bytes', data: buf.subarray(passFrom) });
    this.mode = 'broken';
    return out;
  }

  /** A `<type>N\r\n` line at pos: its integer and the offset after it. redis looks for '\r' and skips 2. */
  private line(buf: Buffer, pos: number): { value: number | undefined; end: number } | 'more' | 'too-long' {
    const cr = buf.indexOf(CR, pos + 1);
    if (cr < 0 || cr + 1 >= buf.length) return buf.length - pos > INLINE_MAX ? 'too-long' : 'more';
    if (cr - pos > INLINE_MAX) return 'too-long';
    return { value: parseInteger(buf, pos + 1, cr), end: cr + 2 };
  }

  private bulkHeader(buf: Buffer, pos: number): { length: number; end: number } | 'more' | 'error' {
    if (buf[pos] !== 0x24) return 'error';
    const line = this.line(buf, pos);
    if (line === 'more') return 'more';
    if (line === 'too-long' || line.value === undefined || line.value < 0 || line.value > MAX_BULK) return 'error';
    return { length: line.value, end: line.end };
  }

  private multibulkHead(buf: Buffer, pos: number): Head {
    const count = this.line(buf, pos);
    if (count === 'more') return { decision: 'more' };
    if (count === 'too-long' || count.value === undefined || count.value > INT_MAX) return { decision: 'error' };
    const argc = count.value;
    if (argc <= 0) return { decision: 'pass', end: count.end, argsLeft: 0, skip: 0 };
    if (!(argc === 2 || argc === 3 || argc >= 5)) return { decision: 'pass', end: count.end, argsLeft: argc, skip: 0 };
    if (count.end >= buf.length) return { decision: 'more' };
    const nameHeader = this.bulkHeader(buf, count.end);
    if (nameHeader === 'more') return { decision: 'more' };
    if (nameHeader === 'error') return { decision: 'error' };
    if (nameHeader.length < 4) return { decision: 'pass', end: nameHeader.end, argsLeft: argc - 1, skip: nameHeader.length + 2 };
    // The first 6 bytes decide: `auth`/`hello`, whole or followed by a NUL (redis ignores what follows it).
    const peek = Math.min(nameHeader.length, 6);
    if (buf.length < nameHeader.end + peek) return { decision: 'more' };
    const name = commandName(buf.subarray(nameHeader.end, nameHeader.end + peek));
    if (!isLoginCommand(name, argc)) return { decision: 'pass', end: nameHeader.end, argsLeft: argc - 1, skip: nameHeader.length + 2 };
    if (nameHeader.end + nameHeader.length + 2 - pos > MAX_HELD_BYTES) return { decision: 'too-long' };
    if (buf.length < nameHeader.end + nameHeader.length + 2) return { decision: 'more' };
    // A login command: read it whole (bounded).
    const args: Buffer[] = [buf.subarray(nameHeader.end, nameHeader.end + nameHeader.length)];
    let end = nameHeader.end + nameHeader.length + 2;
    for (let i = 1; i < argc; i++) {
      if (end - pos > MAX_HELD_BYTES) return { decision: 'too-long' };
      if (end >= buf.length) return { decision: 'more' };
      const header = this.bulkHeader(buf, end);
      if (header === 'more') return { decision: 'more' };
      if (header === 'error') return { decision: 'error' };
      if (header.end + header.length + 2 - pos > MAX_HELD_BYTES) return { decision: 'too-long' };
      if (buf.length < header.end + header.length + 2) return { decision: 'more' };
      args.push(buf.subarray(header.end, header.end + header.length));
      end = header.end + header.length + 2;
    }
    return { decision: 'command', end, args: args.map((a) => Buffer.from(a)) };
  }

  private inlineHead(buf: Buffer, pos: number): Head {
    const lf = buf.indexOf(LF, pos);
    // An inline line longer than redis's limit is not classified (redis still runs it when its newline arrives
    // in the same read): the caller closes the connection rather than pass it, newline seen or not, so the
    // answer does not depend on chunking.
    if (lf < 0 ? buf.length - pos > INLINE_MAX : lf - pos > INLINE_MAX) return { decision: 'too-long' };
    if (lf < 0) return { decision: 'more' };
    const lineEnd = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const args = splitInlineArgs(buf.subarray(pos, lineEnd));
    const name = args?.[0];
    if (args !== undefined && name !== undefined && isLoginCommand(commandName(name), args.length)) {
      return { decision: 'command', end: lf + 1, args };
    }
    // Not a login command, an empty line, or unbalanced quotes (redis refuses it): passed as it is.
    return { decision: 'pass', end: lf + 1, argsLeft: 0, skip: 0 };
  }
}
