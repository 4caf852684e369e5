import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { jobSpecSchema, taskEnvironment, type JobSpecInput } from '@kumo/shared';
import { CHECKPOINT_PREFIX, PROGRESS_PREFIX, RESULT_PREFIX } from '@kumo/worker';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const EXAMPLES = join(REPO, 'examples');
// The worker's own line prefixes: these tests read task output exactly as the worker does.
export { CHECKPOINT_PREFIX };

/**
 * The environment a worker gives task `index` of `spec`: kumo's own taskEnvironment, so these tests
 * run the programs exactly as a worker would, not with the test runner's environment.
 */
export function workerEnv(
  spec: JobSpecInput,
  index = 0,
  extra: { attempt?: number; checkpointDir?: string; resumeFrom?: string } = {},
): Record<string, string> {
  return taskEnvironment(
    {
      jobId: 'job_examples_test',
      spec: jobSpecSchema.parse(spec),
      index,
      attempt: extra.attempt ?? 1,
      workerId: 'worker-test',
      ...(extra.checkpointDir !== undefined ? { checkpointDir: extra.checkpointDir } : {}),
      ...(extra.resumeFrom !== undefined ? { resumeFrom: extra.resumeFrom } : {}),
    },
    process.env,
  );
}

export interface TaskRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Every ::kumo::result line merged, as the worker merges them. */
  result?: Record<string, any>;
  resultLines: number;
  progress: Record<string, any>[];
  checkpoints: { step: number; tokens: number; uri: string }[];
  /** stdout lines that are not contract lines: the task's log. */
  log: string[];
  stderr: string;
}

export interface RunOptions {
  args?: string[];
  /** Default: the repository root, as for a worker started by `npm start`. */
  cwd?: string;
  timeoutMs?: number;
  /** Called for each stdout line as it arrives; `kill` sends the process a signal (SIGTERM: preemption). */
  onLine?: (line: string, kill: (sig: NodeJS.Signals) => void) => void;
}

/** Runs `python3 examples/<script>` with `env` (and nothing else), reading stdout as the worker does. */
export function runPython(script: string, env: Record<string, string>, opts: RunOptions = {}): Promise<TaskRun> {
  return runCommand(['python3', join(EXAMPLES, script)], env, opts);
}

/** Runs a task's command (run.command of a spec) with `env` (and nothing else), reading stdout as the worker does. */
export function runCommand(argv: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<TaskRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, [...argv.slice(1), ...(opts.args ?? [])], {
      cwd: opts.cwd ?? REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: TaskRun = {
      code: null,
      signal: null,
      resultLines: 0,
      progress: [],
      checkpoints: [],
      log: [],
      stderr: '',
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    const kill = (sig: NodeJS.Signals): void => void child.kill(sig);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(RESULT_PREFIX)) {
        run.result = { ...run.result, ...JSON.parse(line.slice(RESULT_PREFIX.length)) };
        run.resultLines++;
      } else if (line.startsWith(PROGRESS_PREFIX)) run.progress.push(JSON.parse(line.slice(PROGRESS_PREFIX.length)));
      else if (line.startsWith(CHECKPOINT_PREFIX))
        run.checkpoints.push(JSON.parse(line.slice(CHECKPOINT_PREFIX.length)));
      else run.log.push(line);
      opts.onLine?.(line, kill);
    });
    child.stderr.on('data', (b: Buffer) => (run.stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      resolvePromise(run);
    });
  });
}

export interface SampleWarcs {
  dir: string;
  /** warc.paths as written: relative to `dir`, CommonCrawl style. */
  relative: string[];
  absolute: string[];
}

/** Generates the sample WARC files into `dir` (three files: two .warc.gz and one plain .warc). */
export function makeSampleWarcs(dir: string): SampleWarcs {
  const r = spawnSync('python3', [join(EXAMPLES, 'warc/make_sample_warcs.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_sample_warcs.py failed: ${r.stderr}`);
  const relative = readFileSync(join(dir, 'warc.paths'), 'utf8').split('\n').filter(Boolean);
  return { dir, relative, absolute: relative.map((p) => join(dir, p)) };
}

/** The URLs of the pages the sample holds in Japanese, per file (what an extractor must keep, exactly). */
export const SAMPLE_JAPANESE = [
  [
    'https://travel.example.jp/blog/2023/11/kyoto-koyo',
    'https://recipe.example.jp/nikujaga.html',
    'https://library.example.jp/news/2023-12-01.html',
  ],
  ['https://shop.example.jp/faq', 'https://weather.example.jp/weekend'],
  ['https://hiking.example.jp/fuji/first-time'],
] as const;

export function readJsonl(path: string): Record<string, any>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Share of Hiragana/Katakana/Kanji among the letters of `text`. */
export function japaneseShare(text: string): number {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  const ja = text.match(/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/gu)?.length ?? 0;
  return letters ? ja / letters : 0;
}
