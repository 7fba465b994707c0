// The ACME renewer (issue 15.2): a leader-only worker (src/node/run-while-leader.ts) that keeps every name of the
// ACME settings on a certificate from the ACME server. A pass reads the settings, the hand-upload markers, the
// installed certificates and the per-name status, orders what is due (one order at a time), installs the result
// through the certificates service (the validation and all-nodes apply of an upload), and schedules the next pass
// for the earliest due time. Changes to the settings or the certificates wake it.
//
// Per name, an order is due when
//   - the installed certificate is not the one ACME last installed (first issuance, or a new PUT of the ACME
//     settings after a hand upload) and the last attempt did not fail, or
//   - next_renewal has come: the time picked inside the server's renewal window (RFC 9773, when the directory has
//     `renewalInfo`; asked again after its Retry-After), else two thirds of the lifetime, or the retry time after a
//     failure (backoff doubling from --acme-retry-ms up to 6 h).
// A failure changes no certificate: the status records it (last_error, failures, next_renewal) and the event log
// gets `acme_renewal_failed` (WARNING); a success records `acme_certificate_renewed` (INFO).
//
// States: stopped → idle (nothing due; a timer for the next due time) ⇄ ordering (one name) → closed.
import 'reflect-metadata';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterStore, Compare, TxnOp } from '../store/cluster-store.js';
import type { Watch } from '../store/cluster-store.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';
import { CERTIFICATE_RECORD_PREFIX, listCertificateRecords } from '../store/certificate-records.js';
import { eventPutOp } from '../store/event-log.js';
import { alertChangeOps } from '../alerts/alert-records.js';
import {
  ACME_PREFIX,
  deleteHttpChallengeOp,
  putAcmeAccountOp,
  putAcmeStatusOp,
  putHttpChallengeOp,
  readAcmeAccount,
  readAcmeManualMarkers,
  readAcmeSettings,
  readAcmeStatus,
} from '../store/acme-records.js';
import {
  DEFAULT_ACME_SETTINGS,
  ACME_STATUS_EMPTY,
  checkIdentifiers,
  renewalInfoRecheckMs,
  renewalInsideWindow,
  retryDelayMs,
  twoThirdsRenewal,
  type AcmeNameStatus,
  type AcmeSettings,
} from '../domain/acme.js';
import { certificateIdentity } from '../domain/certificate-identity.js';
import { parseCertificateChain } from '../domain/pem.js';
import { LoopWorker, type LoopTimer } from '../lib/loop.js';
import type { Clock } from '../lib/clock.js';
import { messageOf, orderCertificate, type DnsHook, type OrderRequest, type OrderResult } from './acme-order.js';
import { fetchRenewalWindow, renewalInfoUrl } from './renewal-info.js';

export type AcmeRenewerState = { name: 'idle'; nextPassAt: Date | null } | { name: 'ordering'; certificate: string };

export interface AcmeRenewerDeps {
  store: ClusterStore;
  clock: Clock;
  log: Logger;
  /** The leader fence: every status write holds only while this node leads. */
  fence: () => Compare;
  /** Installs a certificate through the certificates service (validation + all-nodes apply); throws on refusal. */
  install: (name: string, certificate: string, key: string) => Promise<void>;
  dnsHook?: DnsHook | undefined;
  /** First retry delay after a failure (doubles per failure, at most retryMaxMs). */
  retryBaseMs: number;
  retryMaxMs?: number;
  requestTimeoutMs?: number;
  poll?: OrderRequest['poll'];
  /** Where in a renewal window to renew ([0, 1)); Math.random by default. */
  random?: () => number;
  /** The order itself (tests may replace it). */
  order?: (request: OrderRequest) => Promise<OrderResult>;
  timer?: LoopTimer;
}

/** Longest sleep between passes when nothing is due (a level-triggered pass costs a few store reads). */
const MAX_SLEEP_MS = 6 * 3600 * 1000;

export class AcmeRenewer extends LoopWorker<AcmeRenewerState> {
  /** Orders attempted (tests and diagnostics). */
  attempts = 0;

  constructor(private readonly deps: AcmeRenewerDeps) {
    super({ clock: deps.clock, log: deps.log, timer: deps.timer, failure: 'ACME renewer could not read or write the store; retrying', retryDelayMs: 5000 });
  }

  protected follow(wake: () => void): Promise<Watch[]> {
    return followPrefixesWaking(this.deps.store, [ACME_PREFIX + 'settings', ACME_PREFIX + 'manual/', CERTIFICATE_RECORD_PREFIX], wake);
  }

