// The OCSP client (RFC 6960) on pkijs: builds the request for a certificate and its issuer, POSTs it over HTTP
// within the response timeout, and verifies the answer for real — signature by the issuer or by a delegated
// responder certificate with the OCSP-signing EKU issued by the issuer, CertID of our certificate, thisUpdate /
// nextUpdate window, nonce. Anything that fails is an OcspQueryError; only a verified response leaves here.
import http from 'node:http';
import https from 'node:https';
import { randomBytes, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { OcspCertStatus, OcspResponseRecord } from '../domain/ocsp-status.js';

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
const MAX_RESPONSE_BYTES = 1024 * 1024;

export type OcspFailureKind =
  | 'no_responder_url'
  | 'no_issuer'
  | 'unreachable'
  | 'timeout'
  | 'http_status'
  | 'malformed'
  | 'unsuccessful'
  | 'bad_signature'
  | 'wrong_certificate'
  | 'stale'
  | 'not_yet_valid'
  | 'nonce_mismatch';

/** A failed query. `errorCode` is the REST error it maps to (digest §3.1). */
export class OcspQueryError extends Error {
  override name = 'OcspQueryError';
  readonly errorCode: 'no_responder_url' | 'invalid_ocsp_response';
  constructor(
    readonly kind: OcspFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.errorCode = kind === 'no_responder_url' ? 'no_responder_url' : 'invalid_ocsp_response';
  }
}

export interface VerifyOptions {
  /** The certificate the response must be about. */
  certificate: X509Certificate;
  /** Its issuer: the trust anchor for the responder. */
  issuer: X509Certificate;
  now: Date;
  /** The nonce sent in the request, if any. */
  nonce?: Buffer;
  /** Tolerated clock difference with the responder (default 5 minutes, as OpenSSL's -validity_period). */
  clockSkewMs?: number;
  /** A response without nextUpdate is accepted while thisUpdate is younger than this (default 24 h). */
  maxAgeWithoutNextUpdateMs?: number;
}

export interface QueryOptions {
  certificate: X509Certificate;
  /** Undefined when the proxy certificate was installed without its issuer: the query fails with no_issuer. */
  issuer: X509Certificate | undefined;
  responderUrl: string;
  timeoutMs: number;
  now: () => Date;
  /** Send a nonce (default true). A response without one is accepted: pre-signed responses carry none. */
  useNonce?: boolean;
  clockSkewMs?: number;
  /** Aborts the exchange (the poller closing). */
  signal?: AbortSignal;
}

/** Queries the responder and returns the verified response, or throws OcspQueryError. */
export async function queryOcsp(options: QueryOptions): Promise<OcspResponseRecord> {
  if (options.responderUrl === '') throw new OcspQueryError('no_responder_url', 'The proxy certificate has no OCSP responder URL');
  if (options.issuer === undefined) {
    throw new OcspQueryError('no_issuer', 'The proxy certificate was installed without its issuer certificate: upload the chain (leaf, then issuer)');
  }
  const nonce = options.useNonce === false ? undefined : randomBytes(16);
  const request = await buildOcspRequest(options.certificate, options.issuer, nonce);
  const der = await postOcspRequest(options.responderUrl, request, options.timeoutMs, options.signal);
  return verifyOcspResponse(der, {
    certificate: options.certificate,
    issuer: options.issuer,
    now: options.now(),
    ...(nonce === undefined ? {} : { nonce }),
    ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
  });
}

/** An OCSPRequest (DER) for one certificate, CertID with SHA-1 as RFC 5019 expects, optional nonce extension. */
export async function buildOcspRequest(certificate: X509Certificate, issuer: X509Certificate, nonce?: Buffer): Promise<Buffer> {
  const request = new pkijs.OCSPRequest();
  await request.createForCertificate(toPkijs(certificate), { hashAlgorithm: 'SHA-1', issuerCertificate: toPkijs(issuer) });
  if (nonce !== undefined) {
    request.tbsRequest.requestExtensions = [
      new pkijs.Extension({ extnID: ID_PKIX_OCSP_NONCE, extnValue: new asn1js.OctetString({ valueHex: new Uint8Array(nonce) }).toBER(false) }),
    ];
  }
  return Buffer.from(request.toSchema(true).toBER(false));
}

/** POST over http(s); the whole exchange (connect, send, receive) must finish within timeoutMs. */
export function postOcspRequest(url: string, body: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new OcspQueryError('unreachable', `The OCSP responder URL is not a valid URL: ${url}`));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new OcspQueryError('unreachable', `The OCSP responder URL must be http or https: ${url}`));
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      finish(new OcspQueryError('unreachable', 'The OCSP query was aborted'));
      request.destroy();
    };
    const finish = (error: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(value as Buffer);
      else reject(error);
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/ocsp-request',
          accept: 'application/ocsp-response',
          'content-length': body.length,
          connection: 'close',
        },
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          finish(new OcspQueryError('http_status', `The OCSP responder answered HTTP ${response.statusCode ?? 0}`));
          request.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            finish(new OcspQueryError('malformed', `The OCSP response is larger than ${MAX_RESPONSE_BYTES} bytes`));
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => finish(undefined, Buffer.concat(chunks)));
        response.on('error', (error) => finish(new OcspQueryError('unreachable', `The OCSP response was cut off: ${error.message}`, { cause: error })));
      },
    );
    const timer = setTimeout(() => {
      finish(new OcspQueryError('timeout', `The OCSP responder did not answer within ${timeoutMs} ms`));
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      finish(new OcspQueryError('unreachable', `The OCSP responder cannot be reached: ${error.code ?? error.message}`, { cause: error }));
    });
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    request.end(body);
  });
}

