import { describe, expect, it } from 'vitest';
import { encodeMessage, LineDecoder, MAX_LINE_BYTES } from './protocol.js';

describe('control protocol framing', () => {
  it('splits JSON lines across and within chunks', () => {
    const decoder = new LineDecoder<{ type: string; id: number }>();
    const a = encodeMessage({ type: 'remove', id: 1, uid: 3 });
    const b = encodeMessage({ type: 'shutdown', id: 2 });
    const bytes = Buffer.from(a + b);
    const out = [...decoder.push(bytes.subarray(0, 5)), ...decoder.push(bytes.subarray(5, a.length + 3)), ...decoder.push(bytes.subarray(a.length + 3))];
    expect(out).toEqual([{ type: 'remove', id: 1, uid: 3 }, { type: 'shutdown', id: 2 }]);
  });

  it('keeps key material intact (newlines in PEM are escaped by JSON)', () => {
    const decoder = new LineDecoder<{ certificate: string; key: string }>();
    const message = { type: 'certificate' as const, id: 1, name: 'proxy', certificate: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n', key: 'k\n' };
    expect(decoder.push(Buffer.from(encodeMessage(message)))).toEqual([message]);
  });

  it('refuses a line longer than the limit instead of buffering without bound', () => {
    const decoder = new LineDecoder();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    expect(() => {
      for (let i = 0; i <= MAX_LINE_BYTES / chunk.length; i++) decoder.push(chunk);
    }).toThrow(/too long/);
  });
});
