// Certificates for the benchmarks, made once per run with the openssl command line: a CA (ECDSA P-256), server
// certificates for 127.0.0.1 with ECDSA P-256, RSA-2048 (and, for the isolation load, RSA-4096) keys, and a
// client certificate (ECDSA P-256) for the mutual-TLS endpoints. Files under dir; PEM strings returned too.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './fixture.js';

export type KeyKind = 'ecdsa-p256' | 'rsa-2048' | 'rsa-4096';

export interface IssuedCertificate {
  name: string;
  certFile: string;
  keyFile: string;
  /** Certificate then key, for HAProxy's `crt`. */
  pemFile: string;
  certificate: string;
  key: string;
}

export interface BenchPki {
  /** The CA certificate file: --cacert for clients, the trust anchor of mutual-TLS endpoints. */
  caFile: string;
  ca: string;
  issue(name: string, kind: KeyKind, usage: 'server' | 'client', serial?: number): Promise<IssuedCertificate>;
}

function keyArgs(kind: KeyKind): string[] {
  if (kind === 'ecdsa-p256') return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  return ['-newkey', kind === 'rsa-2048' ? 'rsa:2048' : 'rsa:4096'];
}

export async function createBenchPki(dir: string): Promise<BenchPki> {
  const caFile = path.join(dir, 'bench-ca.crt');
  const caKey = path.join(dir, 'bench-ca.key');
  await run('openssl', ['req', '-x509', ...keyArgs('ecdsa-p256'), '-nodes', '-keyout', caKey, '-out', caFile, '-days', '30', '-subj', '/CN=certplane bench CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const ca = await readFile(caFile, 'utf8');
  let nextSerial = 1000;
  return {
    caFile,
    ca,
    async issue(name, kind, usage, serial = nextSerial++) {
      const keyFile = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const certFile = path.join(dir, `${name}.crt`);
      const ext = path.join(dir, `${name}.ext`);
      const subject = usage === 'server' ? '/CN=127.0.0.1' : `/CN=${name}`;
      await run('openssl', ['req', '-new', ...keyArgs(kind), '-nodes', '-keyout', keyFile, '-out', csr, '-subj', subject]);
      await writeFile(
        ext,
        usage === 'server'
          ? 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'
          : 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
      );
      await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(serial), '-days', '30', '-sha256', '-extfile', ext, '-out', certFile]);
      const [certificate, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
      const pemFile = path.join(dir, `${name}.pem`);
      await writeFile(pemFile, `${certificate}${key}`, { mode: 0o600 });
      return { name, certFile, keyFile, pemFile, certificate, key };
    },
  };
}
