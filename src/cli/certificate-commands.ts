// `certplane cluster certificate set|list|delete` (digest §2.10): PUT /v1/cluster/certificates with the
// contents of local files, GET /v1/cluster/certificates, DELETE /v1/cluster/certificates/{name}.
import { X509Certificate } from 'node:crypto';
import { callApi, CliUsageError, readLocalFile, type ApiConnection, type CliIo } from './cli-api-client.js';

export const CERTIFICATE_USAGE = `  certplane cluster certificate set <name> certificate_file <path> [key_file <path>]
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

async function setCertificate(args: string[], connection: () => Promise<ApiConnection>, io: CliIo): Promise<void> {
  const [name, certWord, certPath, keyWord, keyPath, ...extra] = args;
  const wellFormed =
    name !== undefined &&
    certWord === 'certificate_file' &&
    certPath !== undefined &&
    extra.length === 0 &&
    (keyWord === undefined || (keyWord === 'key_file' && keyPath !== undefined));
  if (!wellFormed) throw new CliUsageError(`expected 'cluster certificate set <name> certificate_file <path> [key_file <path>]'`);
  const item: { name: string; certificate: string; key?: string } = { name, certificate: await readLocalFile(certPath) };
  if (keyPath !== undefined) item.key = await readLocalFile(keyPath);
  await callApi(await connection(), 'PUT', '/v1/cluster/certificates', { certificates: [item] });
  io.out(`Set ${name} certificate to contents of file ${certPath}\n`);
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
  await callApi(connection, 'DELETE', `/v1/cluster/certificates/${encodeURIComponent(name)}`);
  io.out(`Deleted ${name} certificate\n`);
}
