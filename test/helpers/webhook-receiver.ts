// An HTTPS webhook receiver for alert tests: a Node https server with a certificate from a test CA, recording
// every request (headers and raw body). `failNext(n)` answers the next n requests with HTTP 500 (a receiver that
// fails, then recovers); stop()/start() take it down and bring it back on the same port.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCa, issueCertificate, type TestCertificate } from './pki.js';

export interface ReceivedHook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  ca: TestCertificate;
  requests: ReceivedHook[];
  failNext(count: number): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const ca = await createCa({ cn: 'certplane test webhook CA', curve: 'P-256' });
  const leaf = await issueCertificate(ca, { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], curve: 'P-256', freshKey: true });
  const requests: ReceivedHook[] = [];
  let failures = 0;
  let port = 0;
  let server: https.Server | undefined;
  const listen = async (): Promise<void> => {
    const created = https.createServer({ cert: leaf.chain, key: leaf.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = failures > 0 ? 500 : 200;
        if (failures > 0) failures -= 1;
        requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status, at: Date.now() });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'failing on purpose');
      });
    });
    await new Promise<void>((resolve) => created.listen(port, '127.0.0.1', resolve));
    port = (created.address() as AddressInfo).port;
    server = created;
  };
  await listen();
  const receiver: WebhookReceiver = {
    get url() {
      return `https://127.0.0.1:${port}/certplane-alerts`;
    },
    get port() {
      return port;
    },
    ca,
    requests,
    failNext(count) {
      failures = count;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s !== undefined) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
    start: listen,
    async close() {
      await receiver.stop();
    },
  };
  return receiver;
}
