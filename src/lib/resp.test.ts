import { describe, expect, it } from 'vitest';
import { encodeCommand, RespError, RespReader } from './resp.js';

describe('RESP', () => {
  it('encodes commands as arrays of bulk strings', () => {
    expect(encodeCommand(['AUTH', 'u', 'p w']).toString()).toBe('*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$3\r\np w\r\n');
  });

  it('parses replies split across chunks, in order', () => {
    const reader = new RespReader();
    const wire = '+OK\r\n-ERR nope\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n';
    const replies: unknown[] = [];
    for (const ch of wire) {
      reader.push(Buffer.from(ch));
      for (let r = reader.next(); r !== undefined; r = reader.next()) replies.push(r.value);
    }
    expect(replies[0]).toBe('OK');
    expect(replies[1]).toBeInstanceOf(RespError);
    expect((replies[1] as RespError).message).toBe('ERR nope');
    expect(replies.slice(2)).toEqual([42, 'hello', null, ['a', [1]]]);
    expect(reader.rest().length).toBe(0);
  });

  it('refuses a reply that is not RESP', () => {
    const reader = new RespReader();
    reader.push(Buffer.from('HTTP/1.1 400\r\n'));
    expect(() => reader.next()).toThrow(RespError);
  });
});
