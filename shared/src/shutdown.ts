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
