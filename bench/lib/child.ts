import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export interface Child {
  proc: ChildProcess;
  /** The first line that matched `ready`. */
  line: string;
  /** Everything it printed on stdout so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Runs `bench/lib/<script>` under tsx in a child process and waits for a stdout line matching `ready`. */
export async function startChild(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
  nodeArgs: string[] = [],
): Promise<Child> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const tsx = require.resolve('tsx');
  // BENCH_PROFILE_DIR: every child writes a V8 CPU profile there (see bench/tools/profile-summary.ts).
  const prof = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const proc = spawn(process.execPath, [...prof, ...nodeArgs, '--import', tsx, path], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms: ${out}`)), timeoutMs);
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = out.split('\n').find((l) => ready.test(l));
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready: ${out}`));
    });
  });
  return {
    proc,
    line,
    output: () => out,
    stop: async (graceMs = 5000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
