import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Where a secret could sit in a logged object: bearer tokens and the board's cookie (headers of a
 * logged request or response, a logged options object), the admin token under its variable's name,
 * and the usual names for passwords. Code never logs them on purpose (test/security/secrets-in-logs
 * checks a whole run); this is the net under a mistake. Paths are pino's: `*` is one level, any key.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'adminToken',
  '*.adminToken',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'KUMO_ADMIN_TOKEN',
  '*.KUMO_ADMIN_TOKEN',
  'KUMO_TOKEN_SIGNING_KEY',
  '*.KUMO_TOKEN_SIGNING_KEY',
  'tokenSigningKey',
  '*.tokenSigningKey',
  'signingKey',
  '*.signingKey',
  'env.KUMO_ADMIN_TOKEN',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * One root logger per process; components take `logger.child({component})`. Token values never go in
 * fields: redact catches the usual places they could leak through. `level` comes from the service's
 * parsed LOG_LEVEL; a fallback logger made without one (a bus or client built without a logger) logs at
 * info.
 */
export function createLogger(opts: { name: string; level?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      redact: {
        paths: REDACT_PATHS,
        censor: '[redacted]',
      },
      base: { pid: process.pid },
    },
    opts.destination,
  );
}
