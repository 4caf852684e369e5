import * as nodeFs from 'node:fs';
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
 *
 * Workers that share a data root (local workers on one machine; the ranks of a gang start at the same
 * moment) grant the same folders at once: a folder is made first and looked at after, never looked for
 * and then made, so that the loser of that race checks the winner's folder instead of failing its task.
 */
export function grantDirectory(roots: string[], dir: string, uid: number, gid: number, fs: GrantFs = nodeFs): boolean {
  const target = resolve(dir);
  const root = roots
    .map((r) => resolve(r))
    .find((r) => target !== r && !relative(r, target).startsWith('..') && !relative(r, target).startsWith(sep));
  if (!root) return false;
  const agentUid = process.getuid?.() ?? 0;
  fs.mkdirSync(root, { recursive: true }); // a data root is the worker's own (its artifacts folder, say)
  const parts = relative(root, target).split(sep);
  let path = root;
  for (let i = 0; i < parts.length; i++) {
    path = `${path}${sep}${parts[i]}`;
    const last = i === parts.length - 1;
    if (madeHere(fs, path, last ? 0o750 : 0o755)) {
      if (last) fs.chownSync(path, uid, gid);
      continue;
    }
    const st = fs.lstatSync(path);
    if (st.isSymbolicLink() || !st.isDirectory()) throw refused(path, 'is not a folder');
    if (st.uid !== agentUid && !(last && st.uid === uid)) throw refused(path, 'belongs to someone else');
    // An existing folder the agent owns stays the agent's: kumo never hands over what it did not make.
    // (One another worker made a moment ago is its to hand over, to the same job uid.)
  }
  return true;
}

/** The file system calls granting makes (node:fs; a test's may lose a race on purpose). */
export type GrantFs = Pick<typeof nodeFs, 'mkdirSync' | 'lstatSync' | 'chownSync'>;

/** Makes the folder: true if this call made it, false if it was there (whoever made it, whatever it is). */
function madeHere(fs: GrantFs, path: string, mode: number): boolean {
  try {
    fs.mkdirSync(path, { mode });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function refused(path: string, why: string): KumoError {
  return new KumoError('TASK_PATH_REFUSED', `cannot give the task '${path}': it ${why}`);
}
