// GET/PUT /v1/cluster/acme (issue 15.2, a certplane extension): the ACME settings and, per certificate name, the
// renewal status the leader's renewer (src/acme) keeps. The account key is never returned.
import type { ApiDeps } from '../api-deps.js';
import type { Caller } from '../auth/caller.js';
import type { TxnOp } from '../../store/cluster-store.js';
import { getJson } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import { eventPutOp } from '../../store/event-log.js';
import { listCertificateRecords } from '../../store/certificate-records.js';
import {
  acmeSettingsUnchanged,
  deleteAcmeManualMarkerOp,
  putAcmeSettingsOp,
  readAcmeAccount,
  readAcmeManualMarkers,
  readAcmeSettings,
  readAcmeStatus,
} from '../../store/acme-records.js';
import {
  ACME_CERTIFICATE_NAMES,
  DEFAULT_ACME_SETTINGS,
  ACME_STATUS_EMPTY,
  checkIdentifiers,
  type AcmeCertificateName,
  type AcmeChallenge,
  type AcmeManualMarker,
  type AcmeNameStatus,
  type AcmeSettings,
} from '../../domain/acme.js';
import { certificateIdentity, coversDns, isGeneratedDefault } from '../../domain/certificate-identity.js';
import { parseCertificateChain } from '../../domain/pem.js';
import type { ClusterDocument } from '../../domain/cluster-settings.js';
import { ApiError } from '../../lib/api-error.js';

export interface AcmeSettingsBody {
  directory_url: string;
  contact_email?: string;
  names: AcmeCertificateName[];
  challenge?: AcmeChallenge;
  ca_certificate?: string;
  identifiers?: Partial<Record<AcmeCertificateName, string[]>>;
  allow_identity_change?: boolean;
}

export interface AcmeNameView extends AcmeNameStatus {
  /** In `names` and not switched off by a hand upload. */
  managed: boolean;
  /** Set when a hand upload switched ACME off for this name (PUT /v1/cluster/acme naming it again switches it on). */
  disabled_by_upload: AcmeManualMarker | null;
  /** What the next order requests: the configured identifiers, else the current certificate's names. */
  identifiers: string[];
}

export async function getAcme(deps: Pick<ApiDeps, 'store'>): Promise<AcmeSettings & { account: { directory_url: string; url: string | null } | null; status: Partial<Record<AcmeCertificateName, AcmeNameView>> }> {
  const [{ settings: stored }, markers, account, installed] = await Promise.all([
    readAcmeSettings<AcmeSettings>(deps.store),
    readAcmeManualMarkers<AcmeManualMarker>(deps.store),
    readAcmeAccount(deps.store),
    listCertificateRecords(deps.store),
  ]);
  const settings: AcmeSettings = { ...DEFAULT_ACME_SETTINGS, ...stored };
  const status: Partial<Record<AcmeCertificateName, AcmeNameView>> = {};
  for (const name of ACME_CERTIFICATE_NAMES) {
    const marker = markers.get(name);
    const inNames = settings.names.includes(name);
    if (!inNames && marker === undefined) continue;
    const current = installed.records.get(name)?.record.certificate;
    status[name] = {
      ...ACME_STATUS_EMPTY,
      ...(await readAcmeStatus<AcmeNameStatus>(deps.store, name)),
      managed: inNames && marker === undefined,
      disabled_by_upload: marker ?? null,
      identifiers: settings.identifiers[name] ?? (current === undefined ? [] : currentNames(current)),
    };
  }
  return {
    ...settings,
    account: account === undefined ? null : { directory_url: account.directory_url, url: account.url ?? null },
    status,
  };
}

