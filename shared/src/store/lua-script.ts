import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { KumoError } from '../errors';

/** An argument to a script: Redis sends every one as a string. */
export type LuaArg = string | number;

/**
 * A Lua script bound to its file, its keys by name, and how its reply is read. Each run is one atomic
 * round trip (EVALSHA through ioredis, EVAL once per connection when Redis does not know the script yet).
 */
export interface LuaScript<K extends string, R> {
  /** `verbNoun`, from the file name; the command is `kumo_<name>` on every connection. */
  readonly name: string;
  /** The KEYS names, in KEYS order: KEYS[1] is `keys[0]`. */
  readonly keys: readonly K[];
  /** The source as Redis runs it, its includes resolved. */
  readonly lua: string;
  run(redis: Redis, keys: Readonly<Record<K, string>>, args: readonly LuaArg[]): Promise<R>;
}

/**
 * The one way kumo loads Lua.
 *
 * - A script is a file named `verbNoun-<number of keys>.lua`, with a header that lists its KEYS, ARGV
 *   and what it returns. The number in the name must equal the key names given here: a script and its
 *   caller that disagree on the keys fail at load, not with a wrong key at run time.
 * - A line `--@include <path>` is replaced, at load, by the file at that path (relative to the script's
 *   folder). A block that several scripts share (what ending a job does) is written once that way.
 * - Return convention: a script answers with an integer, a string, or a flat array of them (Redis
 *   turns a Lua nil or false into a null, so none answers with those; "nothing" is 0, "" or {}).
 *   What it means is read in one place, the `reply` given with the script, so callers get a typed
 *   value, never a raw reply to cast.
 */
export function defineScript<const K extends readonly string[], R>(
  file: URL,
  keys: K,
  reply: (raw: unknown) => R,
): LuaScript<K[number], R> {
  const path = fileURLToPath(file);
  const m = /^([a-z][A-Za-z]*)-(\d+)\.lua$/.exec(basename(path));
  if (!m) throw new KumoError('INTERNAL', `Lua script ${basename(path)} is not named verbNoun-<keys>.lua`);
  const name = m[1]!;
  if (Number(m[2]) !== keys.length) {
    throw new KumoError(
      'INTERNAL',
      `Lua script ${basename(path)} takes ${m[2]} keys, but ${keys.length} are named (${keys.join(', ')})`,
    );
  }
  const lua = withIncludes(path, new Set());
  const known = sources.get(name);
  if (known !== undefined && known !== lua) throw new KumoError('INTERNAL', `two Lua scripts are named ${name}`);
  sources.set(name, lua);
  const command = `kumo_${name}`;
  return {
    name,
    keys,
    lua,
    async run(redis, named, args) {
      if (!(command in redis)) redis.defineCommand(command, { lua, numberOfKeys: keys.length });
      const fn = (redis as unknown as Record<string, (...a: LuaArg[]) => Promise<unknown>>)[command]!;
      return reply(await fn.call(redis, ...keys.map((k: K[number]) => named[k]), ...args));
    },
  };
}

/** Each script's source by name: one name, one script, across every module that defines scripts. */
const sources = new Map<string, string>();

function withIncludes(path: string, seen: Set<string>): string {
  if (seen.has(path)) throw new KumoError('INTERNAL', `Lua include cycle at ${path}`);
  const text = readFileSync(path, 'utf8');
  return text.replace(/^--@include\s+(\S+)\s*$/gm, (_, rel: string) =>
    withIncludes(join(dirname(path), rel), new Set([...seen, path])).trimEnd(),
  );
}

/** Readers of the reply shapes the convention allows. */
export const reply = {
  /** An integer status or count. */
  integer: (raw: unknown): number => Number(raw),
  /** A string (a state, say). */
  string: (raw: unknown): string => String(raw ?? ''),
  /** A flat array, as Redis gives it; the script's header says what its elements are. */
  array: <T extends unknown[]>(raw: unknown): T => (Array.isArray(raw) ? raw : []) as T,
  /** True when the script answered 1. */
  done: (raw: unknown): boolean => Number(raw) === 1,
};
