// "The API is busy": 20 keep-alive clients GET /v1/cluster/certificates in a loop and one client PUTs a
// certificate with a 4096-bit RSA key in a loop (alternating two, so every PUT is a real change), until stopped.
// The PUT goes to the `syncer` certificate by default: control-plane work only (validation of a 4096-bit key,
// the store, files, waiting for every member), nothing a database client depends on.
import https from 'node:https';
import { ADMIN, type CertplaneNode } from './fixture.js';
import { httpsRequest } from './support.js';

export interface ApiLoadStats {
  seconds: number;
  gets: number;
  puts: number;
  errors: number;
  firstError?: string;
}

export interface ApiLoad {
  stop(): Promise<ApiLoadStats>;
}

export function startApiLoad(node: CertplaneNode, options: { getters: number; certificates: { certificate: string; key: string }[]; certificateName: string }): ApiLoad {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.getters + 1, maxFreeSockets: options.getters + 1, rejectUnauthorized: false });
  const stats: ApiLoadStats = { seconds: 0, gets: 0, puts: 0, errors: 0 };
  const began = performance.now();
  let running = true;
  const fail = (what: string): void => {
    stats.errors += 1;
    stats.firstError ??= what;
  };
  const getter = async (): Promise<void> => {
    while (running) {
      try {
        const response = await httpsRequest(node.api, '/v1/cluster/certificates', { auth: ADMIN, agent });
        if (response.status === 200) stats.gets += 1;
        else fail(`GET answered ${response.status}: ${response.body.slice(0, 200)}`);
      } catch (error) {
        fail(`GET: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const putter = async (): Promise<void> => {
    for (let i = 0; running; i++) {
      const item = options.certificates[i % options.certificates.length] as { certificate: string; key: string };
      try {
        const response = await httpsRequest(node.api, '/v1/cluster/certificates', {
          method: 'PUT',
          auth: ADMIN,
          agent,
          body: { certificates: [{ name: options.certificateName, certificate: item.certificate, key: item.key }] },
        });
        if (response.status === 200) stats.puts += 1;
        else fail(`PUT answered ${response.status}: ${response.body.slice(0, 200)}`);
      } catch (error) {
        fail(`PUT: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const loops = [...Array.from({ length: options.getters }, () => getter()), putter()];
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      stats.seconds = (performance.now() - began) / 1000;
      return stats;
    },
  };
}
