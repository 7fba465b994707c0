// Builds the Cluster Manager UI into dist/ui: compiles ui/src (ui/tsconfig.json, ES modules for the browser) and
// copies the static files (index.html, styles.css, icons). No bundler and nothing fetched at run time: the
// browser loads the modules as tsc wrote them. Run by `npm run build`.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'ui');
const STATIC = /\.(html|css|svg|png|ico|txt)$/;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'ui', 'tsconfig.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const file of readdirSync(path.join(root, 'ui'))) {
  if (STATIC.test(file)) cpSync(path.join(root, 'ui', file), path.join(out, file));
}
process.stdout.write(`build-ui: ${path.relative(root, out)}\n`);
