// ACME Renewal Information (RFC 9773): whether the directory offers `renewalInfo`, and the suggested renewal
// window of one certificate (GET <renewalInfo>/<certID>, certID = base64url(AKI keyIdentifier) "."
// base64url(serial DER bytes)). Plain HTTPS GETs with the configured CA bundle and a timeout.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';

export interface RenewalWindow {
  start: string;
  end: string;
  /** Retry-After of the answer, seconds (when to ask again). */
  retryAfterSeconds?: number;
}

const MAX_BODY = 64 * 1024;

/** The directory's renewalInfo URL, or undefined when it offers none. */
export async function renewalInfoUrl(directoryUrl: string, caBundle: string, timeoutMs: number): Promise<string | undefined> {
  const { status, body } = await getJson(directoryUrl, caBundle, timeoutMs);
  if (status !== 200) throw new Error(`the ACME directory answered HTTP ${status}`);
  const url = (body as { renewalInfo?: unknown }).renewalInfo;
  return typeof url === 'string' && url.startsWith('https://') ? url : undefined;
}

/** The suggested window for the leaf of `certificatePem`, or undefined when the certificate has no AKI. */
export async function fetchRenewalWindow(baseUrl: string, certificatePem: string, caBundle: string, timeoutMs: number): Promise<RenewalWindow | undefined> {
  const id = certificateId(certificatePem);
  if (id === undefined) return undefined;
  const { status, body, retryAfter } = await getJson(`${baseUrl.replace(/\/$/, '')}/${id}`, caBundle, timeoutMs);
  if (status !== 200) throw new Error(`renewalInfo answered HTTP ${status}`);
  const window = (body as { suggestedWindow?: { start?: unknown; end?: unknown } }).suggestedWindow;
  if (typeof window?.start !== 'string' || typeof window.end !== 'string') throw new Error('renewalInfo answer has no suggestedWindow');
  return { start: window.start, end: window.end, ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }) };
}

/** RFC 9773 §4.1 certID of the first certificate of a PEM chain. */
export function certificateId(certificatePem: string): string | undefined {
  const leaf = new x509.X509Certificate(certificatePem);
  const keyId = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  if (keyId === undefined || keyId === '') return undefined;
  let serial = new X509Certificate(certificatePem).serialNumber.toLowerCase();
  if (serial.length % 2 === 1) serial = `0${serial}`;
  if (parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`;
  return `${Buffer.from(keyId, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

function getJson(url: string, caBundle: string, timeoutMs: number): Promise<{ status: number; body: unknown; retryAfter?: number }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ...(caBundle.trim() === '' ? {} : { ca: caBundle }), timeout: timeoutMs, headers: { accept: 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) response.destroy(new Error('answer too large'));
        else chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          const header = response.headers['retry-after'];
          const retryAfter = header === undefined ? undefined : Number(header);
          resolve({ status: response.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text), ...(retryAfter === undefined || !Number.isFinite(retryAfter) ? {} : { retryAfter }) });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${new URL(url).host} within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}