/** Verifies a DER OCSPResponse for `certificate`; returns what may be cached and stapled, or throws OcspQueryError. */
export async function verifyOcspResponse(der: Uint8Array, options: VerifyOptions): Promise<OcspResponseRecord> {
  const skew = options.clockSkewMs ?? 5 * 60_000;
  const bytes = new Uint8Array(der);
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.byteLength) {
    throw new OcspQueryError('malformed', 'The responder did not send a DER-encoded OCSP response');
  }
  let response: pkijs.OCSPResponse;
  let basic: pkijs.BasicOCSPResponse;
  try {
    response = new pkijs.OCSPResponse({ schema: parsed.result });
  } catch (error) {
    throw new OcspQueryError('malformed', 'The responder did not send an OCSP response', { cause: error });
  }
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0) throw new OcspQueryError('unsuccessful', `The OCSP responder refused the request: ${RESPONSE_STATUS[status] ?? `status ${status}`}`);
  if (response.responseBytes === undefined || response.responseBytes.responseType !== ID_PKIX_OCSP_BASIC) {
    throw new OcspQueryError('malformed', 'The OCSP response is not a basic OCSP response');
  }
  try {
    basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
  } catch (error) {
    throw new OcspQueryError('malformed', 'The basic OCSP response cannot be parsed', { cause: error });
  }

  const leaf = toPkijs(options.certificate);
  const issuer = toPkijs(options.issuer);
  await verifySigner(basic, issuer);
  const single = await findSingleResponse(basic, leaf, issuer);
  if (single === undefined) {
    throw new OcspQueryError('wrong_certificate', `The OCSP response is not about the proxy certificate (serial ${options.certificate.serialNumber})`);
  }

  const now = options.now.getTime();
  const thisUpdate = single.thisUpdate;
  if (thisUpdate.getTime() > now + skew) {
    throw new OcspQueryError('not_yet_valid', `The OCSP response is not valid yet (thisUpdate ${thisUpdate.toISOString()})`);
  }
  const nextUpdate = single.nextUpdate;
  if (nextUpdate !== undefined && nextUpdate.getTime() <= now - skew) {
    throw new OcspQueryError('stale', `The OCSP response is stale (nextUpdate ${nextUpdate.toISOString()} has passed)`);
  }
  if (nextUpdate === undefined && thisUpdate.getTime() < now - (options.maxAgeWithoutNextUpdateMs ?? 86_400_000)) {
    throw new OcspQueryError('stale', `The OCSP response is stale (thisUpdate ${thisUpdate.toISOString()}, no nextUpdate)`);
  }
  if (options.nonce !== undefined) checkNonce(basic, options.nonce);

  const certStatus = readCertStatus(single.certStatus);
  return {
    cert_status: certStatus.status,
    produced_at: basic.tbsResponseData.producedAt.toISOString(),
    this_update: thisUpdate.toISOString(),
    next_update: nextUpdate === undefined ? null : nextUpdate.toISOString(),
    revocation_time: certStatus.revocationTime?.toISOString() ?? null,
    revocation_reason: certStatus.reason ?? null,
    der: Buffer.from(bytes).toString('base64'),
  };
}

const RESPONSE_STATUS: Record<number, string> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

const REVOCATION_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

function toPkijs(cert: X509Certificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(new Uint8Array(cert.raw));
}

