// `certplane status`: is the node ready, and how long does every certificate of the cluster stay valid
// (README "Status at a glance"). Every certificate with its days left, coloured (green; yellow within the
// cluster's alert threshold, alert_settings.cluster_certs_about_to_expire / node_internal_certs_about_to_expire,
// default 45 days; red under 7 days or expired), and the OCSP status of the proxy certificate. The exit status
// says whether anything needs attention, so cron can run it (STATUS_EXIT below). Colour only on a terminal and
// never with NO_COLOR; FORCE_COLOR forces it (e.g. a pager).
import { X509Certificate } from 'node:crypto';
import { callApi, CliFailure, CliUsageError, sendRequest, type ApiConnection, type CliIo } from './cli-api-client.js';

/** Exit status of `certplane status` (1 and 2 as every command: request failed, usage error). */
export const STATUS_EXIT = {
  ok: 0,
  /** A certificate expires within the alert threshold, or OCSP queries fail with no verified response cached. */
  warning: 3,
  /** A certificate expires within 7 days or has expired, or OCSP reports the proxy certificate revoked. */
  critical: 4,
} as const;

export const STATUS_USAGE = `  certplane status [--threshold DAYS]      readiness, every certificate with days left, OCSP
                                           exit 3: a certificate within the alert threshold (or OCSP failing
                                           with no verified response left),
                                           exit 4: one within 7 days or expired (or OCSP revoked)`;

/** RS's default expiry threshold (digest §5.4, DESIGN.md) when the cluster document has none. */
export const DEFAULT_THRESHOLD_DAYS = 45;
export const CRITICAL_DAYS = 7;
const DAY_MS = 86_400_000;
/** Certificates covered by node_internal_certs_about_to_expire rather than cluster_certs_about_to_expire. */
const INTERNAL = new Set(['ccs_internode_encryption', 'data_internode_encryption']);

export type Level = 'ok' | 'warning' | 'critical';

export interface CertificateRow {
  name: string;
  notAfter: Date;
  subjectCn: string;
  issuer: string;
  /** Days of the threshold that applies to it. */
  thresholdDays: number;
}

export interface OcspLine {
  text: string;
  level: Level;
}

const COLORS: Record<Level, string> = { ok: '\u001b[32m', warning: '\u001b[33m', critical: '\u001b[31m' };
const RESET = '\u001b[0m';

/** Colour when NO_COLOR is unset (or empty) and either FORCE_COLOR asks for it or stdout is a terminal. */
export function wantsColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return isTTY;
}

/** Whole days left, rounded down (negative once expired). */
export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

export function levelOf(row: CertificateRow, now: Date): Level {
  const left = row.notAfter.getTime() - now.getTime();
  if (left < CRITICAL_DAYS * DAY_MS) return 'critical';
  if (left <= row.thresholdDays * DAY_MS) return 'warning';
  return 'ok';
}

const STATE_TEXT: Record<Level, string> = { ok: 'ok', warning: 'expires soon', critical: 'EXPIRES' };

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

/** The certificate table: name, days left (coloured), expiry (UTC), state, subject CN, issuer; the worst level. */
export function formatCertificates(rows: readonly CertificateRow[], now: Date, color: boolean): { text: string; level: Level } {
  const header = ['CERTIFICATE', 'DAYS LEFT', 'EXPIRES (UTC)', 'STATE', 'SUBJECT CN', 'ISSUER'];
  let worst: Level = 'ok';
  const cells = rows.map((row) => {
    const level = levelOf(row, now);
    if (level === 'critical' || (level === 'warning' && worst === 'ok')) worst = level;
    const days = daysLeft(row.notAfter, now);
    const state = days < 0 ? 'EXPIRED' : level === 'ok' ? STATE_TEXT.ok : `${STATE_TEXT[level]} (<= ${level === 'critical' ? CRITICAL_DAYS : row.thresholdDays} d)`;
    return { level, values: [row.name, String(days), row.notAfter.toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ''), state, row.subjectCn, row.issuer] };
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c.values[i] ?? '').length)));
  const line = (values: string[], level?: Level): string =>
    values
      .map((value, i) => {
        const padded = i === values.length - 1 ? value : pad(value, widths[i]!);
        // Colour the days-left and state columns only; padding stays outside the escape codes.
        if (!color || level === undefined || (i !== 1 && i !== 3)) return padded;
        return `${COLORS[level]}${value}${RESET}${padded.slice(value.length)}`;
      })
      .join('  ')
      .trimEnd();
  const lines = [line(header), ...cells.map((c) => line(c.values, c.level))];
  return { text: `${lines.join('\n')}\n`, level: worst };
}

