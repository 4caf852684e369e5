import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Command tasks run isolated: as root (here and in CI) the worker runs each one as an unprivileged uid
 * of its job, so a task reads only what any user may read and writes only where its uid may. A folder
 * from mkdtemp is 0700 and root's: a task can neither write in it nor pass through it. These make the
 * test's folders what they would be on a real worker, without opening anything else.
 */

/**
 * A fresh folder isolated tasks (other uids) may write in, as a shared data folder on a real worker
 * would be: a ledger tasks append to, a folder a task makes its own files in.
 */
export function taskWritableDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return dir;
}

/**
 * A fresh folder tasks may read and pass through but not write in: fixtures they read, or the folder
 * under which kumo makes a job's output and checkpoint folders for its uid (a worker's artifacts folder).
 */
export function taskReadableDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
