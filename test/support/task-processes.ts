import { readdirSync, readFileSync } from 'node:fs';

/**
 * The host pids of a running task's processes, found by variables of their environment (KUMO_JOB_ID,
 * KUMO_GANG_RANK, ...). An isolated task runs in a pid namespace of its own: the pids it sees (os.getpid,
 * os.getppid) are that namespace's, 1 being its init, and must never be signalled from here. The
 * processes the worker starts for it (unshare, the namespace's init, the program) all carry the task's
 * environment, so killing every one found kills the task and everything in its namespace.
 */
export function taskPids(vars: Record<string, string> & { KUMO_JOB_ID: string }): number[] {
  // Never an empty filter: it would match every process of the machine.
  if (!vars.KUMO_JOB_ID) throw new Error("taskPids needs the task's KUMO_JOB_ID");
  const want = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let env: string[];
    try {
      env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (want.every((w) => env.includes(w))) pids.push(Number(entry));
  }
  return pids;
}
