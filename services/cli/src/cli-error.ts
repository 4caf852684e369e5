import type { ErrorCode, ErrorIssue } from '@kumo/shared';
import { EXIT, type ExitCode } from './exit-codes';

/** Codes the CLI raises itself, beside the API's own (`ErrorCode`). */
export type CliOnlyCode = 'USAGE' | 'UNREACHABLE' | 'BAD_RESPONSE';

/**
 * Every failure the CLI reports: what to print and which exit code to leave with. `code` is the API's
 * error code when the API refused the request; a string, not `ErrorCode`, because a newer server may
 * send a code this build does not know yet.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly issues: ErrorIssue[];
  /** A line of advice printed after the message (how to fix it), when there is one. */
  readonly hint: string | undefined;

  constructor(
    exitCode: ExitCode,
    code: ErrorCode | CliOnlyCode | (string & {}),
    message: string,
    opts: { issues?: ErrorIssue[]; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
    this.issues = opts.issues ?? [];
    this.hint = opts.hint;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(EXIT.USAGE, 'USAGE', message, hint === undefined ? {} : { hint });
}
