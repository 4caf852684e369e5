import type { Redis } from 'ioredis';
import { commandStats, resetStats, sumCalls } from './lib/redis-stats';
import { fmt, passIf, type Row } from './lib/report';

/**
 * Row 3: Redis commands per task, from `INFO commandstats` (reset before each phase). Counted over the
 * e2e phases (e2e.ts), so both sides do the same work: kumo's count includes feeding, leasing, running,
 * progress over the bus, exact counting and completion; raw BullMQ's includes its addBulk and its worker.
 * Commands run inside Lua scripts are counted as Redis counts them (each one), on both sides.
 */
export interface CommandCount {
  total: number;
  perTask: number;
  byCommand: Record<string, number>;
}

export async function startCounting(admin: Redis): Promise<void> {
  await resetStats(admin);
}

export async function stopCounting(
  admin: Redis,
  tasks: number,
  minus: Record<string, number> = {},
): Promise<CommandCount> {
  const { total, byCommand } = sumCalls(await commandStats(admin), minus);
  return { total, perTask: total / tasks, byCommand };
}

const top = (c: CommandCount, tasks: number, n = 8): string =>
  Object.entries(c.byCommand)
    .slice(0, n)
    .map(([cmd, calls]) => `${cmd} ${(calls / tasks).toFixed(2)}`)
    .join(', ');

export function commandsRow(kumo: CommandCount, raw: CommandCount, tasks: number): Row {
  const ratio = kumo.perTask / raw.perTask;
  return {
    n: 3,
    id: 'commands',
    what: 'Redis commands per task (INFO commandstats, incl. inside Lua)',
    kumo: `${kumo.perTask.toFixed(2)}`,
    baseline: `${raw.perTask.toFixed(2)} (raw BullMQ)`,
    ratio: fmt.x(ratio),
    target: '<= 1.5x raw',
    status: passIf(ratio <= 1.5),
    notes: `Commands per task over ${fmt.int(tasks)} tasks. kumo top: ${top(kumo, tasks)}. raw top: ${top(raw, tasks)}.`,
    data: { tasks, kumo, raw, ratio },
  };
}
