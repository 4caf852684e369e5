import type { Redis } from 'ioredis';

/**
 * What Redis itself says: command counts (`INFO commandstats`), memory (`INFO memory`), and the bus's
 * backlog. The bench's own calls (INFO, CONFIG, its polls) are left out of the counts it reports.
 */

/** Calls per command since the last `CONFIG RESETSTAT`. Commands run inside Lua scripts are counted too. */
export async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export async function resetStats(redis: Redis): Promise<void> {
  await redis.config('RESETSTAT');
}

/** The bench's own commands, never counted against kumo or BullMQ. */
const OWN = new Set([
  'info',
  'config',
  'ping',
  'client|setname',
  'client|setinfo',
  'client|info',
  'select',
  'hello',
  'flushall',
  'script|load',
]);

/** Sums the calls, minus the bench's own; `minus` takes away counted polls of the bench (e.g. `{hget: 120}`). */
export function sumCalls(
  stats: Record<string, number>,
  minus: Record<string, number> = {},
): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [cmd, calls] of Object.entries(stats)) {
    if (OWN.has(cmd)) continue;
    const n = calls - (minus[cmd] ?? 0);
    if (n <= 0) continue;
    byCommand[cmd] = n;
    total += n;
  }
  return { total, byCommand: Object.fromEntries(Object.entries(byCommand).sort((a, b) => b[1] - a[1])) };
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const m = /used_memory:(\d+)/.exec(info);
  return m ? Number(m[1]) : NaN;
}

/** Samples `used_memory` every `intervalMs` on its own connection; `stop()` returns the peak and the samples. */
export function sampleMemory(
  redis: Redis,
  intervalMs = 100,
): { stop(): Promise<{ peak: number; samples: { t: number; bytes: number }[] }> } {
  const samples: { t: number; bytes: number }[] = [];
  const t0 = Date.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      samples.push({ t: started - t0, bytes: await usedMemory(redis) });
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { peak: Math.max(...samples.map((s) => s.bytes)), samples };
    },
  };
}

const idMs = (id: string): number => Number(id.split('-')[0]);

/**
 * Age of the oldest message a consumer group has not acked: the oldest pending entry, or else the first
 * entry after the group's last delivered id. 0 when the group is caught up.
 */
export async function busLagMs(
  redis: Redis,
  stream: string,
  group: string,
  now = Date.now(),
): Promise<{ lagMs: number; pending: number; undelivered: number }> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  const g = groups.map((row) => toObject(row)).find((o) => o.name === group);
  if (!g) return { lagMs: 0, pending: 0, undelivered: 0 };
  const pendingSummary = (await redis.xpending(stream, group)) as [number, string | null, string | null, unknown];
  const pending = Number(pendingSummary[0] ?? 0);
  const oldest: number[] = [];
  if (pending > 0 && pendingSummary[1]) oldest.push(idMs(pendingSummary[1]));
  const next = (await redis.xrange(stream, `(${String(g['last-delivered-id'])}`, '+', 'COUNT', 1)) as [
    string,
    string[],
  ][];
  if (next.length > 0) oldest.push(idMs(next[0]![0]));
  const undelivered = g.lag === null || g.lag === undefined ? (next.length > 0 ? -1 : 0) : Number(g.lag);
  return { lagMs: oldest.length > 0 ? Math.max(0, now - Math.min(...oldest)) : 0, pending, undelivered };
}

function toObject(row: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < row.length; i += 2) o[String(row[i])] = row[i + 1];
  return o;
}

/** Redis's own CPU seconds (user + sys, main thread and the rest), from `INFO cpu`. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string): number => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
}

/** CPU use of this process and of Redis over a phase, in cores (1.0 = one core busy the whole time). */
export async function cpuMeter(
  redis: Redis,
): Promise<{ stop(): Promise<{ node: number; redis: number; wallMs: number }> }> {
  const n0 = process.cpuUsage();
  const r0 = await redisCpuSeconds(redis);
  const t0 = performance.now();
  return {
    stop: async () => {
      const n = process.cpuUsage(n0);
      const r = (await redisCpuSeconds(redis)) - r0;
      const wallMs = performance.now() - t0;
      return { node: (n.user + n.system) / 1000 / wallMs, redis: (r * 1000) / wallMs, wallMs };
    },
  };
}
