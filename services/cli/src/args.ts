import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-error';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs with the command's own options, its positionals counted, and every complaint a usage error
 * (exit 3) that names the command's usage line.
 */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  spec: { options: O; positionals: { min: number; max: number }; usage: string },
): {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
} {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec.options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0] ?? 'invalid arguments', `usage: ${spec.usage}`);
  }
  const n = parsed.positionals.length;
  if (n < spec.positionals.min) throw usageError('missing argument', `usage: ${spec.usage}`);
  if (n > spec.positionals.max)
    throw usageError(`unexpected argument '${parsed.positionals[spec.positionals.max]}'`, `usage: ${spec.usage}`);
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A whole number in [min, max], for --limit and task indexes; "1e3" and "0x10" are refused, not read. */
export function parseWholeNumber(what: string, raw: string, range: { min: number; max: number }): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < range.min || n > range.max)
    throw usageError(`${what} must be a whole number from ${range.min} to ${range.max}, not '${raw}'`);
  return n;
}
