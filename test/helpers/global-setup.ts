// Integration tests need real programs; fail early and clearly when one is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export default function setup(): void {
  for (const program of ['openssl', 'curl', 'redis-server', 'etcd', 'redis-cli']) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`integration tests need '${program}' on PATH (run scripts/install-deps.sh)`);
    }
  }
  if (!existsSync('dist/src/cli/main.js')) {
    throw new Error('integration tests run the built server: run `npm run build` first (npm test does)');
  }
}
