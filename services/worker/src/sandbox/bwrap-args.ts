import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The mount view of a non-root (bubblewrap) task, apart from TaskSandbox: pure argv building over the file system.

/**
 * bubblewrap's view of the machine for a task: everything read-only (the system's /tmp included: inputs
 * may live there), the hidden folders replaced by empty ones (other tasks' scratch among them), the
 * read-only folders under them put back, the entries of kumo's data folder that are not world-readable
 * hidden, then its scratch and its job's folders writable; its own /proc and /dev, pid, IPC and UTS
 * namespaces. The network stays (its data comes from there).
 */
export function bwrapArgs(v: {
  hidden: string[];
  privateDataDirs: string[];
  readOnly: string[];
  writable: string[];
  cwd: string;
}): string[] {
  return [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    // The task dies with the worker (kill -9, the OOM killer), not runs on beside its redelivered copy.
    '--die-with-parent',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    ...v.hidden.filter((p) => existsSync(p)).flatMap((p) => ['--tmpfs', p]),
    ...v.readOnly.filter((p) => existsSync(p)).flatMap((p) => ['--ro-bind', p, p]),
    ...v.privateDataDirs.flatMap(privateEntries),
    ...v.writable.flatMap((p) => ['--bind', p, p]),
    '--chdir',
    v.cwd,
  ];
}

/** The entries of a folder that only their owner may read, covered: a folder by an empty one, a file by /dev/null. */
function privateEntries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || (st.mode & 0o004) !== 0) return [];
    return st.isDirectory() ? ['--tmpfs', path] : ['--ro-bind', '/dev/null', path];
  });
}
