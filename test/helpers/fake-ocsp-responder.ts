// A FAKE OCSP responder, for the faults the real one (openssl ocsp, see ocsp-responder.ts) cannot produce:
// HTTP 500, garbage bytes, answering too slowly, a response signed with the wrong key, a response about another
// certificate, a stale response (nextUpdate in the past). Responses are built and signed with pkijs using the
// real responder certificate and key unless the mode says otherwise; `signOcspResponse` is also used by unit
// tests of the client's verification.
import http from 'node:http';
import { generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { TestCertificate } from './pki.js';

const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

export interface SignOptions {
  /** The certificate the response is about, and its issuer. */
  certificate: TestCertificate;
  issuer: TestCertificate;
  /** Who signs: certificate embedded in the response and its key (default: the issuer signs itself). */
  signer?: { certificate: TestCertificate; key?: KeyObject };
  status?: 'good' | 'revoked' | 'unknown';
  revocationTime?: Date;
  thisUpdate?: Date;
  /** null: no nextUpdate. Default: thisUpdate + 1 hour. */
  nextUpdate?: Date | null;
  producedAt?: Date;
  /** Put this serial (hex) in the CertID instead of the certificate's. */
  serialOverride?: string;
  /** The raw extnValue of the nonce extension to echo. */
  nonceExtnValue?: Uint8Array;
  /** Do not embed the signer certificate. */
  noCerts?: boolean;
  hash?: 'SHA-1' | 'SHA-256';
}

function toPkijs(cert: TestCertificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(new Uint8Array(cert.x509.raw));
}

async function cryptoKeyOf(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
    return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
  }
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
}

/** A DER OCSPResponse (successful, basic) built and signed as the options say. */
export async function signOcspResponse(options: SignOptions): Promise<Buffer> {
  const signerCert = options.signer?.certificate ?? options.issuer;
  const signerKey = options.signer?.key ?? signerCert.privateKey;
  const now = new Date();
  const thisUpdate = options.thisUpdate ?? new Date(now.getTime() - 60_000);
  const nextUpdate = options.nextUpdate === undefined ? new Date(thisUpdate.getTime() + 3_600_000) : options.nextUpdate;

  const certID = await pkijs.CertID.create(toPkijs(options.certificate), {
    hashAlgorithm: options.hash ?? 'SHA-1',
    issuerCertificate: toPkijs(options.issuer),
  });
  if (options.serialOverride !== undefined) {
    certID.serialNumber = new asn1js.Integer({ valueHex: new Uint8Array(Buffer.from(options.serialOverride.padStart(2, '0'), 'hex')) });
  }
  let certStatus: asn1js.BaseBlock;
  switch (options.status ?? 'good') {
    case 'good':
      certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
      break;
    case 'unknown':
      certStatus = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
      break;
    case 'revoked':
      certStatus = new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [
          new asn1js.GeneralizedTime({ valueDate: options.revocationTime ?? new Date(now.getTime() - 3_600_000) }),
          new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Enumerated({ value: 1 })] }),
        ],
      });
      break;
  }
  const single = new pkijs.SingleResponse({ certID, certStatus, thisUpdate, ...(nextUpdate === null ? {} : { nextUpdate }) });

  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = toPkijs(signerCert).subject;
  basic.tbsResponseData.producedAt = options.producedAt ?? now;
  basic.tbsResponseData.responses.push(single);
  if (options.nonceExtnValue !== undefined) {
    basic.tbsResponseData.responseExtensions = [new pkijs.Extension({ extnID: ID_PKIX_OCSP_NONCE, extnValue: options.nonceExtnValue.slice().buffer })];
  }
  if (options.noCerts !== true) basic.certs = [toPkijs(signerCert)];
  await basic.sign(await cryptoKeyOf(signerKey), 'SHA-256');

  const response = new pkijs.OCSPResponse();
  response.responseStatus = new asn1js.Enumerated({ value: 0 });
  response.responseBytes = new pkijs.ResponseBytes({
    responseType: '1.3.6.1.5.5.7.48.1.1',
    response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
  });
  return Buffer.from(response.toSchema().toBER(false));
}

/** The nonce extension value of a DER OCSPRequest, if it has one (to echo it like a real responder). */
export function requestNonce(der: Buffer): Uint8Array | undefined {
  try {
    const request = pkijs.OCSPRequest.fromBER(new Uint8Array(der));
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
    return nonce === undefined ? undefined : new Uint8Array(nonce.extnValue.valueBlock.valueHexView);
  } catch {
    return undefined;
  }
}

export type FakeMode =
  | { kind: 'good' }
  | { kind: 'http500' }
  | { kind: 'garbage' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'wrong_key' }
  | { kind: 'other_certificate' }
  | { kind: 'stale' };

export interface FakeOcspResponder {
  url: string;
  port: number;
  mode: FakeMode;
  /** Requests received so far. */
  requests: number;
  close(): Promise<void>;
}

/**
 * A FAKE responder on 127.0.0.1 answering for `certificate` (issued by `issuer`) as `signer` (a delegated
 * responder certificate with its key) in the current `mode`.
 */
export async function startFakeOcspResponder(options: {
  certificate: () => TestCertificate;
  issuer: TestCertificate;
  signer: TestCertificate;
  mode?: FakeMode;
}): Promise<FakeOcspResponder> {
  const wrongKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const sockets = new Set<import('node:net').Socket>();
  const fake: FakeOcspResponder = { url: '', port: 0, mode: options.mode ?? { kind: 'good' }, requests: 0, close: async () => undefined };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      fake.requests += 1;
      void answer(Buffer.concat(chunks), fake.mode)
        .then(({ status, body, delayMs }) => {
          const send = (): void => {
            response.writeHead(status, { 'content-type': 'application/ocsp-response' });
            response.end(body);
          };
          if (delayMs > 0) setTimeout(send, delayMs);
          else send();
        })
        .catch(() => {
          response.writeHead(500);
          response.end();
        });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const answer = async (body: Buffer, mode: FakeMode): Promise<{ status: number; body: Buffer; delayMs: number }> => {
    const nonce = requestNonce(body);
    const base: SignOptions = {
      certificate: options.certificate(),
      issuer: options.issuer,
      signer: { certificate: options.signer },
      ...(nonce === undefined ? {} : { nonceExtnValue: nonce }),
    };
    switch (mode.kind) {
      case 'http500':
        return { status: 500, body: Buffer.from('internal error'), delayMs: 0 };
      case 'garbage':
        return { status: 200, body: Buffer.from('this is not an OCSP response\n'.repeat(4)), delayMs: 0 };
      case 'slow':
        return { status: 200, body: await signOcspResponse(base), delayMs: mode.delayMs };
      case 'wrong_key':
        return { status: 200, body: await signOcspResponse({ ...base, signer: { certificate: options.signer, key: wrongKey } }), delayMs: 0 };
      case 'other_certificate':
        return { status: 200, body: await signOcspResponse({ ...base, serialOverride: '7e57' }), delayMs: 0 };
      case 'stale': {
        const thisUpdate = new Date(Date.now() - 2 * 3_600_000);
        return { status: 200, body: await signOcspResponse({ ...base, thisUpdate, nextUpdate: new Date(Date.now() - 3_600_000) }), delayMs: 0 };
      }
      case 'good':
        return { status: 200, body: await signOcspResponse(base), delayMs: 0 };
    }
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  fake.port = typeof address === 'object' && address !== null ? address.port : 0;
  fake.url = `http://127.0.0.1:${fake.port}/`;
  fake.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}
