import { KumoError } from '@kumo/shared';

/** For the listings' tests: the code a promise is rejected with, and whether it is retryable (a KumoError, or the test fails). */
export const code = async (p: Promise<unknown>): Promise<{ code: string; retryable: boolean }> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KumoError)) throw new Error(`expected a KumoError, got ${String(err)}`);
  return { code: err.code, retryable: err.retryable };
};
