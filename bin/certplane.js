#!/usr/bin/env node
// The `certplane` command. On a node older than the project's runtime (scripts/node-runtime.sh), it re-runs itself
// on the runtime that `npm start` / `npm test` / scripts/install-deps.sh provisioned in .runtime/.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';

const MIN_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < MIN_MAJOR) {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const runtimes = existsSync(path.join(root, '.runtime')) ? readdirSync(path.join(root, '.runtime')).filter((d) => /^node-v\d/.test(d)) : [];
  const runtime = runtimes.map((d) => path.join(root, '.runtime', d, 'bin', 'node')).find((p) => existsSync(p));
  if (runtime === undefined) {
    process.stderr.write(`certplane needs Node.js ${MIN_MAJOR} or newer (this is ${process.version}); run scripts/install-deps.sh to provision it\n`);
    process.exit(1);
  }
  const child = spawn(runtime, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
} else {
  await import('../dist/src/cli/main.js');
}
