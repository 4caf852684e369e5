import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../../../test/support/prefix';
import { isKumoError } from '../errors';
import { defineScript, reply } from './lua-script';
import { storeScripts } from './scripts';

const dir = mkdtempSync(join(tmpdir(), 'kumo-lua-'));
const file = (name: string, text: string): URL => {
  writeFileSync(join(dir, name), text);
  return pathToFileURL(join(dir, name));
};

describe('Lua scripts: one loader', () => {
  let redis: Redis;
  const prefix = testPrefix('lua-script');

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('refuses a script whose file name and named keys disagree on the key count', () => {
    const url = file('setTwo-2.lua', 'return 1\n');
    const err = (() => {
      try {
        defineScript(url, ['only'], reply.integer);
      } catch (e) {
        return e;
      }
    })();
    expect(isKumoError(err) && err.code).toBe('INTERNAL');
    expect(() => defineScript(file('badname.lua', 'return 1\n'), [], reply.integer)).toThrow(/verbNoun/);
  });

  it('runs with keys by name, in the order they were named, and includes shared blocks at load', async () => {
    file('blocks.lua', 'local function twice(x) return x .. x end\n');
    const s = defineScript(
      file('pairKeys-2.lua', '--@include blocks.lua\nreturn {twice(KEYS[1]), KEYS[2], ARGV[1]}\n'),
      ['first', 'second'],
      reply.array<[string, string, string]>,
    );
    expect(s.lua).not.toContain('--@include');
    expect(await s.run(redis, { second: `${prefix}:b`, first: `${prefix}:a` }, [7])).toEqual([
      `${prefix}:a${prefix}:a`,
      `${prefix}:b`,
      '7',
    ]);
  });

  it('refuses a second, different script under a name already taken', () => {
    defineScript(file('takeName-0.lua', 'return 1\n'), [], reply.integer);
    // The same file again is the same script (a module loaded twice): allowed.
    expect(() => defineScript(pathToFileURL(join(dir, 'takeName-0.lua')), [], reply.integer)).not.toThrow();
    const again = join(mkdtempSync(join(tmpdir(), 'kumo-lua-')), 'takeName-0.lua');
    writeFileSync(again, 'return 2\n');
    expect(() => defineScript(pathToFileURL(again), [], reply.integer)).toThrow(/two Lua scripts/);
  });

  it('writes the job-end block once: both scripts that end a job include the same text', () => {
    const block = 'local function releaseEndedJob(';
    for (const s of [storeScripts.endJob, storeScripts.applyTaskEvents]) {
      expect(s.lua.split(block).length - 1).toBe(1);
      expect(s.lua).toContain('releaseEndedJob(KEYS[');
    }
  });
});
