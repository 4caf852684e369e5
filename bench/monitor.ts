import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { RedisMonitor } from '../test/support/redis-monitor';
import type { BenchContext } from './lib/context';
import { benchPrefix, Kumo, noopSpec, sleep } from './lib/kumo';
import { rawEnqueue, rawProcess } from './lib/raw-bullmq';
import type { Row } from './lib/report';

/**
 * Diagnostic, not a row: MONITOR a small run of raw BullMQ and of kumo (the e2e setup) and count, per
 * task, the commands each connection sends (a MULTI..EXEC block is one) and the commands each Lua
 * script runs inside Redis. Written to bench/results/monitor-<time>.{md,json}.
 */
const here = dirname(fileURLToPath(import.meta.url));
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

async function scriptNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const dir of ['../shared/src/store/lua', '../shared/src/bus/lua']) {
    for (const f of readdirSync(join(here, dir)))
      if (f.endsWith('.lua'))
        names.set(sha1(readFileSync(join(here, dir, f), 'utf8')), `kumo:${f.replace('.lua', '')}`);
  }
  const require = createRequire(import.meta.url);
  const scripts = join(dirname(require.resolve('bullmq')), '..', 'esm', 'scripts');
  for (const f of readdirSync(scripts)) {
    if (!f.endsWith('.js') || f === 'index.js') continue;
    const mod = (await import(pathToFileURL(join(scripts, f)).href)) as Record<
      string,
      { name: string; content: string }
    >;
    for (const v of Object.values(mod))
      if (v && typeof v.content === 'string') names.set(sha1(v.content), `bullmq:${f.replace('.js', '')}`);
  }
  return names;
}

interface Tally {
  /** "connection | command" -> count, client commands (MULTI..EXEC = one). */
  client: Map<string, number>;
  /** "script | command" -> count, inside Lua. */
  lua: Map<string, number>;
  /** "connection" -> round trips. */
  perConnection: Map<string, number>;
}

const normalize = (name: string, prefix: string): string =>
  (name || '(unnamed)')
    .replace(prefix, '<p>')
    .replace(/bench-worker-\d+/g, 'bench-worker-N')
    .replace(/-[0-9a-f]{6,}/g, '');

async function monitorRun(
  ctx: BenchContext,
  prefix: string,
  names: Map<string, string>,
  work: () => Promise<void>,
): Promise<Tally> {
  const admin = new Redis(ctx.redisUrl);
  const lines: [string, string[]][] = [];
  const mon = await RedisMonitor.start(ctx.redisUrl, (args, source) => lines.push([source, args]));
  const addrName = new Map<string, string>();
  let listing = true;
  const lister = (async () => {
    while (listing) {
      const text = (await admin.client('LIST')) as unknown as string;
      for (const row of text.split('\n')) {
        const addr = /addr=(\S+)/.exec(row)?.[1];
        const name = /name=(\S*)/.exec(row)?.[1] ?? '';
        if (addr && name) addrName.set(addr, name);
      }
      await sleep(50);
    }
  })();
  try {
    await work();
    await sleep(200);
  } finally {
    listing = false;
    await lister;
    mon.stop();
    await admin.quit();
  }
  const t: Tally = { client: new Map(), lua: new Map(), perConnection: new Map() };
  const add = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  let script = '?';
  const inMulti = new Set<string>();
  for (const [source, args] of lines) {
    const cmd = (args[0] ?? '').toLowerCase();
    if (source === 'lua') {
      add(t.lua, `${script} | ${cmd}`);
      continue;
    }
    const conn = normalize(addrName.get(source) ?? '', prefix);
    if (['client', 'info', 'monitor', 'config', 'flushall'].includes(cmd) && conn === '(unnamed)') continue;
    if (cmd === 'evalsha' || cmd === 'eval')
      script = cmd === 'evalsha' ? (names.get(args[1] ?? '') ?? `sha:${(args[1] ?? '').slice(0, 8)}`) : 'eval';
    if (cmd === 'multi') {
      inMulti.add(source);
      continue;
    }
    if (inMulti.has(source)) {
      if (cmd === 'exec' || cmd === 'discard') inMulti.delete(source);
      else add(t.client, `${conn} | multi:${cmd}`);
      if (cmd !== 'exec') continue;
      add(t.perConnection, conn);
      continue;
    }
    const label = cmd === 'evalsha' || cmd === 'eval' ? `${cmd} ${script}` : cmd;
    add(t.client, `${conn} | ${label}`);
    add(t.perConnection, conn);
  }
  return t;
}

function render(title: string, t: Tally, tasks: number): string[] {
  const rows = (m: Map<string, number>, limit = 40): string[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([k, v]) => `| ${k.replace(/\|/g, '/')} | ${v} | ${(v / tasks).toFixed(3)} |`);
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  return [
    `## ${title} (${tasks} tasks)`,
    '',
    `Client round trips (MULTI..EXEC = 1; pipelined commands count one each): ${sum(t.perConnection)} = ${(sum(t.perConnection) / tasks).toFixed(2)} per task. Commands inside Lua: ${sum(t.lua)} = ${(sum(t.lua) / tasks).toFixed(2)} per task.`,
    '',
    '| connection | round trips | per task |',
    '| --- | --- | --- |',
    ...rows(t.perConnection),
    '',
    '| connection / command | calls | per task |',
    '| --- | --- | --- |',
    ...rows(t.client),
    '',
    '| script / command inside it | calls | per task |',
    '| --- | --- | --- |',
    ...rows(t.lua, 30),
    '',
  ];
}

export async function monitor(ctx: BenchContext): Promise<Row[]> {
  const tasks = 2_000;
  const names = await scriptNames();
  await ctx.admin.flushall();
  const rawPrefix = benchPrefix('raw-mon');
  const raw = await monitorRun(ctx, rawPrefix, names, async () => {
    await rawEnqueue(ctx.redisUrl, rawPrefix, tasks);
    await rawProcess(ctx.redisUrl, rawPrefix, tasks, 64, 120_000);
  });
  await ctx.admin.flushall();
  const prefix = benchPrefix('mon');
  const kumo = await Kumo.start({ redisUrl: ctx.redisUrl, prefix, agents: 2, slots: 32 });
  let k: Tally;
  try {
    await sleep(300);
    k = await monitorRun(ctx, prefix, names, async () => {
      const { id } = await kumo.submit(noopSpec(tasks, 'bench-monitor'));
      await kumo.waitForState(id, ['succeeded', 'failed'], 120_000, 50);
    });
  } finally {
    await kumo.stop();
  }
  const md = [
    `# MONITOR breakdown, ${new Date().toISOString()}`,
    '',
    ...render('raw BullMQ (addBulk + one Worker, concurrency 64)', raw, tasks),
    ...render('kumo (API submit, scheduler, 2 WorkerAgents x 32)', k, tasks),
  ].join('\n');
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(dir, `monitor-${stamp}.md`), md);
  writeFileSync(join(dir, 'monitor-latest.md'), md);
  const json = JSON.stringify({ tasks, raw: toJson(raw), kumo: toJson(k) }, null, 2);
  writeFileSync(join(dir, `monitor-${stamp}.json`), json);
  console.log(md);
  ctx.log(`written to bench/results/monitor-${stamp}.md`);
  return [];
}

const toJson = (t: Tally): Record<string, Record<string, number>> => ({
  client: Object.fromEntries(t.client),
  lua: Object.fromEntries(t.lua),
  perConnection: Object.fromEntries(t.perConnection),
});
