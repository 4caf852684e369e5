import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../services/local/src/main.ts', import.meta.url));

/** `npm start` as a real OS process (node + tsx on the composer), so a test can kill -9 it. */
export async function spawnControlPlane(
  env: Record<string, string>,
  opts: { ownProcessGroup?: boolean } = {},
): Promise<{ proc: ChildProcess; output: () => string }> {
  // ownProcessGroup: the process leads a group of its own, as `npm start` in a terminal's foreground
  // does, so that a test can signal the whole group the way Ctrl-C does.
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownProcessGroup ?? false,
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes('kumo is up')) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    proc.once('exit', (code) => {
      clearInterval(t);
      reject(new Error(`control plane exited with ${code}: ${out}`));
    });
  });
  return { proc, output: () => out };
}

/** Pids of the worker processes a control plane process started. */
export function workerPids(parentPid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(parentPid), '-f', 'worker/src/main.ts'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/**
 * Whether a process has exited. An orphan is re-parented to the machine's init, which may never reap
 * it: a zombie has exited too, though `kill -0` still finds it.
 */
export function processExited(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

export function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** SIGTERM, then wait for the exit (graceful shutdown is part of what is tested); resolves the exit code. */
export async function stopProcess(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  return exited;
}
