/**
 * `npm run bench`: raw BullMQ against kumo on the same work, in one run, on a redis-server of its own.
 * Writes bench/results/<time>.{md,json} (and latest.*) and prints the table.
 *
 *   npm run bench                         everything (a few minutes)
 *   npm run bench -- --only e2e,submit    a subset (ids: submit e2e commands https memory ingest get sse heartbeats simulate isolation https-heartbeats task-log)
 *   npm run bench -- --quick              smaller sizes, for a quick look
 *   npm run bench -- --only monitor       diagnostic: MONITOR a small run of each, commands per task by source
 *   npm run bench -- --only explain       diagnostic: e2e with the feeder timed, and with one knob changed at a time
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startTestRedis } from '../test/support/redis-server';
import { e2e } from './e2e';
import { explain } from './explain';
import { getRequests } from './get';
import { heartbeats } from './heartbeats';
import { httpsHeartbeats } from './https-heartbeats';
import { ingest } from './ingest';
import { isolation } from './isolation';
import type { BenchContext, Measurement } from './lib/context';
import { toMarkdown, writeReport, type BenchReport, type Row } from './lib/report';
import { memory } from './memory';
import { monitor } from './monitor';
import { simulate } from './simulate';
import { sse } from './sse';
import { submit } from './submit';
import { taskLog } from './task-log';

const MEASUREMENTS: { id: string; rows: number[]; run: Measurement; byDefault: boolean }[] = [
  { id: 'submit', rows: [1], run: submit, byDefault: true },
  { id: 'e2e', rows: [2, 3, 11], run: e2e, byDefault: true },
  { id: 'memory', rows: [4], run: memory, byDefault: true },
  { id: 'ingest', rows: [5], run: ingest, byDefault: true },
  { id: 'get', rows: [6], run: getRequests, byDefault: true },
  { id: 'sse', rows: [7], run: sse, byDefault: true },
  { id: 'heartbeats', rows: [8], run: heartbeats, byDefault: true },
  { id: 'simulate', rows: [9], run: simulate, byDefault: true },
  { id: 'isolation', rows: [10], run: isolation, byDefault: true },
  { id: 'https-heartbeats', rows: [12], run: httpsHeartbeats, byDefault: true },
  { id: 'task-log', rows: [13], run: taskLog, byDefault: true },
  { id: 'monitor', rows: [], run: monitor, byDefault: false },
  { id: 'explain', rows: [], run: explain, byDefault: false },
];
/** `--only commands` is row 3 and `--only https` row 11, both measured during e2e. */
const ALIASES: Record<string, string> = { commands: 'e2e', https: 'e2e', sim: 'simulate', submit1m: 'submit' };

function parseArgs(argv: string[]): { only: string[] | undefined; quick: boolean } {
  let only: string[] | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') only = (argv[++i] ?? '').split(',');
    else if (a.startsWith('--only=')) only = a.slice(7).split(',');
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${MEASUREMENTS.map((m) => m.id).join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument '${a}'`);
  }
  if (only) {
    only = [
      ...new Set(
        only
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => ALIASES[s] ?? s),
      ),
    ];
    const unknown = only.filter((s) => !MEASUREMENTS.some((m) => m.id === s));
    if (unknown.length)
      throw new Error(
        `unknown measurement(s): ${unknown.join(', ')}; known: ${MEASUREMENTS.map((m) => m.id).join(', ')}`,
      );
  }
  return { only, quick };
}

async function main(): Promise<void> {
  const { only, quick } = parseArgs(process.argv.slice(2));
  const chosen = MEASUREMENTS.filter((m) => (only ? only.includes(m.id) : m.byDefault));
  const startedAt = new Date();
  const load1 = loadavg()[0]!;
  const t0 = performance.now();
  const redis = await startTestRedis();
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
  const log = (msg: string): void => console.log(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
  const ctx: BenchContext = { redisUrl: redis.url, admin, quick, log };
  const rows: Row[] = [];
  try {
    for (const m of chosen) {
      log(`--- ${m.id}`);
      const m0 = performance.now();
      const load0 = loadavg()[0]!;
      try {
        const got = await m.run(ctx);
        // The machine is shared: its load says how much to trust this measurement's absolute numbers.
        for (const r of got) r.data = { ...r.data, loadAvg1mBefore: load0, loadAvg1mAfter: loadavg()[0] };
        rows.push(...got);
      } catch (err) {
        console.error(err);
        for (const n of m.rows) {
          rows.push({
            n,
            id: m.id,
            what: m.id,
            kumo: '-',
            baseline: '-',
            ratio: '-',
            target: '-',
            status: 'ERROR',
            notes: `${m.id} failed: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
      }
      log(`${m.id} took ${((performance.now() - m0) / 1000).toFixed(1)} s`);
      await admin.flushall();
    }
  } finally {
    await admin.quit();
    await redis.stop();
  }
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    quick,
    only: chosen.map((m) => m.id),
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      redis: redisVersion,
      loadAvg1m: { start: load1, end: loadavg()[0]! },
    },
    rows,
  };
  if (rows.length > 0) {
    const path = writeReport(join(fileURLToPath(new URL('.', import.meta.url)), 'results'), report);
    console.log('\n' + toMarkdown(report));
    console.log(`written to ${path} (and bench/results/latest.{md,json})`);
  }
  // Connections some library keeps open must not keep the bench alive.
  process.exit(rows.some((r) => r.status === 'ERROR') ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
