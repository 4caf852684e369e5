/**
 * The exit codes scripts branch on. Stable: documented in `kumo --help` and docs/cli.md; add new ones,
 * never renumber.
 */
export const EXIT = {
  OK: 0,
  /** The job failed (watch), or the command failed for a reason not listed below. */
  FAILED: 1,
  /** The job was cancelled (watch). */
  CANCELLED: 2,
  /** Bad arguments, an unreadable file, or a spec the API refused as invalid. */
  USAGE: 3,
  NOT_FOUND: 4,
  /** No token, a wrong or revoked token, or a role that may not do this. */
  AUTH: 5,
  /** Nothing answered at the API's URL. */
  UNREACHABLE: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
