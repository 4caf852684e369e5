/** A cloud call that did not answer within its time limit. The call may still land: its outcome is unknown. */
export class CallTimeoutError extends Error {
  readonly timeoutMs: number;
  readonly call: string;

  constructor(call: string, timeoutMs: number) {
    super(`${call} did not answer within ${timeoutMs} ms`);
    this.name = 'CallTimeoutError';
    this.call = call;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Races a call against a timer. google-gax's REST transport ignores the per-call deadline and the
 * client's LRO wrapper drops the canceller, so the limit is enforced here; a late answer is dropped
 * (its rejection is caught so that it never becomes an unhandled one).
 */
export async function withTimeout<T>(call: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(call, timeoutMs)), timeoutMs);
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
