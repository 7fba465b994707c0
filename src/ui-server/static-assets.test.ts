import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetRelativePath, packageRoot, StaticAssets } from './static-assets.js';

describe('static UI assets', () => {
  let root: string;
  let assets: StaticAssets;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'certplane-assets-'));
    await mkdir(path.join(root, 'ui', 'assets'), { recursive: true });
    await writeFile(path.join(root, 'secret.txt'), 'outside');
    await writeFile(path.join(root, 'ui', 'index.html'), '<!doctype html><title>x</title>');
    await writeFile(path.join(root, 'ui', 'assets', 'app-3f9a1c2b.js'), 'console.log(1)');
    await writeFile(path.join(root, 'ui', 'assets', 'style.css'), 'body{}');
    await writeFile(path.join(root, 'ui', '.hidden'), 'dot');
    await symlink(path.join(root, 'secret.txt'), path.join(root, 'ui', 'link.txt'));
    await symlink(root, path.join(root, 'ui', 'up'));
    assets = new StaticAssets(path.join(root, 'ui'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('serves index.html at / and files by path with their content type and cache policy', async () => {
    expect(assets.isBuilt()).toBe(true);
    const index = await assets.read('/');
    expect(index).toMatchObject({ contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' });
    expect(index!.body.toString()).toContain('<title>x</title>');
    expect(await assets.read('/assets/app-3f9a1c2b.js')).toMatchObject({ contentType: 'text/javascript; charset=utf-8', cacheControl: 'public, max-age=31536000, immutable' });
    expect(await assets.read('/assets/style.css')).toMatchObject({ contentType: 'text/css; charset=utf-8', cacheControl: 'no-cache' });
    expect(await assets.read('/assets/style%2Ecss')).toMatchObject({ contentType: 'text/css; charset=utf-8' });
  });

  it('answers nothing for traversal, encoded traversal, backslashes, NUL, dotfiles, folders and links out of the folder', async () => {
    for (const attempt of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets\\..\\..\\secret.txt',
      '/index.html%00',
      '/%',
      '/.hidden',
      '/assets',
      '/assets/',
      '//etc/passwd',
      '/link.txt',
      '/up/secret.txt',
      '/missing.js',
    ]) {
      expect(await assets.read(attempt), attempt).toBeUndefined();
    }
  });

  it('keeps a relative path inside the folder', () => {
    expect(assetRelativePath('/')).toBe('index.html');
    expect(assetRelativePath('/a/b.js')).toBe('a/b.js');
    expect(assetRelativePath('/a/./b.js')).toBeUndefined();
    expect(assetRelativePath('/a/../b.js')).toBeUndefined();
  });

  it('finds the package root (the folder with package.json) and says when the UI is not built', async () => {
    expect(path.basename(packageRoot())).not.toBe('ui-server');
    expect(new StaticAssets(path.join(root, 'nothing')).isBuilt()).toBe(false);
  });
});