/** The SingleResponse whose CertID (in whatever hash the responder used) is our certificate's. */
async function findSingleResponse(basic: pkijs.BasicOCSPResponse, leaf: pkijs.Certificate, issuer: pkijs.Certificate): Promise<pkijs.SingleResponse | undefined> {
  const engine = pkijs.getCrypto(true);
  for (const single of basic.tbsResponseData.responses) {
    // pkijs types the result with the DOM's Algorithm, which this project's libs do not declare.
    const algorithm: object = engine.getAlgorithmByOID(single.certID.hashAlgorithm.algorithmId, false);
    if (!('name' in algorithm) || typeof algorithm.name !== 'string') continue;
    let ours: pkijs.CertID;
    try {
      ours = await pkijs.CertID.create(leaf, { hashAlgorithm: algorithm.name, issuerCertificate: issuer });
    } catch {
      continue;
    }
    if (single.certID.isEqual(ours)) return single;
  }
  return undefined;
}

/**
 * The signature must verify with the issuer's key (the CA answers itself) or with a responder certificate in the
 * response that chains to the issuer and carries id-kp-OCSPSigning (pkijs checks both and that the signer is
 * authorized for every CertID). The issuer is added to the candidates so a CA that signs its own responses
 * without embedding its certificate verifies too.
 */
async function verifySigner(basic: pkijs.BasicOCSPResponse, issuer: pkijs.Certificate): Promise<void> {
  const issuerDer = new Uint8Array(issuer.toSchema(true).toBER(false));
  const embedded = basic.certs ?? [];
  const hasIssuer = embedded.some((c) => Buffer.from(c.toSchema(true).toBER(false)).equals(Buffer.from(issuerDer)));
  basic.certs = hasIssuer ? embedded : [...embedded, issuer];
  let verified: boolean;
  try {
    verified = await basic.verify({ trustedCerts: [issuer] });
  } catch (error) {
    throw new OcspQueryError('bad_signature', `The OCSP response signer is not trusted: ${(error as Error).message}`, { cause: error });
  }
  if (!verified) throw new OcspQueryError('bad_signature', 'The OCSP response signature does not verify with the issuer or an authorized responder');
}

function checkNonce(basic: pkijs.BasicOCSPResponse, nonce: Buffer): void {
  const extension = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
  if (extension === undefined) return;
  const value = Buffer.from(extension.extnValue.valueBlock.valueHexView);
  const wrapped = Buffer.from(new asn1js.OctetString({ valueHex: new Uint8Array(nonce) }).toBER(false));
  // RFC 8954 wraps the nonce in an OCTET STRING; some responders echo it bare.
  if (!value.equals(wrapped) && !value.equals(nonce)) {
    throw new OcspQueryError('nonce_mismatch', 'The OCSP response nonce does not match the request (replayed response?)');
  }
}

function readCertStatus(certStatus: unknown): { status: OcspCertStatus; revocationTime?: Date; reason?: string } {
  const block = certStatus as asn1js.BaseBlock & { valueBlock: { value?: asn1js.BaseBlock[] } };
  const id = block?.idBlock;
  if (id === undefined || id.tagClass !== 3) throw new OcspQueryError('malformed', 'The OCSP response has no certificate status');
  if (id.tagNumber === 0) return { status: 'GOOD' };
  if (id.tagNumber === 2) return { status: 'UNKNOWN' };
  if (id.tagNumber !== 1) throw new OcspQueryError('malformed', `The OCSP response has an unknown certificate status [${id.tagNumber}]`);
  const parts = block.valueBlock.value ?? [];
  const time = parts[0];
  const revocationTime = time instanceof asn1js.GeneralizedTime ? time.toDate() : undefined;
  if (revocationTime === undefined) throw new OcspQueryError('malformed', 'The OCSP response says revoked without a revocation time');
  let reason: string | undefined;
  // TypeScript 7 needs this assertion; TypeScript 6 (which typescript-eslint runs on) sees it as a no-op.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  const tagged = parts[1] as (asn1js.BaseBlock & { valueBlock: { value?: asn1js.BaseBlock[] } }) | undefined;
  const enumerated = tagged?.idBlock.tagClass === 3 && tagged.idBlock.tagNumber === 0 ? tagged.valueBlock.value?.[0] : undefined;
  if (enumerated instanceof asn1js.Enumerated) reason = REVOCATION_REASONS[enumerated.valueBlock.valueDec] ?? `reason ${enumerated.valueBlock.valueDec}`;
  return reason === undefined ? { status: 'REVOKED', revocationTime } : { status: 'REVOKED', revocationTime, reason };
}