  protected async pass(): Promise<void> {
    const { store, clock } = this.deps;
    const settings: AcmeSettings = { ...DEFAULT_ACME_SETTINGS, ...(await readAcmeSettings<AcmeSettings>(store)).settings };
    if (settings.directory_url === '' || settings.names.length === 0) {
      this.state = { name: 'idle', nextPassAt: null };
      return;
    }
    const [markers, installed] = await Promise.all([readAcmeManualMarkers(store), listCertificateRecords(store)]);
    let nextPass = Number.POSITIVE_INFINITY;
    for (const name of settings.names) {
      if (this.isClosed()) return;
      if (markers.has(name)) continue;
      const status: AcmeNameStatus = { ...ACME_STATUS_EMPTY, ...(await readAcmeStatus<AcmeNameStatus>(store, name)) };
      const current = installed.records.get(name)?.record.certificate;
      const ours = current !== undefined && status.serial !== null && serialOf(current) === status.serial;
      const now = clock.now().getTime();
      let due = status.next_renewal === null ? now : Date.parse(status.next_renewal);
      if (!ours && status.failures === 0) due = now;
      let next = status;
      if (now >= due) {
        next = await this.attempt(name, settings, status, current);
      } else if (ours && status.renewal_info_next_check !== null && now >= Date.parse(status.renewal_info_next_check) && current !== undefined) {
        next = await this.recheckRenewalInfo(name, settings, status, current);
      }
      for (const time of [next.next_renewal, ours ? next.renewal_info_next_check : null]) {
        if (time !== null) nextPass = Math.min(nextPass, Date.parse(time));
      }
    }
    const now = clock.now().getTime();
    const delay = Number.isFinite(nextPass) ? Math.min(Math.max(nextPass - now, 0), MAX_SLEEP_MS) : MAX_SLEEP_MS;
    this.state = { name: 'idle', nextPassAt: new Date(now + delay) };
    if (!this.isClosed()) this.loop.schedule(delay);
  }

  private async attempt(name: string, settings: AcmeSettings, previous: AcmeNameStatus, current: string | undefined): Promise<AcmeNameStatus> {
    const { store, clock, log } = this.deps;
    this.state = { name: 'ordering', certificate: name };
    this.attempts += 1;
    const started = clock.now();
    const timeoutMs = this.deps.requestTimeoutMs ?? 30_000;
    try {
      const wanted = settings.identifiers[name as keyof AcmeSettings['identifiers']] ?? (current === undefined ? [] : namesOf(current));
      const identifiers = checkIdentifiers(wanted, settings.challenge);
      if (!identifiers.ok) throw new Error(`${name}: ${identifiers.error}`);
      const account = await this.account(settings.directory_url);
      const result = await (this.deps.order ?? orderCertificate)({
        directoryUrl: settings.directory_url,
        caBundle: settings.ca_certificate,
        // No account URL: a new-account request with the stored key finds the account again (RFC 8555 §7.3.1), or
        // registers it anew where the server lost or deactivated it.
        accountKey: account.key,
        contactEmail: settings.contact_email,
        identifiers: identifiers.identifiers,
        challenge: settings.challenge,
        http: {
          put: async (token, keyAuthorization) => void (await store.txn({ compare: [], success: [putHttpChallengeOp(token, keyAuthorization)] })),
          remove: async (token) => void (await store.txn({ compare: [], success: [deleteHttpChallengeOp(token)] })),
        },
        dns: this.deps.dnsHook,
        requestTimeoutMs: timeoutMs,
        poll: this.deps.poll ?? { attempts: 10, minMs: 1000, maxMs: 10_000 },
      });
      if (result.accountUrl !== account.url) {
        await this.write([putAcmeAccountOp({ directory_url: settings.directory_url, key: account.key, url: result.accountUrl })]);
      }
      await this.deps.install(name, result.certificate, result.key);
      const leaf = new X509Certificate(result.certificate);
      const now = clock.now();
      const schedule = await this.renewalTime(settings, result.certificate, leaf, now);
      const status: AcmeNameStatus = {
        ...schedule,
        last_success: now.toISOString(),
        last_attempt: started.toISOString(),
        last_error: null,
        failures: 0,
        serial: leaf.serialNumber.toLowerCase(),
        not_after: new Date(leaf.validTo).toISOString(),
      };
      const cleared = await alertChangeOps(this.deps.store, [{ change: { name: 'cluster_acme_renewal_failed', subject: name, raised: false, severity: 'WARNING', value: { certificate_name: name }, description: `ACME renewal of ${name} succeeded again` } }], now.toISOString(), 1);
      await this.write(
        [
          putAcmeStatusOp(name, status),
          eventPutOp(eventOf({ time: now.toISOString(), type: 'acme_certificate_renewed', severity: 'INFO', certificate_name: name, serial: status.serial, not_after: status.not_after, next_renewal: status.next_renewal })),
          ...cleared.ops,
        ],
        cleared.compare,
      );
      log.info({ certificate: name, not_after: status.not_after, next_renewal: status.next_renewal, basis: status.renewal_basis }, 'ACME certificate installed');
      return status;
    } catch (error) {
      const failures = previous.failures + 1;
      const now = clock.now();
      const retryAt = new Date(now.getTime() + retryDelayMs(failures, this.deps.retryBaseMs, this.deps.retryMaxMs ?? MAX_SLEEP_MS));
      const status: AcmeNameStatus = {
        ...previous,
        next_renewal: retryAt.toISOString(),
        renewal_basis: 'retry',
        last_attempt: started.toISOString(),
        last_error: messageOf(error),
        failures,
      };
      // The failure raises cluster_acme_renewal_failed for this name (alerts, e-mail, webhook) with this event; while
      // it stays raised, each further failure is still one event in the log.
      const event = eventOf({ time: now.toISOString(), type: 'acme_renewal_failed', severity: 'WARNING' as const, state: true, certificate_name: name, error: status.last_error, failures, next_attempt: status.next_renewal, description: `ACME renewal of ${name} failed (${failures} in a row): ${status.last_error}` });
      await alertChangeOps(this.deps.store, [{ change: { name: 'cluster_acme_renewal_failed', subject: name, raised: true, severity: 'WARNING', value: { certificate_name: name, error: status.last_error, failures }, description: event.description }, event }], now.toISOString())
        .then((raised) => this.write([putAcmeStatusOp(name, status), ...raised.ops, ...(raised.events.length === 0 ? [eventPutOp(event)] : [])], raised.compare))
        .catch((writeError: unknown) => log.error({ err: writeError }, 'ACME renewer could not record a failure'));
      log.warn({ certificate: name, err: error, failures, retry_at: status.next_renewal }, 'ACME renewal failed; the installed certificate is unchanged');
      return status;
    }
  }

