import { KumoError } from '@kumo/shared';
import type { FailureContext } from './gce-errors';

/**
 * Errors of reads and deletes: safe to repeat, so retryable unless the API said the request itself is
 * wrong (409 is "not ready yet" for a delete, 429 a rate limit: both pass with time).
 */
export function readError(
  call: string,
  ctx: FailureContext,
  httpStatus: number | undefined,
  cause: unknown,
): KumoError {
  const rejected =
    httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500 && httpStatus !== 409 && httpStatus !== 429;
  return new KumoError(rejected ? 'PROVIDER_REJECTED' : 'PROVIDER_UNAVAILABLE', `gce ${call} failed`, {
    cause,
    details: { ...ctx, httpStatus },
  });
}
