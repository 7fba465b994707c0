// Durable file writes: temp file, fsync, rename, then fsync of the directory (which many libraries skip),
// so a crash leaves either the old or the new file, never a torn one.
import { open, rename, rm, mkdir, symlink, readlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileDurably(file: string, data: string, mode: number): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDirectory(dir);
}

/** Points `link` at `target` atomically (a new symlink renamed over the old one). */
export async function swapSymlink(link: string, target: string): Promise<void> {
  const dir = path.dirname(link);
  const temp = path.join(dir, `.${path.basename(link)}.${randomBytes(6).toString('hex')}.tmp`);
  await symlink(target, temp);
  await rename(temp, link);
  await fsyncDirectory(dir);
}

export async function readSymlink(link: string): Promise<string | undefined> {
  try {
    return await readlink(link);
  } catch {
    return undefined;
  }
}
