// One database endpoint of certplane's proxy (src/proxy/database-proxy.ts) outside a node, for bench:cores: in
// this thread, or in N worker threads of this process that all listen on the port (SO_REUSEPORT). The endpoint is
// TLS with the given certificate, without client certificates, in front of a redis-server's Unix socket; nothing
// else of the node (no control socket, no logins). Prints `ready` once every listener is up.
// Usage: node dist/bench/cores-proxy.js '{"port":N,"backendSocketPath":"…","certFile":"…","keyFile":"…","threads":N,"reusePort":bool}'
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { LocalCertificates } from '../src/data-plane/local-certificates.js';
import { createLogger } from '../src/lib/logger.js';
import { DatabaseProxy } from '../src/proxy/database-proxy.js';

interface ProxyOptions {
  port: number;
  backendSocketPath: string;
  certFile: string;
  keyFile: string;
  threads: number;
  reusePort: boolean;
}

async function serve(options: ProxyOptions): Promise<void> {
  const certificates = new LocalCertificates();
  certificates.install('proxy', { certificate: readFileSync(options.certFile, 'utf8'), key: readFileSync(options.keyFile, 'utf8') });
  const proxy = new DatabaseProxy({ certificates, log: createLogger('warn', process.stderr), reusePort: options.reusePort, maxConnections: 20_000 });
  await proxy.apply({ uid: 1, address: '127.0.0.1', port: options.port, backendSocketPath: options.backendSocketPath, tls: { minVersion: 'TLSv1.2' }, certificateUsers: [] });
}

const options = (isMainThread ? JSON.parse(process.argv[2] ?? '{}') : workerData) as ProxyOptions;
if (isMainThread && options.threads > 1) {
  const workers = Array.from({ length: options.threads }, () => new Worker(new URL(import.meta.url), { workerData: { ...options, threads: 1, reusePort: true } }));
  await Promise.all(workers.map((worker) => new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject))));
  process.stdout.write('ready\n');
} else {
  await serve(options);
  if (isMainThread) process.stdout.write('ready\n');
  else parentPort?.postMessage('ready');
}
