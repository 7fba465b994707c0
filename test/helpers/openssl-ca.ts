// A small real `openssl ca` in a temp dir (index.txt, serial, crlnumber), for the CRL tests: a root or an
// intermediate CA, client certificates (optionally with a CRL distribution point), revocation and
// `openssl ca -gencrl` CRLs with chosen update times.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

export interface IssuedCertificate {
  certificate: string;
  key: string;
  /** Certificate then the CA chain up to (not including) the root. */
  chain: string;
  certPath: string;
  keyPath: string;
  chainPath: string;
}

export interface CaOptions {
  cn: string;
  /** Signs this CA (an intermediate); absent: a self-signed root. */
  parent?: OpensslCa;
  /** The CA certificate's own cRLDistributionPoints URI. */
  cdp?: string;
}

let counter = 0;

export class OpensslCa {
  certificate = '';
  /** This CA and its parents (not the root). */
  chainAbove = '';

  private constructor(
    readonly dir: string,
    readonly cn: string,
    private readonly parent: OpensslCa | undefined,
  ) {}

  static async create(options: CaOptions, baseDir?: string): Promise<OpensslCa> {
    const dir = baseDir === undefined ? await mkdtemp(path.join(os.tmpdir(), 'certplane-ca-')) : path.join(baseDir, `ca-${++counter}`);
    await mkdir(path.join(dir, 'newcerts'), { recursive: true });
    await writeFile(path.join(dir, 'index.txt'), '');
    await writeFile(path.join(dir, 'serial'), `${(Date.now() * 1000 + ++counter).toString(16).toUpperCase().padStart(16, '0')}\n`);
    await writeFile(path.join(dir, 'crlnumber'), '1000\n');
    await writeFile(path.join(dir, 'openssl.cnf'), config(dir));
    const ca = new OpensslCa(dir, options.cn, options.parent);
    const ext = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash'];
    if (options.cdp !== undefined) ext.push(`crlDistributionPoints=URI:${options.cdp}`);
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    if (options.parent === undefined) {
      await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', `/CN=${options.cn}`, '-days', '3650', '-sha256', ...ext.flatMap((e) => ['-addext', e]), '-out', 'ca.pem'], dir);
    } else {
      await openssl(['req', '-new', '-key', 'ca.key', '-subj', `/CN=${options.cn}`, '-out', 'ca.csr'], dir);
      await writeFile(path.join(dir, 'ca.ext'), `[ext]\n${ext.join('\n')}\nauthorityKeyIdentifier=keyid\n`);
      await options.parent.sign(path.join(dir, 'ca.csr'), path.join(dir, 'ca.ext'), path.join(dir, 'ca.pem'));
    }
    ca.certificate = await readFile(path.join(dir, 'ca.pem'), 'utf8');
    ca.chainAbove = options.parent === undefined ? '' : ca.certificate + options.parent.chainAbove;
    return ca;
  }

  private async sign(csr: string, extfile: string, out: string): Promise<void> {
    await openssl(['ca', '-batch', '-config', 'openssl.cnf', '-notext', '-in', csr, '-out', out, '-extfile', extfile, '-extensions', 'ext', '-days', '365'], this.dir);
  }

  /** A client certificate (clientAuth) issued by this CA, optionally with a cRLDistributionPoints URI. */
  async issueClient(cn: string, options: { cdp?: string } = {}): Promise<IssuedCertificate> {
    const id = `client-${++counter}`;
    const keyPath = path.join(this.dir, `${id}.key`);
    const certPath = path.join(this.dir, `${id}.pem`);
    const chainPath = path.join(this.dir, `${id}-chain.pem`);
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath], this.dir);
    await openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-out', `${id}.csr`], this.dir);
    const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', 'authorityKeyIdentifier=keyid'];
    if (options.cdp !== undefined) ext.push(`crlDistributionPoints=URI:${options.cdp}`);
    await writeFile(path.join(this.dir, `${id}.ext`), `[ext]\n${ext.join('\n')}\n`);
    await this.sign(`${id}.csr`, `${id}.ext`, certPath);
    const certificate = await readFile(certPath, 'utf8');
    const chain = certificate + this.chainAbove;
    await writeFile(chainPath, chain);
    return { certificate, key: await readFile(keyPath, 'utf8'), chain, certPath, keyPath, chainPath };
  }

  /** Marks a certificate this CA issued as revoked in index.txt. */
  async revoke(certificate: string): Promise<void> {
    const file = path.join(this.dir, `revoke-${++counter}.pem`);
    await writeFile(file, certificate);
    await openssl(['ca', '-config', 'openssl.cnf', '-revoke', file, '-crl_reason', 'keyCompromise'], this.dir);
  }

  /** `openssl ca -gencrl`; times as Dates (default: now-1 min … now+1 day). */
  async crl(options: { lastUpdate?: Date; nextUpdate?: Date } = {}): Promise<string> {
    const out = `crl-${++counter}.pem`;
    const last = options.lastUpdate ?? new Date(Date.now() - 60_000);
    const next = options.nextUpdate ?? new Date(Date.now() + 86_400_000);
    await openssl(['ca', '-config', 'openssl.cnf', '-gencrl', '-crl_lastupdate', asn1Time(last), '-crl_nextupdate', asn1Time(next), '-out', out], this.dir);
    return readFile(path.join(this.dir, out), 'utf8');
  }

  /** The CRL in DER. */
  async crlDer(options: { lastUpdate?: Date; nextUpdate?: Date } = {}): Promise<Buffer> {
    const pem = await this.crl(options);
    const body = pem.replace(/-----(BEGIN|END) X509 CRL-----/g, '').replace(/\s+/g, '');
    return Buffer.from(body, 'base64');
  }

  async remove(): Promise<void> {
    if (this.parent === undefined) await rm(this.dir, { recursive: true, force: true });
  }
}

function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function config(dir: string): string {
  return `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.pem
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 1
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
`;
}
