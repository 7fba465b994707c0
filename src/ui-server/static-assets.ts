// The UI's built files (dist/ui under the package root, produced from ui/ by the build): index.html at `/`,
// every other file by its path. No directory listing, no symbolic links out of the folder, no path that
// decodes to `..`, a backslash or a NUL: all of those answer 404, as does anything that is not a regular file.
// Files whose name carries a content hash (`app-3f9a1c2b.js`) may be cached for a year; the rest are revalidated.
import { existsSync } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Largest file served (the UI's bundles are far smaller; a bigger file is not ours). */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** The Cache-Control the file gets. */
  cacheControl: string;
}

/** The package root: the nearest folder above this module with a package.json (src/… under tsx, dist/src/… built). */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
}

export function defaultAssetsDir(): string {
  return path.join(packageRoot(), 'dist', 'ui');
}

/** The page `/` answers while dist/ui/index.html does not exist. */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>certplane Cluster Manager</title></head>
<body><h1>certplane Cluster Manager</h1>
<p>The UI assets are not built: run <code>npm run build</code> in the certplane folder, then reload this page.</p>
<p>The REST API answers on this port under <code>/v1</code> after a login at <code>/ui/api/login</code>.</p>
</body></html>
`;

/**
 * The safe relative path of a request path, or undefined when it must answer 404. `rawPath` is the URL path as
 * sent (still percent-encoded, without the query).
 */
export function assetRelativePath(rawPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (decoded === '/' || decoded === '') return 'index.html';
  if (!decoded.startsWith('/') || /[\0\\]/.test(decoded) || decoded.includes('//')) return undefined;
  const segments = decoded.slice(1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return undefined;
  return segments.join('/');
}

function cacheControlFor(relative: string): string {
  return /[.-][0-9a-f]{8,}\.[a-z0-9]+$/i.test(relative) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

export class StaticAssets {
  constructor(readonly dir: string = defaultAssetsDir()) {}

  /** Whether the built UI is there (index.html). */
  isBuilt(): boolean {
    return existsSync(path.join(this.dir, 'index.html'));
  }

  /** The file a request path names, or undefined (404). */
  async read(rawPath: string): Promise<StaticFile | undefined> {
    const relative = assetRelativePath(rawPath);
    if (relative === undefined) return undefined;
    const full = path.join(this.dir, relative);
    const root = path.resolve(this.dir);
    if (!full.startsWith(root + path.sep)) return undefined;
    try {
      const info = await lstat(full);
      if (!info.isFile() || info.size > MAX_FILE_BYTES) return undefined;
      // A path component may still be a symbolic link (a folder): the real path must stay inside the root.
      const real = await realpath(full);
      const realRoot = await realpath(root);
      if (!real.startsWith(realRoot + path.sep)) return undefined;
      const body = await readFile(real);
      const contentType = CONTENT_TYPES[path.extname(relative).toLowerCase()] ?? 'application/octet-stream';
      return { body, contentType, cacheControl: cacheControlFor(relative) };
    } catch {
      return undefined;
    }
  }
}
