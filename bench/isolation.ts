import { wallClock } from '@kumo/shared';
import { DEFAULT_SANDBOX_SETTINGS, runTask, TaskSandbox } from '@kumo/worker';
import type { BenchContext } from './lib/context';
import { fmt, passIf, type Row } from './lib/report';

/**
 * Row 10: what isolation costs a command task. The same `true` tasks, run by the worker's own task
 * runner with the same concurrency, isolated (root: a uid of the job's, its own pid and mount
 * namespaces, a scratch folder made and removed; else bubblewrap) and not isolated, in one run.
 * Interleaved in rounds, so load that comes and goes on the machine falls on both sides alike.
 */
export async function isolation(ctx: BenchContext): Promise<Row[]> {
  const tasks = ctx.quick ? 400 : 2000;
  // One at a time: the difference per task is then what isolating one task costs, not a share of a queue.
  const concurrency = 1;
  const rounds = 4;
  const isolated = new TaskSandbox(DEFAULT_SANDBOX_SETTINGS);
  if (isolated.mode !== 'isolated')
    throw new Error(`this machine cannot isolate tasks (${isolated.describe()}): nothing to measure`);
  const plain = new TaskSandbox(
    { ...DEFAULT_SANDBOX_SETTINGS, allowUnisolated: true },
    { isRoot: false, hasTools: false, hasBwrap: false },
  );
  const runAll = async (sandbox: TaskSandbox, n: number): Promise<number> => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          await runTask({
            run: { command: ['true'] },
            env: { PATH: '/usr/bin:/bin', KUMO_JOB_ID: `job-bench-${i % 16}` },
            timeoutMs: 60_000,
            signal: new AbortController().signal,
            clock: wallClock,
            sandbox,
          });
        }
      }),
    );
    return performance.now() - t0;
  };
  let isolatedMs = 0;
  let plainMs = 0;
  for (let r = 0; r < rounds; r++) {
    plainMs += await runAll(plain, tasks / rounds);
    isolatedMs += await runAll(isolated, tasks / rounds);
  }
  // Per task of wall time, and what isolation adds to each.
  const perTaskIsolated = isolatedMs / tasks;
  const perTaskPlain = plainMs / tasks;
  const extraPerTaskMs = (isolatedMs - plainMs) / tasks;
  ctx.log(
    `isolation (${isolated.strategy}): ${fmt.int(tasks)} tasks, ${perTaskIsolated.toFixed(2)} ms/task isolated vs ${perTaskPlain.toFixed(2)} not`,
  );
  return [
    {
      n: 10,
      id: 'isolation',
      what: `command tasks (\`true\`, ${fmt.int(tasks)}), isolated vs not: added latency per task`,
      kumo: `${(tasks / (isolatedMs / 1000)).toFixed(0)} tasks/s isolated`,
      baseline: `${(tasks / (plainMs / 1000)).toFixed(0)} tasks/s not isolated`,
      ratio: `${extraPerTaskMs.toFixed(1)} ms/task`,
      target: '< 20 ms/task',
      status: passIf(extraPerTaskMs < 20),
      notes: `${concurrency} at once, ${rounds} interleaved rounds, strategy ${isolated.strategy}. Added latency = (isolated - not) wall time / tasks, one at a time: what isolating one task costs.`,
      data: { tasks, concurrency, rounds, isolatedMs, plainMs, extraPerTaskMs, strategy: isolated.strategy },
    },
  ];
}
