import { describe, expect, it } from 'vitest';
import { encodeCommand } from './resp.js';
import { MAX_HELD_BYTES, RespCommandScanner, splitInlineArgs, type ScanItem } from './resp-command-scanner.js';

/** Runs the wire through a scanner in the given chunk sizes; returns passed bytes and held commands in order. */
function scan(wire: Buffer, chunkSize = wire.length): { passed: string; commands: string[][]; items: string[] } {
  const scanner = new RespCommandScanner();
  const items: ScanItem[] = [];
  for (let i = 0; i < wire.length; i += chunkSize) items.push(...scanner.push(wire.subarray(i, i + chunkSize)));
  let passed = '';
  const commands: string[][] = [];
  const order: string[] = [];
  for (const item of items) {
    if (item.kind === 'bytes') {
      passed += item.data.toString('latin1');
      if (order.at(-1) !== 'bytes') order.push('bytes');
    } else if (item.kind === 'command') {
      commands.push(item.args.map((a) => a.toString('latin1')));
      order.push('command');
    } else {
      order.push('too-long');
    }
  }
  return { passed, commands, items: order };
}

const cmd = (...args: string[]): Buffer => encodeCommand(args);

describe('RespCommandScanner', () => {
  it('passes ordinary commands through byte for byte, in any chunking', () => {
    const wire = Buffer.concat([cmd('SET', 'k', 'v'.repeat(1000)), cmd('GET', 'k'), cmd('HGET', 'h', 'f'), cmd('PING'), Buffer.from('*0\r\n'), cmd('AUTH'), cmd('AUTH', 'a', 'b', 'c'), cmd('HELLO', '3')]);
    for (const size of [1, 2, 3, 7, 64, wire.length]) {
      const result = scan(wire, size);
      expect(result.passed).toBe(wire.toString('latin1'));
      expect(result.commands).toEqual([]);
    }
  });

  it('holds AUTH with one or two arguments and HELLO with an AUTH option, in order, whatever the case', () => {
    const wire = Buffer.concat([cmd('GET', 'a'), cmd('auth', 'pw'), cmd('GET', 'b'), cmd('AuTh', 'u', 'p'), cmd('HELLO', '3', 'AUTH', 'u', 'p'), cmd('GET', 'c')]);
    for (const size of [1, 5, wire.length]) {
      const result = scan(wire, size);
      expect(result.commands).toEqual([['auth', 'pw'], ['AuTh', 'u', 'p'], ['HELLO', '3', 'AUTH', 'u', 'p']]);
      expect(result.passed).toBe(Buffer.concat([cmd('GET', 'a'), cmd('GET', 'b'), cmd('GET', 'c')]).toString('latin1'));
    }
    expect(scan(Buffer.concat([cmd('GET', 'a'), cmd('AUTH', 'x'), cmd('GET', 'b')])).items).toEqual(['bytes', 'command', 'bytes']);
  });

  it('never mistakes payload bytes for a command: an AUTH inside a value is data', () => {
    const inner = cmd('AUTH', 'u', 'p').toString('latin1');
    const wire = Buffer.concat([cmd('SET', 'k', inner), cmd('SET', 'AUTH', 'x'), Buffer.from(`*3\r\n$3\r\nSET\r\n$${inner.length}\r\n${inner}\r\n$1\r\nv\r\n`)]);
    for (const size of [1, 3, wire.length]) expect(scan(wire, size).commands).toEqual([]);
  });

  it('skips a bulk payload by its length, like redis (the CRLF after it is not checked)', () => {
    const wire = Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nabcXX*2\r\n$4\r\nAUTH\r\n$1\r\np\r\n');
    expect(scan(wire).commands).toEqual([['AUTH', 'p']]);
  });

  it('splits inline commands as redis does, quotes and escapes included', () => {
    const wire = Buffer.from('PING\r\nauth secret\r\n\r\n"AUTH" alice "p w\\x41"\nHELLO 3 AUTH bob \'it\\\'s\' SETNAME c\r\nGET k\r\n');
    const result = scan(wire, 3);
    expect(result.commands).toEqual([['auth', 'secret'], ['AUTH', 'alice', 'p wA'], ['HELLO', '3', 'AUTH', 'bob', "it's", 'SETNAME', 'c']]);
    expect(result.passed).toBe('PING\r\n\r\nGET k\r\n');
    expect(splitInlineArgs(Buffer.from('a"b c"d'))).toBeUndefined();
    expect(splitInlineArgs(Buffer.from('a"b c" d'))?.map(String)).toEqual(['ab c', 'd']);
    expect(splitInlineArgs(Buffer.from('"unbalanced'))).toBeUndefined();
    expect(splitInlineArgs(Buffer.from('  x\0 AUTH'))?.map(String)).toEqual(['x']);
  });

  it('passes a framing error and what came with it on, then drops everything after (redis closes)', () => {
    const scanner = new RespCommandScanner();
    const first = scanner.push(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n+PING\r\n'));
    expect(Buffer.concat(first.map((i) => (i.kind === 'bytes' ? i.data : Buffer.alloc(0)))).toString()).toBe('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n+PING\r\n');
    expect(scanner.push(cmd('AUTH', 'u', 'p'))).toEqual([]);
    for (const bad of ['*x\r\n', '*2\r\n$-5\r\n', '*01\r\n', `*2\r\n$${2 ** 40}\r\n`]) {
      const s = new RespCommandScanner();
      s.push(Buffer.from(bad));
      expect(s.push(cmd('AUTH', 'p'))).toEqual([]);
    }
  });

  it('bounds what it holds: an AUTH longer than the limit is reported, not buffered', () => {
    const scanner = new RespCommandScanner();
    const huge = cmd('AUTH', 'u', 'p'.repeat(MAX_HELD_BYTES + 10));
    const items = [...scanner.push(huge.subarray(0, 100)), ...scanner.push(huge.subarray(100))];
    expect(items).toEqual([{ kind: 'too-long' }]);
    // An ordinary command of any size streams through without being held.
    const big = cmd('SET', 'k', 'v'.repeat(1 << 20));
    const s = new RespCommandScanner();
    let passed = 0;
    for (let i = 0; i < big.length; i += 4096) {
      for (const item of s.push(big.subarray(i, i + 4096))) if (item.kind === 'bytes') passed += item.data.length;
      expect(passed).toBe(Math.min(i + 4096, big.length));
    }
  });

  it('reads command names as redis does, up to the first NUL: AUTH\\0x and HELLO\\0 are held (review M5)', () => {
    for (const chunk of [1, 3, 1000]) {
      const wire = Buffer.concat([cmd('AUTH\0x', 'alice', 'pw'), cmd('hello\0zzzzzzzz', '3', 'AUTH', 'alice', 'pw'), cmd('AUTHX', 'a', 'b'), cmd('GET', 'k')]);
      const { passed, commands } = scan(wire, chunk);
      expect(commands).toEqual([['AUTH\0x', 'alice', 'pw'], ['hello\0zzzzzzzz', '3', 'AUTH', 'alice', 'pw']]);
      expect(passed).toBe(cmd('AUTHX', 'a', 'b').toString('latin1') + cmd('GET', 'k').toString('latin1'));
    }
    const inline = scan(Buffer.from('"AUTH\\x00x" alice pw\r\nPING\r\n'));
    expect(inline.commands).toEqual([['AUTH\0x', 'alice', 'pw']]);
    expect(inline.passed).toBe('PING\r\n');
  });

  it('reports an inline line longer than redis\'s inline limit instead of passing it (review M5)', () => {
    const line = Buffer.from(`AUTH alice ${'p'.repeat(70 * 1024)}\r\n`);
    for (const chunk of [16 * 1024, line.length]) {
      const { passed, items } = scan(Buffer.concat([line, Buffer.from('PING\r\n')]), chunk);
      expect(passed).toBe('');
      expect(items).toEqual(['too-long']);
    }
  });
});

describe('RespCommandScanner.passes (the fast path)', () => {
  /** Same as scan(), but each chunk first tries passes() and falls back to push(), as the proxy does. */
  function scanFast(wire: Buffer, chunkSize: number): { passed: string; commands: string[][]; fast: number } {
    const scanner = new RespCommandScanner();
    let passed = '';
    let fast = 0;
    const commands: string[][] = [];
    for (let i = 0; i < wire.length; i += chunkSize) {
      const chunk = wire.subarray(i, i + chunkSize);
      if (scanner.passes(chunk)) {
        fast += 1;
        passed += chunk.toString('latin1');
        continue;
      }
      for (const item of scanner.push(chunk)) {
        if (item.kind === 'bytes') passed += item.data.toString('latin1');
        else if (item.kind === 'command') commands.push(item.args.map((a) => a.toString('latin1')));
        else commands.push(['(too-long)']);
      }
    }
    return { passed, commands, fast };
  }

  const wires: Buffer[] = [
    Buffer.concat([cmd('SET', 'k', 'v'.repeat(3000)), cmd('GET', 'k'), cmd('AUTH', 'pw'), cmd('GET', 'b'), cmd('HELLO', '3', 'AUTH', 'u', 'p'), cmd('MGET', 'a', 'b', 'c', 'd', 'e')]),
    Buffer.concat([Buffer.from('PING\r\nAUTH secret\r\nGET x\r\n'), cmd('auth', 'u', 'p'), Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n')]),
    Buffer.concat([cmd('GET', 'a'), Buffer.from('*2\r\n$x\r\n'), cmd('GET', 'never')]),
    Buffer.concat(Array.from({ length: 16 }, (_, i) => cmd('SET', `key:${i}`, 'xxx'))),
  ];

  it('gives exactly what push() alone gives, in every chunking', () => {
    for (const wire of wires) {
      for (const size of [1, 2, 3, 5, 8, 13, 64, 100, 1000, wire.length]) {
        const slow = scan(wire, size);
        const fast = scanFast(wire, size);
        expect(fast.passed).toBe(slow.passed);
        expect(fast.commands).toEqual(slow.commands);
      }
    }
  });

  it('takes whole pipelines of ordinary commands in one go, and declines login commands', () => {
    const pipeline = Buffer.concat(Array.from({ length: 16 }, (_, i) => cmd('SET', `key:${i}`, 'xxx')));
    const scanner = new RespCommandScanner();
    expect(scanner.passes(pipeline)).toBe(true);
    expect(scanner.passes(cmd('GET', 'k'))).toBe(true);
    expect(scanner.passes(cmd('AUTH', 'pw'))).toBe(false);
    expect(scanner.push(cmd('AUTH', 'pw'))).toEqual([{ kind: 'command', args: [Buffer.from('AUTH'), Buffer.from('pw')] }]);
    // A payload split over chunks: the middle chunk is all payload.
    const big = cmd('SET', 'k', 'v'.repeat(100));
    expect(scanner.passes(big.subarray(0, 30))).toBe(true);
    expect(scanner.passes(big.subarray(30, 60))).toBe(true);
    expect(scanner.passes(big.subarray(60))).toBe(true);
    expect(scanner.passes(cmd('AUTH', 'u', 'p'))).toBe(false);
  });
});