/** PUT /v1/cluster/acme: checks the settings, stores them, and switches ACME back on for every name listed. */
export async function putAcme(deps: ApiDeps, caller: Caller, body: AcmeSettingsBody): ReturnType<typeof getAcme> {
  const settings: AcmeSettings = {
    directory_url: body.directory_url,
    contact_email: body.contact_email ?? '',
    names: body.names,
    challenge: body.challenge ?? 'http-01',
    ca_certificate: body.ca_certificate ?? '',
    identifiers: body.identifiers ?? {},
  };
  invalidUnless(isHttpsUrl(settings.directory_url), 'directory_url must be an https:// URL');
  invalidUnless(settings.contact_email === '' || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(settings.contact_email), 'contact_email is not an e-mail address');
  if (settings.ca_certificate.trim() !== '') {
    const parsed = parseCertificateChain(settings.ca_certificate);
    invalidUnless(parsed.ok, `ca_certificate is not a PEM certificate bundle${parsed.ok ? '' : `: ${parsed.error}`}`);
  }
  for (const name of Object.keys(settings.identifiers) as AcmeCertificateName[]) {
    invalidUnless(settings.names.includes(name), `identifiers.${name} is given but ${name} is not in names`);
  }

  const [installed, cluster] = await Promise.all([listCertificateRecords(deps.store), getJson<ClusterDocument>(deps.store, keys.cluster)]);
  const losses: Array<Record<string, unknown>> = [];
  for (const name of settings.names) {
    const current = installed.records.get(name)?.record.certificate;
    const explicit = settings.identifiers[name];
    const requested = explicit ?? (current === undefined ? [] : currentNames(current));
    const check = checkIdentifiers(requested, settings.challenge);
    if (!check.ok) {
      throw new ApiError('invalid_acme_settings', `${name}: ${check.error}${explicit === undefined ? ` (taken from the current certificate; list identifiers.${name})` : ''}`);
    }
    if (explicit === undefined || current === undefined || body.allow_identity_change === true) continue;
    // ACME replaces the certificate with one for exactly these identifiers: the identity-change guard applies to
    // the settings (a new root is what ACME is for; names the current certificate covers must stay).
    const chain = parseCertificateChain(current);
    if (!chain.ok || isGeneratedDefault(chain.value, cluster?.name ?? '')) continue;
    const before = certificateIdentity(chain.value);
    const dns = check.identifiers.filter((i) => i.type === 'dns').map((i) => i.value);
    const ips = check.identifiers.filter((i) => i.type === 'ip').map((i) => i.value);
    const lostNames = before.dnsNames.filter((n) => !coversDns(dns, n));
    const lostIps = before.ips.filter((ip) => !ips.includes(ip));
    if (lostNames.length + lostIps.length > 0) {
      const description = `The ACME identifiers of ${name} no longer cover ${[...lostNames, ...lostIps].join(', ')}, which the current certificate covers; send "allow_identity_change": true to request them anyway`;
      losses.push({ name, error_code: 'identity_change', description, lost_names: lostNames, lost_ips: lostIps });
    }
  }
  const firstLoss = losses[0];
  if (firstLoss !== undefined) throw new ApiError('identity_change', String(firstLoss.description), { errors: losses });

  const { modRevision } = await readAcmeSettings<AcmeSettings>(deps.store);
  const markers = await readAcmeManualMarkers<AcmeManualMarker>(deps.store);
  const time = deps.clock.now().toISOString();
  const ops: TxnOp[] = [
    putAcmeSettingsOp(settings),
    ...settings.names.filter((name) => markers.has(name)).map((name) => deleteAcmeManualMarkerOp(name)),
    eventPutOp(<{ time: string }>{
      time,
      type: 'acme_settings_changed',
      severity: 'INFO',
      user_uid: caller.uid,
      user_email: caller.email,
      directory_url: settings.directory_url,
      names: settings.names,
      challenge: settings.challenge,
    }),
  ];
  const result = await deps.store.txn({ compare: [acmeSettingsUnchanged(modRevision)], success: ops });
  if (!result.succeeded) throw new ApiError('config_edit_conflict', 'The ACME settings were changed concurrently; re-read and retry');
  return getAcme(deps);
}

/** The DNS names and IPs of an installed certificate (SANs, else the CN), as ACME identifiers. */
function currentNames(pem: string): string[] {
  const chain = parseCertificateChain(pem);
  if (!chain.ok) return [];
  const identity = certificateIdentity(chain.value);
  return [...identity.dnsNames, ...identity.ips];
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

function invalidUnless(condition: boolean, description: string): asserts condition {
  if (!condition) throw new ApiError('invalid_acme_settings', description);
}
