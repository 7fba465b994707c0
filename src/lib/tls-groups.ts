// Key-exchange groups and the running OpenSSL (README "Post-quantum key exchange"): whether this runtime knows
// a group (asked once: tls.createSecureContext throws "Failed to set ECDH curve" for a name it does not know),
// and which group a server-side TLS connection negotiated. Node's getEphemeralKeyInfo() answers null on a
// server socket, so the group is read from the session (getSession(): DER of OpenSSL's SSL_SESSION, whose
// field [19] is kex_group, the IANA group number) — only when debug logging asks for it.
import tls from 'node:tls';

const known = new Map<string, boolean>();

/** true when the running OpenSSL accepts `group` as a key-exchange group (probed once per name). */
export function opensslKnowsGroup(group: string): boolean {
  let answer = known.get(group);
  if (answer === undefined) {
    try {
      tls.createSecureContext({ ecdhCurve: group });
      answer = true;
    } catch {
      answer = false;
    }
    known.set(group, answer);
  }
  return answer;
}

/** IANA TLS Supported Groups registry: the names OpenSSL uses for the groups certplane may meet. */
const GROUP_NAMES: Record<number, string> = {
  0x0017: 'P-256',
  0x0018: 'P-384',
  0x0019: 'P-521',
  0x001d: 'X25519',
  0x001e: 'X448',
  0x0200: 'MLKEM512',
  0x0201: 'MLKEM768',
  0x0202: 'MLKEM1024',
  0x11eb: 'SecP256r1MLKEM768',
  0x11ec: 'X25519MLKEM768',
  0x11ed: 'SecP384r1MLKEM1024',
};

/** The group a group number names (`0x…` for one not in the table). */
export function groupName(id: number): string {
  return GROUP_NAMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`;
}

/**
 * The key-exchange group of an established TLS connection, server side included: the kex_group field of the
 * session (DER SEQUENCE, context tag [19] holding an INTEGER). undefined when there is no session or no field.
 */
export function negotiatedGroup(socket: tls.TLSSocket): string | undefined {
  const session = socket.getSession();
  if (session === undefined) return undefined;
  const id = sessionKexGroup(session);
  return id === undefined ? undefined : groupName(id);
}

/** Reads [19] kex_group from a DER SSL_SESSION; undefined if absent or malformed. */
export function sessionKexGroup(der: Buffer): number | undefined {
  const outer = readTlv(der, 0);
  if (outer === undefined || outer.tag !== 0x30) return undefined;
  let offset = outer.start;
  while (offset < outer.end) {
    const field = readTlv(der, offset);
    if (field === undefined || field.end > outer.end) return undefined;
    if (field.tag === 0xb3) {
      const integer = readTlv(der, field.start);
      if (integer === undefined || integer.tag !== 0x02 || integer.end > field.end || integer.end - integer.start > 4) return undefined;
      let value = 0;
      for (let i = integer.start; i < integer.end; i++) value = value * 256 + (der[i] ?? 0);
      return value;
    }
    offset = field.end;
  }
  return undefined;
}

function readTlv(der: Buffer, offset: number): { tag: number; start: number; end: number } | undefined {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined) return undefined;
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const bytes = first & 0x7f;
    if (bytes === 0 || bytes > 4) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) {
      const byte = der[start + i];
      if (byte === undefined) return undefined;
      length = length * 256 + byte;
    }
    start += bytes;
  }
  const end = start + length;
  return end > der.length ? undefined : { tag, start, end };
}
