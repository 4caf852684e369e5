import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/kumo.mjs', import.meta.url));

export interface KumoResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KumoRun {
  child: ChildProcess;
  /** Output so far, for tests that act while the command still runs. */
  stderrSoFar(): string;
  done: Promise<KumoResult>;
}

/**
 * The real CLI as a user runs it (`node bin/kumo.mjs ...` from the repo root), in an environment with
 * only the KUMO_* variables given: a developer's own KUMO_URL or KUMO_TOKEN must not leak into a test.
 */
export function startKumo(
  args: string[],
  opts: { env: Record<string, string>; input?: string; cwd?: string },
): KumoRun {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KUMO_')),
  );
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdin!.end(opts.input ?? '');
  const done = new Promise<KumoResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, stderrSoFar: () => stderr, done };
}

export function runKumo(
  args: string[],
  opts: { env: Record<string, string>; input?: string; cwd?: string },
): Promise<KumoResult> {
  return startKumo(args, opts).done;
}
