import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

const here = dirname(fileURLToPath(import.meta.url));

/** Scripts named `verbNoun-<number of keys>.lua`; loaded once and run with EVALSHA by ioredis. */
const SCRIPTS = ['createJob-5', 'advanceFeed-1', 'endJob-4', 'holdJob-1', 'applyTaskEvents-10', 'moveVm-2', 'feedTasks-7', 'joinGang-2', 'breakGang-1', 'leaveGang-1', 'reserveEvaluation-1'] as const;
type ScriptName = (typeof SCRIPTS)[number] extends `${infer N}-${number}` ? N : never;

export type ScriptRunner = Record<ScriptName, (keys: string[], args: (string | number)[]) => Promise<unknown>>;

const sources = new Map<string, { lua: string; keys: number }>();
for (const file of SCRIPTS) {
  const [name, keys] = file.split('-') as [string, string];
  sources.set(name, { lua: readFileSync(join(here, 'lua', `${file}.lua`), 'utf8'), keys: Number(keys) });
}

const bound = new WeakMap<Redis, ScriptRunner>();

/** Binds the Lua scripts to a connection (once per connection); each call is one atomic round trip. */
export function bindScripts(redis: Redis): ScriptRunner {
  const known = bound.get(redis);
  if (known) return known;
  const runner: Partial<ScriptRunner> = {};
  for (const [name, { lua, keys }] of sources) {
    const command = `kumo_${name}`;
    if (!(command in redis)) redis.defineCommand(command, { lua, numberOfKeys: keys });
    const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[command]!.bind(redis);
    runner[name as ScriptName] = (k, a) => fn(...k, ...a);
  }
  bound.set(redis, runner as ScriptRunner);
  return runner as ScriptRunner;
}
