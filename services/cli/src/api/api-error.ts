import type { ErrorCode, ErrorIssue } from '@kumo/shared';
import { CliError } from '../cli-error';
import { EXIT, type ExitCode } from '../exit-codes';

/** API codes whose exit code differs from what their HTTP status alone would say. */
const EXIT_BY_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  INVALID_INPUT: EXIT.USAGE,
  INVALID_JSON: EXIT.USAGE,
  UNSUPPORTED_MEDIA_TYPE: EXIT.USAGE,
  BODY_TOO_LARGE: EXIT.USAGE,
  UNAUTHENTICATED: EXIT.AUTH,
  FORBIDDEN: EXIT.AUTH,
  NOT_FOUND: EXIT.NOT_FOUND,
  JOB_NOT_FOUND: EXIT.NOT_FOUND,
  POOL_NOT_FOUND: EXIT.NOT_FOUND,
  TOKEN_NOT_FOUND: EXIT.NOT_FOUND,
};

/** For codes this build does not know (a newer server, a proxy in between): the HTTP status decides. */
function exitForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 400 || status === 413 || status === 415) return EXIT.USAGE;
  return EXIT.FAILED;
}

interface ErrorBody {
  error: { code: string; message: string; retryable?: boolean; issues?: ErrorIssue[] };
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const e = (body as { error: unknown }).error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/**
 * A refused request as a CliError: the API's code, message and issues when the body has our error
 * shape; the status line otherwise (a proxy's HTML page, an empty 502).
 */
export function apiError(status: number, body: unknown): CliError {
  if (!isErrorBody(body)) {
    const text = typeof body === 'string' && body.trim() !== '' ? `: ${body.trim().slice(0, 200)}` : '';
    return new CliError(exitForStatus(status), `HTTP_${status}`, `the API answered ${status}${text}`);
  }
  const { code, message, issues, retryable } = body.error;
  const exitCode = EXIT_BY_CODE[code as ErrorCode] ?? exitForStatus(status);
  return new CliError(exitCode, code, message, {
    issues: Array.isArray(issues) ? issues : [],
    // The API's word that the same request may succeed later, unchanged (a job still stopping, a rate limit).
    ...(retryable === true ? { hint: 'this may succeed later as it is: try again in a moment' } : {}),
  });
}
