// A real OCSP responder for tests: `openssl ocsp` with its own CA directory (CA certificate, index.txt, a
// delegated responder certificate carrying the OCSPSigning EKU) on a free port. Certificates issued through it
// carry its URL in their AIA and are listed in the index; revoke() rewrites the index line and restarts the
// responder (OpenSSL 3.0 answers the first request after an index edit from the old index).
//
// OpenSSL 3.0 pitfalls handled here: `-port` takes a bare number and listens on every interface (clients use
// 127.0.0.1); a connection that closes without sending a request makes the responder spin at 100% CPU and
// never accept again, so readiness is probed with a real OCSP request, never a bare TCP connect.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCa, issueCertificate, type CertificateOptions, type TestCertificate } from './pki.js';
import { freePort } from './free-port.js';

const execFileAsync = promisify(execFile);

export interface OcspResponderOptions {
  /** Minutes until nextUpdate in every response (`-nmin`); default 5. */
  nextUpdateMinutes?: number;
  /** Sign with this CA instead of a fresh one (several responders for one CA). */
  ca?: TestCertificate;
  /**
   * The certificate and key the responder signs with. Default: a delegated responder certificate issued by the
   * CA with the OCSPSigning EKU. Pass the CA itself for a CA-signed responder, or a certificate from another CA
   * for a responder that signs with the wrong key.
   */
  signer?: TestCertificate;
  /** Share the index file of another responder (same statuses, different signer). */
  indexOf?: OcspResponder;
}

export interface OcspResponder {
  url: string;
  port: number;
  ca: TestCertificate;
  signer: TestCertificate;
  dir: string;
  indexPath: string;
  /** Issues a certificate with this responder's URL in its AIA and lists it as valid in the index. */
  issue(options?: CertificateOptions): Promise<TestCertificate>;
  /** Lists a certificate as valid (V) in the index. */
  addValid(cert: TestCertificate): Promise<void>;
  /** Marks a certificate revoked (R) in the index and restarts the responder so the next answer says so. */
  revoke(cert: TestCertificate, reason?: string, at?: Date): Promise<void>;
  /** Stops the responder process (a "responder down" fault); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** What the responder printed. */
  output(): string;
  /** Stops the process and removes the directory. */
  close(): Promise<void>;
}

export async function startOcspResponder(options: OcspResponderOptions = {}): Promise<OcspResponder> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'certplane-ocsp-'));
  const ca = options.ca ?? (await createCa({ cn: 'certplane test OCSP CA', curve: 'P-256' }));
  const signer =
    options.signer ?? (await issueCertificate(ca, { cn: 'certplane test OCSP responder', curve: 'P-256', eku: ['ocspSigning'], freshKey: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const indexPath = options.indexOf?.indexPath ?? path.join(dir, 'index.txt');
  const caPath = path.join(dir, 'ca.pem');
  const signerPath = path.join(dir, 'responder.pem');
  const keyPath = path.join(dir, 'responder.key');
  await writeFile(caPath, ca.certificate);
  await writeFile(signerPath, signer.certificate);
  await writeFile(keyPath, signer.key, { mode: 0o600 });
  if (options.indexOf === undefined) {
    await writeFile(indexPath, '');
    // Several valid certificates may share a subject (a renewed proxy certificate): without this openssl
    // refuses the index ("Error creating name index").
    await writeFile(`${indexPath}.attr`, 'unique_subject = no\n');
  }
  // A request for serial 1, made offline once: the readiness probe.
  const probePath = path.join(dir, 'probe.der');
  await execFileAsync('openssl', ['ocsp', '-issuer', caPath, '-serial', '0x1', '-no_nonce', '-reqout', probePath]);
  const probe = await readFile(probePath);

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const args = ['ocsp', '-index', indexPath, '-port', String(port), '-rsigner', signerPath, '-rkey', keyPath, '-CA', caPath];
    args.push('-nmin', String(options.nextUpdateMinutes ?? 5));
    const proc = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`openssl ocsp exited:\n${output}`);
      if (await answers(port, probe)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stop();
    throw new Error(`openssl ocsp did not answer on port ${port} within 10 s:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };

  const indexLine = (cert: TestCertificate, status: 'V' | 'R', revoked = ''): string => {
    const serial = cert.x509.serialNumber.toUpperCase();
    const subject = '/' + cert.x509.subject.split('\n').join('/');
    return `${status}\t${opensslTime(new Date(cert.x509.validTo))}\t${revoked}\t${serial}\tunknown\t${subject}\n`;
  };

  const rewrite = async (cert: TestCertificate, line: string): Promise<void> => {
    const serial = cert.x509.serialNumber.toUpperCase();
    const current = await readFile(indexPath, 'utf8');
    const kept = current.split('\n').filter((l) => l !== '' && l.split('\t')[3] !== serial);
    await writeFile(indexPath, kept.map((l) => `${l}\n`).join('') + line);
  };

  const responder: OcspResponder = {
    url,
    port,
    ca,
    signer,
    dir,
    indexPath,
    issue: async (certOptions = {}) => {
      const cert = await issueCertificate(ca, { ocspUrl: url, ...certOptions });
      await responder.addValid(cert);
      return cert;
    },
    addValid: async (cert) => {
      await rewrite(cert, indexLine(cert, 'V'));
      await responder.restart();
    },
    revoke: async (cert, reason = 'keyCompromise', at = new Date(Date.now() - 60_000)) => {
      await rewrite(cert, indexLine(cert, 'R', `${opensslTime(at)},${reason}`));
      await responder.restart();
    },
    stop,
    start,
    restart: async () => {
      if (child === undefined) return;
      await stop();
      await start();
    },
    output: () => output,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (error) {
    await responder.close();
    throw error;
  }
  return responder;
}

/** YYMMDDHHMMSSZ, as index.txt wants it. */
function opensslTime(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

function answers(port: number, probe: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers: { 'content-type': 'application/ocsp-request', 'content-length': probe.length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200));
      },
    );
    request.setTimeout(2000, () => request.destroy(new Error('probe timed out')));
    request.on('error', () => resolve(false));
    request.end(probe);
  });
}
