import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One root logger per process; components take `logger.child({component})`. Token values never go in
 * fields: redact catches the usual places they could leak through.
 */
export function createLogger(opts: { name: string; level?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
      base: { pid: process.pid },
    },
    opts.destination,
  );
}