/** Reads the leaf of a `<name>_cert` PEM; undefined when it does not parse. */
function rowOf(name: string, pem: string, thresholdDays: number): CertificateRow | undefined {
  try {
    const cert = new X509Certificate(pem);
    const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
    const issuer = /^CN=(.*)$/m.exec(cert.issuer)?.[1] ?? cert.issuer.split('\n').join(',');
    return { name, notAfter: new Date(cert.validTo), subjectCn: cn, issuer, thresholdDays };
  } catch {
    return undefined;
  }
}

function thresholdOf(setting: unknown): number | undefined {
  const threshold = (setting as { threshold?: unknown } | undefined)?.threshold;
  return typeof threshold === 'string' && /^[0-9]{1,5}$/.test(threshold) ? Number(threshold) : undefined;
}

interface OcspStatusBody {
  cert_status?: string;
  responder_url?: string;
  last_query_time?: string;
  last_query_error?: string;
  next_update?: string;
}

/** OCSP of the proxy certificate as one line; a caller without the OCSP permissions sees that it could not look. */
async function ocspLine(connection: ApiConnection): Promise<OcspLine> {
  const settings = await sendRequest(connection, 'GET', '/v1/ocsp');
  if (settings.status === 401 || settings.status === 403) return { text: 'OCSP: not visible to this user (needs view_ocsp_config and view_ocsp_status)', level: 'ok' };
  if (settings.status !== 200) return { text: `OCSP: unavailable (HTTP ${settings.status})`, level: 'ok' };
  const config = JSON.parse(settings.body) as { ocsp_functionality?: boolean };
  if (config.ocsp_functionality !== true) return { text: 'OCSP: disabled', level: 'ok' };
  const answer = await sendRequest(connection, 'GET', '/v1/ocsp/status');
  if (answer.status !== 200) return { text: `OCSP: enabled, status unavailable (HTTP ${answer.status})`, level: 'ok' };
  const status = JSON.parse(answer.body) as OcspStatusBody;
  const parts = [`OCSP: enabled, proxy certificate ${status.cert_status ?? 'UNKNOWN'}`];
  if (status.last_query_time !== undefined) parts.push(`last query ${status.last_query_time}`);
  if (status.next_update !== undefined) parts.push(`next update ${status.next_update}`);
  if (status.last_query_error !== undefined) parts.push(`last query failed: ${status.last_query_error}`);
  // A failed query while a verified response is still cached (and stapled) is shown, not alarming; failing with
  // nothing cached any more (recovery_max_tries used up: RS's ocsp_query_failed) is.
  const level: Level = status.cert_status === 'REVOKED' ? 'critical' : status.last_query_error !== undefined && status.cert_status !== 'GOOD' ? 'warning' : 'ok';
  return { text: parts.join(', '), level };
}

function parseArgs(args: string[]): { thresholdDays: number | undefined } {
  let thresholdDays: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg === '--threshold' ? args[++i] : arg.startsWith('--threshold=') ? arg.slice('--threshold='.length) : undefined;
    if (value === undefined) throw new CliUsageError(arg === '--threshold' ? '--threshold needs a number of days' : `status: unknown argument '${arg}'`);
    if (!/^[0-9]{1,5}$/.test(value)) throw new CliUsageError(`--threshold must be a whole number of days, not '${value}'`);
    thresholdDays = Number(value);
  }
  return { thresholdDays };
}

