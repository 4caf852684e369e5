import { TaskLogWriter, type Logger, type RunSpec } from '@kumo/shared';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { CompletionBatcher, type CompletionBody } from './completion-batcher';
import { HTTP_LOG_SEGMENT_BYTES, httpLogSink } from './http-log-sink';
import type { HttpWorkerOptions } from './http-worker-options';
import { runTask, TaskFailure, toTaskError } from './task-runner';

export type { HttpWorkerOptions } from './http-worker-options';

/** The HTTPS worker's life, moved only by start and stop: idle -> running -> draining -> stopped. */
export type HttpWorkerState = 'idle' | 'running' | 'draining' | 'stopped';

interface Leased {
  leaseId: string;
  jobId: string;
  index: number;
  attempt: number;
  kind: string;
  run: RunSpec;
  env: Record<string, string>;
  timeoutMs: number;
  stopGraceMs: number;
  leaseSeconds: number;
}

type StopReason = 'stop' | 'handback' | 'lost';

/** How long one protocol call may go unanswered (undici's fetch default, which these calls used before). */
const CALL_TIMEOUT_MS = 300_000;

/**
 * A worker for a contributor's own machine: talks only HTTPS to the API (lease, heartbeat, progress,
 * complete) and never to Redis. Runs tasks with the same runner and contract as the Redis-side agent.
 */
export class HttpWorkerAgent {
  state: HttpWorkerState = 'idle';
  private readonly log: Logger;
  private readonly running = new Map<string, { task: Leased; abort: AbortController; startedAt: number }>();
  private readonly stopSignal = new AbortController();
  private loops: Promise<void>[] = [];
  private stopping: Promise<void> | undefined;
  readonly stats = { succeeded: 0, failed: 0, released: 0, lost: 0 };
  /** Kept-alive connections to the API, for the protocol's calls. */
  private readonly connections: HttpAgent;
  /** How long a lease lives unrenewed, as the API's lease answers say. */
  private leaseSeconds = 60;
  /** Leases whose task ended and whose end is being reported: their slots are free, their leases still held. */
  private readonly ending = new Set<string>();
  /** Task ends, reported together (completion-batcher.ts). */
  private readonly completions: CompletionBatcher;
  /** Wakes the lease loop waiting for a free slot (set only while it waits). */
  private slotFreed: (() => void) | undefined;

