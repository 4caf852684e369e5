import { MAX_COMPLETIONS_PER_CALL, type Logger } from '@kumo/shared';

/** One lease's end, as `POST /v1/workers/complete` takes it alone or as an item of `completions`. */
export type CompletionBody = { leaseId: string; outcome: 'succeeded' | 'failed' | 'released' } & Record<
  string,
  unknown
>;

/** How a report ended: the API took it; refused it (the lease was lost, the task went back); or never answered. */
export type Reported = 'taken' | 'refused' | 'untold';

/** A lease's answer in a batched call. */
type Answer = { leaseId: string; ok: true } | { leaseId: string; error: { code: string; retryable: boolean } };

/** A protocol call's failure, as HttpWorkerAgent's `call` throws it. */
type CallError = { status?: number; code?: string };

export interface CompletionBatcherOptions {
  /** The agent's protocol call: resolves with the answer's JSON, throws a CallError for any other status. */
  call: <T>(path: string, body: unknown) => Promise<T>;
  workerId: string;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
}

/** A call's completions stay well under the API's body limit (1 MiB by default), whatever their log tails. */
const BYTES_PER_CALL = 256 * 1024;
/** Tries per report through network trouble, 5xx and the rate limit, as the single call had. */
const TRIES = 8;

interface Pending {
  body: CompletionBody;
  bytes: number;
  tries: number;
  done: (r: Reported) => void;
}

const PATH = '/v1/workers/complete';

/**
 * The agent's task ends, reported in batches: each was a request of its own (HTTP, auth, routing, JSON,
 * a broker call) per task, the HTTPS path's largest cost per task. Ends of the same turn, and those that
 * come while a call is in flight, go in the next call (at most MAX_COMPLETIONS_PER_CALL, BYTES_PER_CALL):
 * a task that ends alone is sent at once, with no wait added. Each lease is answered on its own.
 *
 * An API from before batches refuses one (400): the batch is then sent one call per lease, and once such
 * a fallback finds every lease taken alone, every later report goes alone too.
 */
export class CompletionBatcher {
  private queue: Pending[] = [];
  private sending = false;
  private scheduled = false;
  /** Whether the API takes batches: unknown until a batch is answered. */
  private batches: boolean | undefined;

  constructor(private readonly opts: CompletionBatcherOptions) {}

  report(body: CompletionBody): Promise<Reported> {
    return new Promise((done) => {
      this.queue.push({ body, bytes: Buffer.byteLength(JSON.stringify(body)), tries: 0, done });
      this.kick();
    });
  }

  private kick(): void {
    if (this.sending || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // The ends of this turn go in the same call.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    try {
      await this.send(this.take());
    } finally {
      this.sending = false;
      this.kick();
    }
  }

  private take(): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < MAX_COMPLETIONS_PER_CALL) {
      bytes += this.queue[n]!.bytes;
      if (n > 0 && bytes > BYTES_PER_CALL) break;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async send(batch: Pending[]): Promise<void> {
    if (this.batches === false) return void (await this.sendAlone(batch));
    let answers: Answer[];
    try {
      const res = await this.opts.call<{ results?: Answer[] }>(PATH, {
        workerId: this.opts.workerId,
        completions: batch.map((p) => p.body),
      });
      answers = res.results ?? [];
    } catch (err) {
      const status = (err as CallError).status;
      // 400: an API from before batches, or a lease's end it refuses (which then refuses that one only);
      // 413: past a body limit set lower than ours.
      if (status === 400 || status === 413) {
        const invalid = await this.sendAlone(batch);
        if (status === 400 && invalid === 0 && this.batches === undefined) {
          this.batches = false;
          this.opts.logger.info('the API takes one completion per call: reporting each alone');
        }
        return;
      }
      for (const p of batch) this.failed(p, err);
      return;
    }
    this.batches = true;
    const byLease = new Map(answers.map((a) => [a.leaseId, a]));
    for (const p of batch) {
      const a = byLease.get(p.body.leaseId);
      if (a && 'ok' in a) p.done('taken');
      else if (a && !a.error.retryable) {
        this.opts.logger.warn(
          { leaseId: p.body.leaseId, code: a.error.code },
          'outcome refused; the task went back to the queue',
        );
        p.done('refused');
      } else this.failed(p, a?.error ?? new Error('no answer for this lease'));
    }
  }

  /** Each lease in a call of its own (the protocol's single form); answers how many the API found invalid. */
  private async sendAlone(batch: Pending[]): Promise<number> {
    let invalid = 0;
    await Promise.all(
      batch.map(async (p) => {
        try {
          await this.opts.call(PATH, p.body);
          p.done('taken');
        } catch (err) {
          if ((err as CallError).status === 400) invalid++;
          this.failed(p, err);
        }
      }),
    );
    return invalid;
  }

  /**
   * A report not taken: any refusal but the rate limit (429; the token's requests are shared with its log
   * writes) is final, a lost lease whose task went back; the rest is tried again after a backoff.
   */
  private failed(p: Pending, err: unknown): void {
    const status = (err as CallError).status;
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
      this.opts.logger.warn({ err, leaseId: p.body.leaseId }, 'outcome refused; the task went back to the queue');
      return p.done('refused');
    }
    if (++p.tries >= TRIES) {
      this.opts.logger.warn({ err, leaseId: p.body.leaseId }, 'outcome not reported; the lease will lapse');
      return p.done('untold');
    }
    void this.opts.sleep(Math.min(200 * 2 ** (p.tries - 1), 5000)).then(() => {
      this.queue.unshift(p);
      this.kick();
    });
  }
}
