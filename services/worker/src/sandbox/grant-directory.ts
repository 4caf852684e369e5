import { chownSync, lstatSync, mkdirSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { KumoError } from '@kumo/shared';

/**
 * Gives a task's uid a local folder the spec named (its output prefix, its checkpoint folder), acting as
 * root on a path a submitter chose, so carefully:
 * - only under one of the data roots the admin allowed (else nothing is done: the task writes there
 *   only if its uid already may);
 * - every folder on the way must be a real folder (no symlink: a task cannot point kumo elsewhere) that
 *   the agent owns, or the task's own uid for the last one;
 * - missing folders on the way are made by the agent and stay the agent's; only the last is the task's.
 * Returns whether kumo took care of the folder.
 */
export function grantDirectory(roots: string[], dir: string, uid: number, gid: number): boolean {
  const target = resolve(dir);
  const root = roots
    .map((r) => resolve(r))
    .find((r) => target !== r && !relative(r, target).startsWith('..') && !relative(r, target).startsWith(sep));
  if (!root) return false;
  const agentUid = process.getuid?.() ?? 0;
  mkdirSync(root, { recursive: true }); // a data root is the worker's own (its artifacts folder, say)
  const parts = relative(root, target).split(sep);
  let path = root;
  for (let i = 0; i < parts.length; i++) {
    path = `${path}${sep}${parts[i]}`;
    const last = i === parts.length - 1;
    const st = lstatOrUndefined(path);
    if (!st) {
      mkdirSync(path, { mode: last ? 0o750 : 0o755 });
      if (last) chownSync(path, uid, gid);
      continue;
    }
    if (st.isSymbolicLink() || !st.isDirectory()) throw refused(path, 'is not a folder');
    if (st.uid !== agentUid && !(last && st.uid === uid)) throw refused(path, 'belongs to someone else');
    // An existing folder the agent owns stays the agent's: kumo never hands over what it did not make.
  }
  return true;
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function refused(path: string, why: string): KumoError {
  return new KumoError('TASK_PATH_REFUSED', `cannot give the task '${path}': it ${why}`);
}
