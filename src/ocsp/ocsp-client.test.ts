import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueCertificate, type TestCertificate } from '../../test/helpers/pki.js';
import { requestNonce, signOcspResponse } from '../../test/helpers/fake-ocsp-responder.js';
import { buildOcspRequest, OcspQueryError, postOcspRequest, queryOcsp, verifyOcspResponse } from './ocsp-client.js';

let ca: TestCertificate;
let otherCa: TestCertificate;
let leaf: TestCertificate;
let responder: TestCertificate;
let responderWithoutEku: TestCertificate;
let foreignResponder: TestCertificate;

beforeAll(async () => {
  ca = await createCa({ cn: 'Unit OCSP CA', curve: 'P-256' });
  otherCa = await createCa({ cn: 'Unit OCSP CA', curve: 'P-256' }); // same name, other key
  leaf = await issueCertificate(ca, { cn: 'proxy', curve: 'P-256', ocspUrl: 'http://127.0.0.1:1/' });
  responder = await issueCertificate(ca, { cn: 'responder', curve: 'P-256', eku: ['ocspSigning'], freshKey: true });
  responderWithoutEku = await issueCertificate(ca, { cn: 'responder', curve: 'P-256', eku: ['serverAuth'], freshKey: true });
  foreignResponder = await issueCertificate(otherCa, { cn: 'responder', curve: 'P-256', eku: ['ocspSigning'], freshKey: true });
});

const now = () => new Date();

async function verify(der: Buffer, extra: { nonce?: Buffer; now?: Date } = {}) {
  return verifyOcspResponse(der, { certificate: leaf.x509, issuer: ca.x509, now: extra.now ?? now(), ...(extra.nonce ? { nonce: extra.nonce } : {}) });
}

async function failureOf(promise: Promise<unknown>): Promise<OcspQueryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OcspQueryError);
  return error as OcspQueryError;
}

describe('verifyOcspResponse', () => {
  it('accepts a good response from a delegated responder with the OCSP-signing EKU issued by the issuer', async () => {
    const thisUpdate = new Date(Date.now() - 60_000);
    const nextUpdate = new Date(Date.now() + 3_600_000);
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, thisUpdate, nextUpdate });
    const result = await verify(der);
    expect(result.cert_status).toBe('GOOD');
    // Times survive the GeneralizedTime round trip to the second (pkijs may keep fractions).
    expect(Math.floor(Date.parse(result.this_update) / 1000)).toBe(Math.floor(thisUpdate.getTime() / 1000));
    expect(Math.floor(Date.parse(result.next_update!) / 1000)).toBe(Math.floor(nextUpdate.getTime() / 1000));
    expect(result.revocation_time).toBeNull();
    expect(Buffer.from(result.der, 'base64').equals(der)).toBe(true);
  });

  it('accepts a response signed by the issuer itself, even without embedded certificates', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, noCerts: true });
    expect((await verify(der)).cert_status).toBe('GOOD');
  });

  it('reports REVOKED with the revocation time and reason, and UNKNOWN', async () => {
    const revocationTime = new Date('2026-01-02T03:04:05Z');
    const revoked = await verify(await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, status: 'revoked', revocationTime }));
    expect(revoked).toMatchObject({ cert_status: 'REVOKED', revocation_time: revocationTime.toISOString(), revocation_reason: 'keyCompromise' });
    const unknown = await verify(await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, status: 'unknown' }));
    expect(unknown.cert_status).toBe('UNKNOWN');
  });

  it('matches CertIDs hashed with SHA-256 too', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, hash: 'SHA-256' });
    expect((await verify(der)).cert_status).toBe('GOOD');
  });

  it('rejects a responder certificate without the OCSP-signing EKU', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responderWithoutEku } });
    expect((await failureOf(verify(der))).kind).toBe('bad_signature');
  });

  it('rejects a responder certificate issued by another CA (same name, other key)', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: foreignResponder } });
    expect((await failureOf(verify(der))).kind).toBe('bad_signature');
  });

  it('rejects a signature made with the wrong key under the real responder certificate', async () => {
    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder, key: wrongKey } });
    const error = await failureOf(verify(der));
    expect(error.kind).toBe('bad_signature');
    expect(error.errorCode).toBe('invalid_ocsp_response');
  });

  it('rejects a response about another certificate', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, serialOverride: '0badc0de' });
    expect((await failureOf(verify(der))).kind).toBe('wrong_certificate');
  });

  it('rejects a response for the same serial from another issuer', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: otherCa, signer: { certificate: foreignResponder } });
    expect((await failureOf(verify(der))).kind).toBe('bad_signature');
  });

  it('rejects stale and not-yet-valid responses, allowing a few minutes of clock skew', async () => {
    const stale = await signOcspResponse({
      certificate: leaf, issuer: ca, signer: { certificate: responder },
      thisUpdate: new Date(Date.now() - 7_200_000), nextUpdate: new Date(Date.now() - 3_600_000),
    });
    expect((await failureOf(verify(stale))).kind).toBe('stale');
    const future = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, thisUpdate: new Date(Date.now() + 3_600_000) });
    expect((await failureOf(verify(future))).kind).toBe('not_yet_valid');
    const justExpired = await signOcspResponse({
      certificate: leaf, issuer: ca, signer: { certificate: responder },
      thisUpdate: new Date(Date.now() - 3_600_000), nextUpdate: new Date(Date.now() - 60_000),
    });
    expect((await verify(justExpired)).cert_status).toBe('GOOD');
    const noNextUpdate = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, thisUpdate: new Date(Date.now() - 2 * 86_400_000), nextUpdate: null });
    expect((await failureOf(verify(noNextUpdate))).kind).toBe('stale');
  });

  it('judges time by the injected clock', async () => {
    const der = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, nextUpdate: new Date(Date.now() + 3_600_000) });
    expect((await failureOf(verify(der, { now: new Date(Date.now() + 2 * 3_600_000) }))).kind).toBe('stale');
  });

  it('checks the nonce when the response carries one', async () => {
    const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const wrapped = new Uint8Array(new asn1js.OctetString({ valueHex: new Uint8Array(nonce) }).toBER(false));
    const echoed = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, nonceExtnValue: wrapped });
    expect((await verify(echoed, { nonce })).cert_status).toBe('GOOD');
    const other = new Uint8Array(new asn1js.OctetString({ valueHex: new Uint8Array(16) }).toBER(false));
    const replayed = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder }, nonceExtnValue: other });
    expect((await failureOf(verify(replayed, { nonce }))).kind).toBe('nonce_mismatch');
    const without = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder } });
    expect((await verify(without, { nonce })).cert_status).toBe('GOOD');
  });

  it('rejects garbage, trailing bytes and unsuccessful response statuses', async () => {
    expect((await failureOf(verify(Buffer.from('<html>not ocsp</html>')))).kind).toBe('malformed');
    const good = await signOcspResponse({ certificate: leaf, issuer: ca, signer: { certificate: responder } });
    expect((await failureOf(verify(Buffer.concat([good, Buffer.from([0])])))).kind).toBe('malformed');
    const tryLater = Buffer.from(new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: 3 }) }).toSchema().toBER(false));
    const error = await failureOf(verify(tryLater));
    expect(error.kind).toBe('unsuccessful');
    expect(error.message).toContain('tryLater');
  });
});

