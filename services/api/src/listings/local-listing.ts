import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { KumoError } from '@kumo/shared';

/** Whether `path` is `root` or below it (both absolute and normalised). */
function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Below its root, a path may not pass through a hidden file or folder (`.kumo/admin-token`, `.git`, `.env`). */
function hiddenBelow(path: string, root: string): boolean {
  return relative(root, path)
    .split(sep)
    .some((s) => s.startsWith('.'));
}

/**
 * Opens a local listing for reading, if it lies inside one of `roots` once `..` and symlinks are
 * resolved, and is a regular file (not a folder, a FIFO, a device). Refused: LISTING_NOT_ALLOWED.
 * Hidden files and folders below a root are refused too: the working directory, a default root, holds
 * `.kumo/admin-token`, and a listing's lines reach the tasks a submitter runs. A hidden folder that
 * should be readable is named as a root of its own (KUMO_LISTING_ROOTS=.kumo/demo).
 */
export async function openLocalListing(uri: string, path: string, roots: readonly string[]): Promise<FileHandle> {
  const notAllowed = (): KumoError =>
    new KumoError(
      'LISTING_NOT_ALLOWED',
      `source.listing '${uri}' is not inside a folder listings may be read from (the control plane's working directory or KUMO_LISTING_ROOTS), or is hidden`,
    );
  const given = roots.map((r) => resolve(r));
  const real = (await Promise.all(given.map((r) => realpath(r).catch(() => undefined)))).filter(
    (r): r is string => r !== undefined,
  );
  // First by name alone, so that nothing outside the roots is even looked at (its existence is not told).
  if (!given.some((r) => inside(path, r)) && !real.some((r) => inside(path, r))) throw notAllowed();
  let target: string;
  try {
    target = await realpath(path);
  } catch (err) {
    throw unreadable(uri, err);
  }
  if (!real.some((r) => inside(target, r) && !hiddenBelow(target, r))) throw notAllowed();
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: the path was resolved above, so a symlink here was put in since; O_NONBLOCK: a FIFO must not hang the open.
    handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw unreadable(uri, err);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new KumoError('LISTING_UNREADABLE', `source.listing '${uri}' is not a regular file`);
  }
  return handle;
}

function unreadable(uri: string, err: unknown): KumoError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'there is no such file'
      : code === 'EACCES'
        ? 'the control plane may not read it'
        : `it cannot be opened (${code ?? 'error'})`;
  return new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': ${why}`, { cause: err });
}
