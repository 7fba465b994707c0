// Rewrites the README's error-code table from the ERROR_CODES registry (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
const { ERROR_CODES } = await import('../dist/src/lib/api-error.js');
const rows = Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`).join('\n');
const readme = readFileSync('README.md', 'utf8');
const next = readme.replace(/(<!-- error-codes:start -->\n)[\s\S]*?(<!-- error-codes:end -->)/, `$1| error_code | meaning |\n|---|---|\n${rows}\n$2`);
writeFileSync('README.md', next);
