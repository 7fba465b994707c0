// A real SMTP server for alert e-mail tests: Debian's aiosmtpd (python3-aiosmtpd) with its Mailbox handler,
// which stores every message it accepts in a maildir. Listens on a free loopback port; messages() parses what
// arrived. Debian's python3 is used explicitly (the python3 first on PATH may be another one).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

export interface ReceivedMail {
  from: string;
  to: string;
  subject: string;
  body: string;
  raw: string;
}

export interface SmtpServer {
  port: number;
  messages(): Promise<ReceivedMail[]>;
  output(): string;
  close(): Promise<void>;
}

function parseMail(raw: string): ReceivedMail {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  // Unfold continuation lines, then read the headers we need.
  const headers = head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
  const header = (name: string): string => headers.find((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim() ?? '';
  let body = rest.join('\n\n');
  if (/quoted-printable/i.test(header('Content-Transfer-Encoding'))) {
    body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return { from: header('From'), to: header('To'), subject: header('Subject'), body, raw };
}

export async function startSmtpServer(): Promise<SmtpServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-smtp-'));
  const maildir = path.join(dir, 'maildir');
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`aiosmtpd did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    output: () => output,
    async messages() {
      const files = await readdir(path.join(maildir, 'new')).catch(() => [] as string[]);
      const mails = await Promise.all(files.map(async (f) => parseMail(await readFile(path.join(maildir, 'new', f), 'utf8'))));
      return mails;
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
