// `certplane cluster ocsp …` (digest §3.5, rladmin cluster ocsp): certificate_compatible and config from
// GET/PUT /v1/ocsp, status from GET /v1/ocsp/status, test_certificate from POST /v1/ocsp/test. Values are
// validated by the API only (one set of rules): a value the API refuses is an API error (exit 1).
import { callApi, CliFailure, CliUsageError, type ApiConnection, type CliIo } from './cli-api-client.js';
import { withProgress } from './progress.js';

export const OCSP_USAGE = `  certplane cluster ocsp certificate_compatible
  certplane cluster ocsp config [<param> [set <value>]]
      params: ocsp_functionality (enabled|disabled), query_frequency (60-86400 s), recovery_frequency (60-86400 s),
              recovery_max_tries (1-100), response_timeout (1-60 s); responder_url is display-only
  certplane cluster ocsp status
  certplane cluster ocsp test_certificate`;

interface OcspConfig {
  ocsp_functionality: boolean;
  query_frequency: number;
  recovery_frequency: number;
  recovery_max_tries: number;
  responder_url: string;
  response_timeout: number;
}

type OcspParam = keyof OcspConfig;

/** One display line per parameter, rladmin style ("Recovery frequency of the OCSP server is 60 seconds"). */
const DISPLAY: Record<OcspParam, (config: OcspConfig) => string> = {
  ocsp_functionality: (c) => `OCSP functionality is ${c.ocsp_functionality ? 'enabled' : 'disabled'}`,
  responder_url: (c) =>
    c.responder_url === '' ? 'Responder URL of the OCSP server is not set (the proxy certificate has no OCSP URI)' : `Responder URL of the OCSP server is ${c.responder_url}`,
  query_frequency: (c) => `Query frequency of the OCSP server is ${c.query_frequency} seconds`,
  recovery_frequency: (c) => `Recovery frequency of the OCSP server is ${c.recovery_frequency} seconds`,
  recovery_max_tries: (c) => `Recovery max tries of the OCSP server is ${c.recovery_max_tries}`,
  response_timeout: (c) => `Response timeout of the OCSP server is ${c.response_timeout} seconds`,
};

const PARAMS = Object.keys(DISPLAY) as OcspParam[];

function isParam(value: string): value is OcspParam {
  return (PARAMS as string[]).includes(value);
}

/** args: what follows `cluster ocsp`. */
export async function runOcspCommand(args: string[], connection: () => Promise<ApiConnection>, io: CliIo): Promise<void> {
  const [verb, ...rest] = args;
  if (verb === 'certificate_compatible' && rest.length === 0) return certificateCompatible(await connection(), io);
  if (verb === 'config') return config(rest, connection, io);
  if (verb === 'status' && rest.length === 0) return printStatus(await callApi(await connection(), 'GET', '/v1/ocsp/status'), io);
  if (verb === 'test_certificate' && rest.length === 0) {
    const api = await connection();
    return printStatus(await withProgress('querying the OCSP responder', () => callApi(api, 'POST', '/v1/ocsp/test'), io.progress), io);
  }
  throw new CliUsageError(`unknown or incomplete command 'cluster ocsp ${args.join(' ')}'`);
}

async function certificateCompatible(connection: ApiConnection, io: CliIo): Promise<void> {
  const current = await callApi<OcspConfig>(connection, 'GET', '/v1/ocsp');
  if (current.responder_url === '') {
    throw new CliFailure('Error: the proxy certificate has no OCSP URI (Authority Information Access); install a CA-issued proxy certificate with one');
  }
  io.out(`Success. OCSP URI is ${current.responder_url}\n`);
}

async function config(args: string[], connection: () => Promise<ApiConnection>, io: CliIo): Promise<void> {
  const [param, setWord, value, ...extra] = args;
  if (param !== undefined && !isParam(param)) throw new CliUsageError(`unknown OCSP parameter '${param}' (one of ${PARAMS.join(', ')})`);
  if (param === undefined || setWord === undefined) {
    const current = await callApi<OcspConfig>(await connection(), 'GET', '/v1/ocsp');
    for (const shown of param === undefined ? PARAMS : [param]) io.out(`${DISPLAY[shown](current)}\n`);
    return;
  }
  if (setWord !== 'set' || value === undefined || extra.length > 0) throw new CliUsageError(`expected 'cluster ocsp config ${param} set <value>'`);
  if (param === 'responder_url') throw new CliUsageError('responder_url is display-only: it comes from the OCSP URI of the proxy certificate');
  const updated = await callApi<OcspConfig>(await connection(), 'PUT', '/v1/ocsp', { [param]: wireValue(param, value) });
  io.out(`${DISPLAY[param](updated)}\n`);
}

/** enabled/disabled → boolean, decimal integers → numbers; anything else is sent as typed and the API judges it. */
function wireValue(param: Exclude<OcspParam, 'responder_url'>, value: string): unknown {
  if (param === 'ocsp_functionality') return value === 'enabled' ? true : value === 'disabled' ? false : value;
  return /^-?[0-9]+$/.test(value) ? Number(value) : value;
}

const STATUS_FIELDS = ['produced_at', 'responder_url', 'this_update', 'next_update', 'revocation_time'] as const;
/** certplane's diagnostics of the last query, shown when present. */
const DIAGNOSTIC_FIELDS = ['last_query_time', 'last_query_error', 'consecutive_failures'] as const;

function printStatus(status: Record<string, unknown>, io: CliIo): void {
  io.out(`OCSP certificate status is: ${String(status.cert_status ?? 'UNKNOWN')}\n`);
  for (const field of [...STATUS_FIELDS, ...DIAGNOSTIC_FIELDS]) {
    const value = status[field];
    if (value !== undefined && value !== null && value !== '') io.out(`${field}: ${String(value)}\n`);
  }
}
