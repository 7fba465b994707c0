// Rewrites the README's error-code table from the ERROR_CODES registry (run after `npm run build`).
// The same rendering is checked by src/lib/api-error.test.ts (exact match), so keep the two in step.
import { readFileSync, writeFileSync } from 'node:fs';
const { ERROR_CODES } = await import('../dist/src/lib/api-error.js');
const rows = Object.entries(ERROR_CODES).map(([code, { status, text }]) => `| \`${code}\` | ${status} | ${text} |`);
const table = ['| error_code | HTTP status | meaning |', '|---|---|---|', ...rows].join('\n');
const readme = readFileSync('README.md', 'utf8');
const next = readme.replace(/(<!-- error-codes:start -->\n)[\s\S]*?(<!-- error-codes:end -->)/, `$1${table}\n$2`);
writeFileSync('README.md', next);
