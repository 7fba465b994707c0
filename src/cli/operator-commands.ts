// Operator commands (rladmin-style) as a client of the REST API:
//   certplane cluster certificate set <name> certificate_file <path> [key_file <path>]
//   certplane cluster certificate list
//   certplane status
// Connection from CERTPLANE_URL (default https://127.0.0.1:9443), CERTPLANE_USER / CERTPLANE_PASSWORD, and
// CERTPLANE_CACERT (PEM file to trust; without it the self-signed api certificate is accepted, like curl -k).
import { readFile } from 'node:fs/promises';
import https from 'node:https';

export const OPERATOR_USAGE = `  certplane cluster certificate set <name> certificate_file <path> [key_file <path>]
  certplane cluster certificate list
  certplane status
  (environment: CERTPLANE_URL, CERTPLANE_USER, CERTPLANE_PASSWORD, CERTPLANE_CACERT)`;

interface Connection {
  url: URL;
  auth: string;
  ca: string | undefined;
}

export async function runOperatorCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const connection: Connection = {
    url: new URL(env.CERTPLANE_URL ?? 'https://127.0.0.1:9443'),
    auth: `${env.CERTPLANE_USER ?? ''}:${env.CERTPLANE_PASSWORD ?? ''}`,
    ca: env.CERTPLANE_CACERT === undefined ? undefined : await readFile(env.CERTPLANE_CACERT, 'utf8'),
  };
  const words = argv.join(' ');
  if (words === 'status') {
    const { status, body } = await request(connection, 'GET', '/v1/bootstrap');
    process.stdout.write(`${status === 200 ? 'ready' : 'not ready'}: ${body}\n`);
    return status === 200 ? 0 : 1;
  }
  if (words === 'cluster certificate list') {
    const { status, body } = await request(connection, 'GET', '/v1/cluster/certificates');
    if (status !== 200) return fail(status, body);
    for (const name of Object.keys(JSON.parse(body) as object).filter((k) => k.endsWith('_cert'))) {
      process.stdout.write(`${name.slice(0, -'_cert'.length)}\n`);
    }
    return 0;
  }
  const [a, b, c, name, certWord, certPath, keyWord, keyPath] = argv;
  if (a === 'cluster' && b === 'certificate' && c === 'set' && name !== undefined && certWord === 'certificate_file' && certPath !== undefined && (keyWord === undefined || (keyWord === 'key_file' && keyPath !== undefined))) {
    const item: Record<string, string> = { name, certificate: await readFile(certPath, 'utf8') };
    if (keyPath !== undefined) item.key = await readFile(keyPath, 'utf8');
    const { status, body } = await request(connection, 'PUT', '/v1/cluster/certificates', { certificates: [item] });
    if (status !== 200) return fail(status, body);
    process.stdout.write(`Set ${name} certificate to contents of file ${certPath}\n`);
    return 0;
  }
  process.stderr.write(`certplane: unknown command '${words}'\nusage:\n${OPERATOR_USAGE}\n`);
  return 2;
}

function fail(status: number, body: string): number {
  process.stderr.write(`certplane: HTTP ${status}: ${body}\n`);
  return 1;
}

function request(connection: Connection, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, connection.url),
      {
        method,
        auth: connection.auth,
        ca: connection.ca,
        rejectUnauthorized: connection.ca !== undefined,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
