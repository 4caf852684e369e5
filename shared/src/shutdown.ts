import type { Logger } from './logger';

/**
 * Shutdown, the same way everywhere: every step runs even when one fails, in order (stop
 * taking work, drain, close connections); failures are reported, never thrown past the rest.
 */
export async function runCleanupSteps(
  steps: [name: string, step: () => unknown][],
  onError: (step: string, err: unknown) => void,
): Promise<void> {
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      onError(name, err);
    }
  }
}

/**
 * A service's end: on the first SIGTERM or SIGINT its steps run in order (runCleanupSteps: each failure
 * logged, the rest still run), then the process exits 0; past `deadlineMs` it exits 1 whatever is left.
 */
export function exitOnSignal(
  steps: [name: string, step: () => unknown][],
  opts: { deadlineMs: number; logger: Pick<Logger, 'warn' | 'info'> },
): void {
  let started = false;
  const stop = async (signal: string): Promise<void> => {
    if (started) return;
    started = true;
    opts.logger.info(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), opts.deadlineMs).unref();
    await runCleanupSteps(steps, (step, err) => opts.logger.warn({ err, step }, 'shutdown step failed'));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** Runs a service's main; a start that fails prints why, as `kumo <name>: ...`, and exits 1. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`kumo ${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