/** Runs `certplane status`; returns the exit status (STATUS_EXIT), throws CliFailure / CliUsageError. */
export async function runStatusCommand(args: string[], connect: () => Promise<ApiConnection>, io: CliIo, color: boolean, now: () => Date = () => new Date()): Promise<number> {
  const { thresholdDays } = parseArgs(args);
  const connection = await connect();
  const body = await callApi<{ bootstrap_status?: { state?: string }; local_node_info?: { uid?: unknown } }>(connection, 'GET', '/v1/bootstrap');
  const state = body.bootstrap_status?.state ?? 'unknown';
  io.out(`${state === 'completed' ? 'ready' : 'not ready'}: bootstrap ${state}, node ${String(body.local_node_info?.uid ?? '?')} at ${connection.url.origin}\n`);
  if (state !== 'completed') throw new CliFailure(`the node at ${connection.url.origin} is not ready (bootstrap ${state})`);

  if (connection.auth === undefined && connection.clientCert === undefined) {
    // Readiness needs no login; the certificates do. Without credentials: readiness only, as before.
    io.out('certificates: not shown without credentials (CERTPLANE_USER and CERTPLANE_PASSWORD, or CERTPLANE_CERT and CERTPLANE_KEY)\n');
    return STATUS_EXIT.ok;
  }
  const [certificates, cluster] = await Promise.all([
    callApi<Record<string, unknown>>(connection, 'GET', '/v1/cluster/certificates'),
    callApi<{ alert_settings?: Record<string, unknown> }>(connection, 'GET', '/v1/cluster'),
  ]);
  const clusterThreshold = thresholdDays ?? thresholdOf(cluster.alert_settings?.cluster_certs_about_to_expire) ?? DEFAULT_THRESHOLD_DAYS;
  const internalThreshold = thresholdDays ?? thresholdOf(cluster.alert_settings?.node_internal_certs_about_to_expire) ?? DEFAULT_THRESHOLD_DAYS;
  const rows: CertificateRow[] = [];
  for (const [key, value] of Object.entries(certificates)) {
    if (!key.endsWith('_cert') || typeof value !== 'string') continue;
    const name = key.slice(0, -'_cert'.length);
    const row = rowOf(name, value, INTERNAL.has(name) ? internalThreshold : clusterThreshold);
    if (row !== undefined) rows.push(row);
  }
  const at = now();
  const table = rows.length === 0 ? { text: 'no certificates\n', level: 'ok' as Level } : formatCertificates(rows, at, color);
  io.out(table.text);
  const ocsp = await ocspLine(connection);
  io.out(`${color && ocsp.level !== 'ok' ? `${COLORS[ocsp.level]}${ocsp.text}${RESET}` : ocsp.text}\n`);
  const source = thresholdDays !== undefined ? '--threshold' : 'alert_settings.cluster_certs_about_to_expire';
  io.out(`alert threshold: ${clusterThreshold} days (${source})${internalThreshold !== clusterThreshold ? `, internal certificates ${internalThreshold} days` : ''}; critical under ${CRITICAL_DAYS} days\n`);

  const levels = [table.level, ocsp.level];
  const attention = rows.filter((row) => levelOf(row, at) !== 'ok').map((row) => `${row.name} (${daysLeft(row.notAfter, at)} days)`);
  if (attention.length > 0) io.err(`certplane: certificates within the alert threshold: ${attention.join(', ')}\n`);
  if (ocsp.level !== 'ok') io.err(`certplane: ${ocsp.text}\n`);
  if (levels.includes('critical')) return STATUS_EXIT.critical;
  if (levels.includes('warning')) return STATUS_EXIT.warning;
  return STATUS_EXIT.ok;
}
