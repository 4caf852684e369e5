import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { addsUp, type ProgressLike } from './http';
import { waitFor } from './wait';

export interface JobLike {
  id: string;
  state: string;
  reason?: string;
  handBacks: number;
  progress: ProgressLike & { ratePerMinute: number; etaSeconds: number | null };
}

type Api = { get(path: string): Promise<{ status: number; body: any }> };
type SubmittingApi = Api & { post(path: string, body?: unknown): Promise<{ status: number; body: any }> };

/** Polls the job until it ends, checking at every poll that its counts add up; then checks nothing is left running or queued. */
export async function waitForEnd(api: Api, id: string, timeoutMs: number): Promise<JobLike> {
  const job = await waitFor(
    async () => {
      const res = await api.get(`/v1/jobs/${id}`);
      if (res.status !== 200) return undefined;
      const j = res.body as JobLike;
      expect(addsUp(j.progress), JSON.stringify(j.progress)).toBe(true);
      return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `job ${id} to end` },
  );
  // No stuck job: once ended, nothing of it runs or waits.
  expect(job.progress.running).toBe(0);
  expect(job.progress.queued).toBe(0);
  return job;
}

/** The one line a fault test prints, for the notes: its name and the job's final counts. */
export function reportFault(name: string, job: JobLike, extra: Record<string, string | number> = {}): void {
  const p = job.progress;
  const more = Object.entries(extra)
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  console.log(
    `FAULT ${name}: state=${job.state} total=${p.total} succeeded=${p.succeeded} failed=${p.failed} running=${p.running} queued=${p.queued} handBacks=${job.handBacks}${more}`,
  );
}

/**
 * Submits a `total`-task extraction job on the local pool whose every run first appends
 * `<index> <attempt> <worker>` to the file `ledger`, then runs the shell `then`; resolves with its id.
 * The ledger is written by the tasks themselves, so it tells how often each task really ran
 * whatever kumo counted: the ground truth a fault test checks kumo's counts against.
 */
export async function submitLedgerJob(
  api: SubmittingApi,
  opts: { name: string; total: number; ledger: string; then: string },
): Promise<string> {
  const sub = await api.post('/v1/jobs', {
    kind: 'extraction',
    name: opts.name,
    source: { snapshot: 'CC-MAIN-2023-50', batches: opts.total },
    pool: 'local',
    env: { LEDGER: opts.ledger },
    run: {
      command: ['sh', '-c', `echo "$KUMO_TASK_INDEX $KUMO_TASK_ATTEMPT $KUMO_WORKER_ID" >> "$LEDGER"; ${opts.then}`],
    },
  });
  expect(sub.status).toBe(201);
  return sub.body.id as string;
}

/** The task index of every run a ledger job's tasks recorded (see submitLedgerJob), in the order they ran. */
export function readLedger(ledger: string): number[] {
  return readFileSync(ledger, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[0]));
}

/**
 * Prints the fault's line (reportFault), then checks what every ledger fault test claims whatever the
 * fault: the job succeeded with each of its `total` tasks counted once, and the ledger shows every
 * task ran. The line comes first so that a failing run still leaves its numbers in the log.
 */
export function reportLedgerFault(
  name: string,
  job: JobLike,
  runs: number[],
  total: number,
  extra: Record<string, string | number> = {},
): void {
  reportFault(name, job, extra);
  expect(job.state).toBe('succeeded');
  expect(job.progress).toMatchObject({ total, succeeded: total, failed: 0 });
  expect(new Set(runs).size).toBe(total);
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type ServiceName = 'api' | 'scheduler' | 'provisioner' | 'worker';

/** What each service logs once it is ready (at LOG_LEVEL=info). */
const READY: Record<ServiceName, string> = {
  api: '"msg":"Server listening',
  scheduler: '"msg":"scheduler started"',
  provisioner: '"msg":"provisioner started"',
  // Either kind: the fleet's ('worker started') or a contributor's over HTTPS ('https worker started').
  worker: 'worker started"',
};

export interface ServiceProcess {
  name: ServiceName;
  proc: ChildProcess;
  output(): string;
  /** SIGKILL, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for the exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * One service alone, as production runs it (`npx tsx services/<name>/src/main.ts`), configured by
 * environment (each service's env.ts). Resolves once it says it is ready. A `worker` started so is a
 * machine of its own (a contributor's laptop): no control plane is its parent.
 */
export async function spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes(READY[name])) {
        clearInterval(t);
        proc.off('exit', onExit);
        resolve();
      }
    }, 50);
    const onExit = (code: number | null): void => {
      clearInterval(t);
      reject(new Error(`${name} exited with ${code}: ${out}`));
    };
    proc.once('exit', onExit);
  });
  const exited = (): Promise<number | null> =>
    proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve(proc.exitCode)
      : new Promise((r) => proc.once('exit', (code) => r(code)));
  return {
    name,
    proc,
    output: () => out,
    kill9: async () => {
      const done = exited();
      proc.kill('SIGKILL');
      await done;
    },
    stop: async () => {
      const done = exited();
      proc.kill('SIGTERM');
      return done;
    },
  };
}

/** A sleep. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
