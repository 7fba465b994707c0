import { describe, expect, it } from 'vitest';
import { groupName, opensslKnowsGroup, sessionKexGroup } from './tls-groups.js';

describe('tls groups', () => {
  it('asks the running OpenSSL whether it knows a group', () => {
    expect(opensslKnowsGroup('X25519')).toBe(true);
    expect(opensslKnowsGroup('NoSuchGroup')).toBe(false);
  });

  it('reads kex_group ([19] INTEGER) from a DER SSL_SESSION and names it', () => {
    // SEQUENCE { INTEGER 1, [4] { OCTET STRING 00 }, [19] { INTEGER 0x11EC } } (the fields OpenSSL writes, shortened)
    const der = Buffer.from('300e020101a403040100b304020211ec', 'hex');
    expect(sessionKexGroup(der)).toBe(0x11ec);
    expect(groupName(0x11ec)).toBe('X25519MLKEM768');
    expect(groupName(0x1d)).toBe('X25519');
    expect(groupName(0x17)).toBe('P-256');
    expect(groupName(0x1234)).toBe('0x1234');
    expect(sessionKexGroup(Buffer.from('3006020101a40100', 'hex'))).toBeUndefined();
    expect(sessionKexGroup(Buffer.from('30ff', 'hex'))).toBeUndefined();
  });
});