describe('buildOcspRequest', () => {
  it('asks about the certificate by CertID and carries the nonce', async () => {
    const nonce = Buffer.from('a1a2a3a4a5a6a7a8a9aaabacadaeafb0', 'hex');
    const der = await buildOcspRequest(leaf.x509, ca.x509, nonce);
    const request = pkijs.OCSPRequest.fromBER(new Uint8Array(der));
    expect(request.tbsRequest.requestList).toHaveLength(1);
    const serial = Buffer.from(request.tbsRequest.requestList[0]!.reqCert.serialNumber.valueBlock.valueHexView).toString('hex');
    expect(serial.replace(/^0+/, '')).toBe(leaf.x509.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(Buffer.from(requestNonce(der)!).subarray(2).equals(nonce)).toBe(true);
  });
});

describe('postOcspRequest', () => {
  let server: http.Server;
  let port: number;
  let behaviour: 'ok' | '500' | 'hang' = 'ok';
  const hung = new Set<http.ServerResponse>();

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (behaviour === '500') {
          response.writeHead(500);
          response.end('boom');
        } else if (behaviour === 'hang') {
          hung.add(response);
        } else {
          response.writeHead(200, { 'content-type': 'application/ocsp-response' });
          response.end(Buffer.from([1, 2, 3]));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const response of hung) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('returns the body of a 200 answer', async () => {
    behaviour = 'ok';
    expect([...(await postOcspRequest(`http://127.0.0.1:${port}/`, Buffer.from('x'), 1000))]).toEqual([1, 2, 3]);
  });

  it('fails on HTTP 500, on a responder that does not answer in time, and on a closed port', async () => {
    behaviour = '500';
    expect((await failureOf(postOcspRequest(`http://127.0.0.1:${port}/`, Buffer.from('x'), 1000))).kind).toBe('http_status');
    behaviour = 'hang';
    const started = Date.now();
    expect((await failureOf(postOcspRequest(`http://127.0.0.1:${port}/`, Buffer.from('x'), 300))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await failureOf(postOcspRequest(`http://127.0.0.1:${closedPort}/`, Buffer.from('x'), 1000))).kind).toBe('unreachable');
  });

  it('refuses to query without a responder URL or without the issuer', async () => {
    const base = { certificate: leaf.x509, issuer: ca.x509, timeoutMs: 1000, now };
    expect((await failureOf(queryOcsp({ ...base, responderUrl: '' }))).errorCode).toBe('no_responder_url');
    expect((await failureOf(queryOcsp({ ...base, issuer: undefined, responderUrl: `http://127.0.0.1:${port}/` }))).kind).toBe('no_issuer');
  });
});
