import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';
import type { TaskEvent } from '../progress/task-event';
import type { TaskFailure } from './job-record';

/** A job's task ledger: what each task reported (results), and how its attempts failed (failures). */
export class TaskLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async failures(jobId: string, opts: { finalOnly?: boolean; limit?: number } = {}): Promise<TaskFailure[]> {
    const limit = opts.limit ?? 100;
    const out: TaskFailure[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.jobFailures(jobId), cursor, 'COUNT', 200);
      cursor = next;
      for (let n = 0; n + 1 < flat.length; n += 2) {
        const f = JSON.parse(flat[n + 1]!) as Omit<TaskFailure, 'index'>;
        if (opts.finalOnly && !f.final) continue;
        out.push({ index: Number(flat[n]), ...f });
      }
    } while (cursor !== '0' && out.length < limit);
    return out.sort((a, b) => a.index - b.index).slice(0, limit);
  }

  /** The task ledger (what tasks reported), by task index, from `afterIndex` on. */
  async results(
    jobId: string,
    opts: { limit?: number; afterIndex?: number } = {},
  ): Promise<{ index: number; result: Record<string, unknown> }[]> {
    const limit = opts.limit ?? 1000;
    const after = opts.afterIndex ?? -1;
    const out: { index: number; result: Record<string, unknown> }[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.jobResults(jobId), cursor, 'COUNT', 1000);
      cursor = next;
      for (let n = 0; n + 1 < flat.length; n += 2) {
        const index = Number(flat[n]);
        if (index > after) out.push({ index, result: JSON.parse(flat[n + 1]!) });
      }
    } while (cursor !== '0');
    return out.sort((a, b) => a.index - b.index).slice(0, limit);
  }
}

/** What a task event leaves in the ledger: a failure's record, a result, a checkpoint or progress; '' for none. */
export function ledgerEntryOf(e: TaskEvent): string {
  if (e.t === 'f' || e.t === 'r') {
    const f: Omit<TaskFailure, 'index'> = {
      attempt: e.a,
      final: e.t === 'f',
      worker: e.w,
      at: new Date(e.at).toISOString(),
      error: e.err ?? { code: 'INTERNAL', message: 'no error reported', retryable: false },
      logTail: e.log ?? '',
    };
    return JSON.stringify(f);
  }
  if (e.t === 'ok' && e.result) return JSON.stringify({ ...e.result, worker: e.w, at: new Date(e.at).toISOString() });
  if ((e.t === 'c' || e.t === 'p') && e.data)
    return JSON.stringify({ ...e.data, index: e.i, at: new Date(e.at).toISOString() });
  return '';
}