  /** When to renew a certificate just installed: inside the server's renewal window, else at two thirds. */
  private async renewalTime(settings: AcmeSettings, pem: string, leaf: X509Certificate, now: Date): Promise<Pick<AcmeNameStatus, 'next_renewal' | 'renewal_basis' | 'renewal_info_checked' | 'renewal_info_next_check'>> {
    const timeoutMs = this.deps.requestTimeoutMs ?? 30_000;
    try {
      const base = await renewalInfoUrl(settings.directory_url, settings.ca_certificate, timeoutMs);
      if (base !== undefined) {
        const window = await fetchRenewalWindow(base, pem, settings.ca_certificate, timeoutMs);
        const at = window === undefined ? undefined : renewalInsideWindow(window, now, (this.deps.random ?? Math.random)());
        if (window !== undefined && at !== undefined) {
          return {
            next_renewal: at.toISOString(),
            renewal_basis: 'renewal_info',
            renewal_info_checked: now.toISOString(),
            renewal_info_next_check: new Date(now.getTime() + renewalInfoRecheckMs(window.retryAfterSeconds)).toISOString(),
          };
        }
      }
    } catch (error) {
      this.deps.log.warn({ err: error }, 'ACME renewal information could not be read; renewing at two thirds of the lifetime');
    }
    return {
      next_renewal: twoThirdsRenewal(new Date(leaf.validFrom), new Date(leaf.validTo)).toISOString(),
      renewal_basis: 'two_thirds',
      renewal_info_checked: null,
      renewal_info_next_check: null,
    };
  }

  /** RFC 9773 polling: asks for the window again; a failure keeps the previous schedule and asks again later. */
  private async recheckRenewalInfo(name: string, settings: AcmeSettings, status: AcmeNameStatus, current: string): Promise<AcmeNameStatus> {
    const now = this.deps.clock.now();
    const leaf = new X509Certificate(current);
    const schedule = await this.renewalTime(settings, current, leaf, now);
    const next: AcmeNameStatus =
      schedule.renewal_basis === 'renewal_info'
        ? { ...status, ...schedule }
        : { ...status, renewal_info_next_check: new Date(now.getTime() + renewalInfoRecheckMs(undefined)).toISOString() };
    await this.write([putAcmeStatusOp(name, next)]);
    return next;
  }

  /** The ACME account for the directory: stored, or a new key stored before first use (an account per key). */
  private async account(directoryUrl: string): Promise<{ key: string; url?: string }> {
    const stored = await readAcmeAccount(this.deps.store);
    if (stored !== undefined && stored.directory_url === directoryUrl) return stored.url === undefined ? { key: stored.key } : { key: stored.key, url: stored.url };
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await this.write([putAcmeAccountOp({ directory_url: directoryUrl, key })]);
    return { key };
  }

  /** A fenced write: nothing is written once this node no longer leads. */
  private async write(ops: TxnOp[], compare: Compare[] = []): Promise<void> {
    const result = await this.deps.store.txn({ compare: [this.deps.fence(), ...compare], success: ops });
    if (!result.succeeded) throw new Error('this node no longer leads the cluster; the ACME renewer stops');
  }
}

function serialOf(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).serialNumber.toLowerCase();
  } catch {
    return undefined;
  }
}

function namesOf(pem: string): string[] {
  const chain = parseCertificateChain(pem);
  if (!chain.ok) return [];
  const identity = certificateIdentity(chain.value);
  return [...identity.dnsNames, ...identity.ips];
}

/** The event log's writer takes any object with a time; these are the renewer's two event types. */
function eventOf<T extends { time: string; type: 'acme_certificate_renewed' | 'acme_renewal_failed' }>(event: T): T {
  return event;
}
