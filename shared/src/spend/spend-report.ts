import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';

/** What a spend report groups by. */
export const SPEND_BY = ['user', 'pool', 'job'] as const;
export type SpendBy = (typeof SPEND_BY)[number];

/** One month's spend, grouped: `GET /v1/spend`. */
export interface SpendReport {
  month: string;
  by: SpendBy;
  /** Largest first. */
  rows: { name: string; costUsd: number }[];
  /** The month's spend in all (every user's, every pool's). */
  totalUsd: number;
}

const usd = (v: string): number => Math.round(Number(v) * 10_000) / 10_000;

/** A month's spend by user, pool or job, read from the month's hash (one HGETALL). */
export async function spendReport(redis: Redis, keys: Keys, month: string, by: SpendBy): Promise<SpendReport> {
  const all = await redis.hgetall(keys.spendMonth(month));
  const prefix = `${by}:`;
  const rows = Object.entries(all)
    .filter(([field]) => field.startsWith(prefix))
    .map(([field, v]) => ({ name: field.slice(prefix.length), costUsd: usd(v) }))
    .sort((a, b) => b.costUsd - a.costUsd || (a.name < b.name ? -1 : 1));
  return { month, by, rows, totalUsd: usd(all.all ?? '0') };
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The same report as CSV: `month,<by>,costUsd`, one row per line, no total row (a sum of the column). */
export function spendCsv(r: SpendReport): string {
  const lines = [`month,${r.by},costUsd`, ...r.rows.map((row) => `${r.month},${csvField(row.name)},${row.costUsd}`)];
  return `${lines.join('\n')}\n`;
}
