// The minimal DER reading certplane does itself (certificate extensions, signature algorithm): tag-length-value
// items bounded by their container, and OIDs. Pure; throws DerError on malformed or unsupported encodings.

export interface Tlv {
  tag: number;
  /** First byte of the value. */
  start: number;
  /** One past the last byte of the value. */
  end: number;
}

export class DerError extends Error {
  override name = 'DerError';
}

/** The item at `offset`, which must end at or before `limit` (its container's end; default the whole buffer). */
export function readTlv(der: Buffer, offset: number, limit = der.length): Tlv {
  const tag = byteAt(der, offset, limit);
  let len = byteAt(der, offset + 1, limit);
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + byteAt(der, start + i, limit);
    start += n;
  }
  if (start + len > limit) throw new DerError('DER value runs past its container');
  return { tag, start, end: start + len };
}

/** The items inside a constructed item. */
export function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const tlv = readTlv(der, at, parent.end);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's content bytes. */
export function decodeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function byteAt(der: Buffer, i: number, limit: number): number {
  const b = der[i];
  if (b === undefined || i >= limit) throw new DerError('DER value runs past its container');
  return b;
}