  constructor(private readonly opts: HttpWorkerOptions) {
    this.log = opts.logger.child({ component: 'http-worker', workerId: opts.id, pool: opts.pool });
    this.connections =
      new URL(opts.controlUrl).protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true })
        : new HttpAgent({ keepAlive: true });
    this.completions = new CompletionBatcher({
      call: (path, body) => this.call(path, body),
      workerId: opts.id,
      sleep: (ms) => opts.clock.sleep(ms),
      logger: this.log,
    });
  }

  private async call<T>(path: string, body: unknown): Promise<T> {
    const { status, text } = await this.post(path, JSON.stringify(body));
    if (status < 200 || status >= 300) {
      const err = (text ? JSON.parse(text) : {}) as { error?: { code?: string; message?: string } };
      throw Object.assign(new Error(`${path}: ${status} ${err.error?.code ?? ''} ${err.error?.message ?? ''}`), {
        status,
        code: err.error?.code,
      });
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * One JSON POST on the agent's kept-alive connections. node:http rather than fetch: a protocol call
   * per task outcome is the agent's hottest path, and fetch's web streams cost several times the CPU
   * of the request itself.
   */
  private post(path: string, payload: string): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.opts.controlUrl);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          agent: this.connections,
          timeout: CALL_TIMEOUT_MS,
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${path}: no answer in ${CALL_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.loops = [this.leaseLoop(), this.heartbeatLoop()];
    this.log.info({ slots: this.opts.slots, controlUrl: this.opts.controlUrl }, 'https worker started');
  }

  private async leaseLoop(): Promise<void> {
    let idle = 0;
    while (this.state === 'running') {
      // A slot is free once its task ended, while its end is reported; the leases held stay under twice the slots.
      const free = Math.min(
        this.opts.slots - this.running.size,
        2 * this.opts.slots - this.running.size - this.ending.size,
      );
      if (free <= 0) {
        // Asked again as soon as a task ends, not after a poll: a slot left free is throughput lost.
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        // The outcomes that came back in the same turn free their slots too: one lease call for them all.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      try {
        const { tasks, leaseSeconds } = await this.call<{ tasks: Leased[]; leaseSeconds: number }>(
          '/v1/workers/lease',
          { workerId: this.opts.id, pool: this.opts.pool, max: free },
        );
        if (leaseSeconds > 0) this.leaseSeconds = leaseSeconds;
        for (const t of tasks) void this.runOne(t);
        idle = tasks.length ? 0 : idle + 1;
      } catch (err) {
        this.log.warn({ err }, 'lease failed; retrying');
        idle++;
      }
      if (idle > 0)
        await this.opts.clock.sleep(Math.min(this.opts.idlePollMs ?? 1000, 250 * idle), this.stopSignal.signal);
    }
  }

  private async heartbeatLoop(): Promise<void> {
    for (;;) {
      const leases = [...this.running.keys(), ...this.ending];
      // A third of the lease while leases are held; with none, soon after the next one comes (a lease
      // shorter than a first wait of 20 s lapsed before its first heartbeat).
      const every = leases.length ? Math.max(500, (this.leaseSeconds * 1000) / 3) : 500;
      if (leases.length) {
        try {
          const res = await this.call<{ held: string[]; lost: string[]; stop: string[] }>('/v1/workers/heartbeat', {
            workerId: this.opts.id,
            leases,
          });
          for (const id of res.lost) this.running.get(id)?.abort.abort('lost' satisfies StopReason);
          for (const id of res.stop) this.running.get(id)?.abort.abort('stop' satisfies StopReason);
        } catch (err) {
          this.log.warn({ err }, 'heartbeat failed');
        }
      }
      if (this.state === 'stopped') return;
      await this.opts.clock.sleep(every, this.stopSignal.signal);
      if (this.stopSignal.signal.aborted && this.running.size === 0 && this.ending.size === 0) return;
    }
  }

  private async runOne(task: Leased): Promise<void> {
    const abort = new AbortController();
    const startedAt = this.opts.clock.now();
    this.running.set(task.leaseId, { task, abort, startedAt });
    const env: Record<string, string> = { ...this.opts.machineEnv, ...task.env };
    if (task.kind === 'training' && !env.KUMO_CHECKPOINT_DIR)
      env.KUMO_CHECKPOINT_DIR = join(
        this.opts.artifactsDir ?? join(process.cwd(), '.kumo', 'artifacts'),
        'jobs',
        task.jobId,
        'checkpoints',
      );
    const report = (body: Record<string, unknown>): void =>
      void this.call('/v1/workers/progress', { leaseId: task.leaseId, ...body }).catch(() => undefined);
    let lastProgress = 0;
    const log =
      'builtin' in task.run
        ? undefined
        : new TaskLogWriter({
            sink: httpLogSink({
              controlUrl: this.opts.controlUrl,
              token: this.opts.token,
              leaseId: task.leaseId,
              sleep: (ms) => this.opts.clock.sleep(ms),
            }),
            segmentBytes: HTTP_LOG_SEGMENT_BYTES,
            ...(this.opts.logMaxBytes ? { maxBytes: this.opts.logMaxBytes } : {}),
            onError: (err) =>
              this.log.warn({ err, jobId: task.jobId, index: task.index, attempt: task.attempt }, 'task log not kept'),
          });
    // How the task ended, to report (its outcome is also the stat it counts in once the API took it).
    let ended: ({ outcome: CompletionBody['outcome'] } & Record<string, unknown>) | undefined;
    try {
      const out = await runTask({
        run: task.run,
        env,
        timeoutMs: task.timeoutMs,
        killGraceMs: task.stopGraceMs,
        signal: abort.signal,
        clock: this.opts.clock,
        sandbox: this.opts.sandbox,
        ...(this.opts.containers ? { containers: this.opts.containers } : {}),
        onCheckpoint: (checkpoint) => report({ checkpoint }),
        onProgress: (progress) => {
          const now = this.opts.clock.now();
          if (now - lastProgress < 1000) return;
          lastProgress = now;
          report({ progress });
        },
        // While the store is behind, write() returns a promise: the runner holds the task's output until it settles.
        ...(log ? { onOutput: (chunk: Buffer) => log.write(chunk) } : {}),
      }).finally(() => log?.close());
      ended = {
        outcome: 'succeeded',
        durationMs: this.opts.clock.now() - startedAt,
        ...(out.result ? { result: out.result } : {}),
      };
    } catch (err) {
      const reason = abort.signal.reason as StopReason | undefined;
      const durationMs = this.opts.clock.now() - startedAt;
      if (reason === 'lost') this.stats.lost++;
      else if (reason === 'stop' || reason === 'handback') {
        ended = { outcome: 'released', durationMs };
      } else {
        const error = toTaskError(err);
        const logTail = err instanceof TaskFailure ? err.logTail : '';
        ended = { outcome: 'failed', durationMs, error, logTail };
      }
    } finally {
      this.running.delete(task.leaseId);
    }
    // The slot is free once the task ended, while its end is reported (its lease still heartbeated till then):
    // the next lease call overlaps the report instead of waiting for it.
    if (ended) this.ending.add(task.leaseId);
    this.wakeLeaseLoop();
    if (!ended) return;
    try {
      // Reported (in a batch with others that end meanwhile) or not: a refusal, or a report that never got
      // through, is a lost lease (the task went back), not an outcome of this worker's.
      const told = await this.completions.report({ ...ended, leaseId: task.leaseId });
      this.stats[told === 'taken' ? ended.outcome : 'lost']++;
    } finally {
      this.ending.delete(task.leaseId);
      this.wakeLeaseLoop();
    }
  }

  private wakeLeaseLoop(): void {
    const wake = this.slotFreed;
    this.slotFreed = undefined;
    wake?.();
  }

  get busy(): number {
    return this.running.size;
  }

  /** Stop leasing; let running tasks finish for up to drainMs; hand the rest back. Safe twice. */
  stop(opts: { handBackNow?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'draining';
      const until = this.opts.clock.now() + (opts.handBackNow ? 0 : this.opts.drainMs);
      while (this.running.size > 0 && this.opts.clock.now() < until) await this.opts.clock.sleep(50);
      for (const r of this.running.values()) r.abort.abort('handback' satisfies StopReason);
      while (this.running.size > 0 || this.ending.size > 0) await this.opts.clock.sleep(50);
      this.state = 'stopped';
      this.stopSignal.abort();
      this.wakeLeaseLoop();
      await Promise.allSettled(this.loops);
      this.connections.destroy();
      this.log.info({ stats: this.stats }, 'https worker stopped');
    })();
    return this.stopping;
  }
}
