// The dns-01 hook (issue 15.2): a command named in this node's configuration (--acme-dns-hook, never through
// the REST API, which would let update_cluster run programs on the nodes) that publishes or removes the TXT
// record of a challenge: `<command> set|clear <record name> <value>`, also in CERTPLANE_ACME_RECORD_NAME,
// CERTPLANE_ACME_RECORD_VALUE and CERTPLANE_ACME_IDENTIFIER. Exit 0 once the record is published (set) or
// gone (clear); anything else, or no exit within the timeout, fails the challenge.
import { execFile } from 'node:child_process';
import type { DnsHook } from './acme-order.js';

export function commandDnsHook(command: string, timeoutMs: number): DnsHook {
  const run = (action: 'set' | 'clear', recordName: string, value: string, identifier: string): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(
        command,
        [action, recordName, value],
        {
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 64 * 1024,
          env: { ...process.env, CERTPLANE_ACME_RECORD_NAME: recordName, CERTPLANE_ACME_RECORD_VALUE: value, CERTPLANE_ACME_IDENTIFIER: identifier },
        },
        (error, _stdout, stderr) => {
          if (error === null) return resolve();
          const why = error.killed ? `did not exit within ${timeoutMs} ms` : `failed (${error.code ?? error.signal ?? 'error'})`;
          const detail = String(stderr).trim().slice(0, 300);
          reject(new Error(`the dns-01 hook "${action} ${recordName}" ${why}${detail === '' ? '' : `: ${detail}`}`));
        },
      );
    });
  return { set: (r, v, i) => run('set', r, v, i), clear: (r, v, i) => run('clear', r, v, i) };
}
