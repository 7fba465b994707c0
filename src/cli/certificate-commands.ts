// `certplane cluster certificate set|list|delete` (digest §2.10): PUT /v1/cluster/certificates with the
// contents of local files, GET /v1/cluster/certificates, DELETE /v1/cluster/certificates/{name}.
// certplane addition: `set` takes several `<name> certificate_file <path> [key_file <path>]` groups and sends
// them in one request (all or nothing, like the API). Changes wait for every node: progress on a terminal.
import { X509Certificate } from 'node:crypto';
import { callApi, CliUsageError, readLocalFile, type ApiConnection, type CliIo } from './cli-api-client.js';
import { withProgress } from './progress.js';

export const CERTIFICATE_USAGE = `  certplane cluster certificate set <name> certificate_file <path> [key_file <path>] [<name> certificate_file …]
  certplane cluster certificate list
  certplane cluster certificate delete <name>`;

/** args: what follows `cluster certificate`. */
export async function runCertificateCommand(args: string[], connection: () => Promise<ApiConnection>, io: CliIo): Promise<void> {
  const [verb, ...rest] = args;
  if (verb === 'set') return setCertificate(rest, connection, io);
  if (verb === 'list' && rest.length === 0) return listCertificates(await connection(), io);
  if (verb === 'delete' && rest.length === 1) return deleteCertificate(rest[0]!, await connection(), io);
  throw new CliUsageError(`unknown or incomplete command 'cluster certificate ${args.join(' ')}'`);
}

interface CertificateFiles {
  name: string;
  certPath: string;
  keyPath: string | undefined;
}

/** `<name> certificate_file <path> [key_file <path>]`, once or more. */
function parseSetArgs(args: string[]): CertificateFiles[] {
  const groups: CertificateFiles[] = [];
  for (let i = 0; i < args.length; ) {
    const [name, certWord, certPath, keyWord, keyPath] = args.slice(i, i + 5);
    if (name === undefined || certWord !== 'certificate_file' || certPath === undefined) return [];
    if (keyWord === 'key_file') {
      if (keyPath === undefined) return [];
      groups.push({ name, certPath, keyPath });
      i += 5;
    } else {
      groups.push({ name, certPath, keyPath: undefined });
      i += 3;
    }
  }
  return groups;
}

async function setCertificate(args: string[], connection: () => Promise<ApiConnection>, io: CliIo): Promise<void> {
  const groups = parseSetArgs(args);
  if (groups.length === 0) throw new CliUsageError(`expected 'cluster certificate set <name> certificate_file <path> [key_file <path>]' (the group may repeat)`);
  const certificates: Array<{ name: string; certificate: string; key?: string }> = [];
  for (const { name, certPath, keyPath } of groups) {
    const item: { name: string; certificate: string; key?: string } = { name, certificate: await readLocalFile(certPath) };
    if (keyPath !== undefined) item.key = await readLocalFile(keyPath);
    certificates.push(item);
  }
  const api = await connection();
  const what = groups.length === 1 ? `the ${groups[0]!.name} certificate` : `${groups.length} certificates`;
  await withProgress(`setting ${what}; waiting for every node to apply`, () => callApi(api, 'PUT', '/v1/cluster/certificates', { certificates }), io.progress);
  for (const { name, certPath } of groups) io.out(`Set ${name} certificate to contents of file ${certPath}\n`);
}

async function listCertificates(connection: ApiConnection, io: CliIo): Promise<void> {
  const body = await callApi<Record<string, string>>(connection, 'GET', '/v1/cluster/certificates');
  const rows = Object.entries(body)
    .filter(([field]) => field.endsWith('_cert'))
    .map(([field, pem]) => [field.slice(0, -'_cert'.length), ...describeCertificate(pem)] as const);
  const width = Math.max(0, ...rows.map(([name]) => name.length));
  for (const [name, validTo, subject] of rows) io.out(`${name.padEnd(width)}  ${validTo}  ${subject}\n`.replace(/\s+\n$/, '\n'));
}

/** [valid until, subject] of the first certificate of a PEM chain; placeholders when it does not parse. */
function describeCertificate(pem: string): [string, string] {
  try {
    const cert = new X509Certificate(pem);
    return [`valid until ${new Date(cert.validTo).toISOString()}`, cert.subject.split('\n').join(', ')];
  } catch {
    return ['(unparsable)', ''];
  }
}

async function deleteCertificate(name: string, connection: ApiConnection, io: CliIo): Promise<void> {
  await withProgress(`deleting the ${name} certificate; waiting for every node to apply`, () => callApi(connection, 'DELETE', `/v1/cluster/certificates/${encodeURIComponent(name)}`), io.progress);
  io.out(`Deleted ${name} certificate\n`);
}
