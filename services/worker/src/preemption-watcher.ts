import { wallClock, type Clock, type Logger } from '@kumo/shared';

export interface PreemptionWatcherOptions {
  /**
   * The metadata server's base URL: `http://metadata.google.internal` on a GCE VM (KUMO_ON_GCE=1), or
   * KUMO_METADATA_URL (tests, emulators). The watcher asks `${metadataUrl}/computeMetadata/v1/instance/preempted`.
   */
  metadataUrl: string;
  /** Called once, the first time the server answers TRUE. Its rejection is logged, not rethrown. */
  onPreempted: () => void | Promise<void>;
  logger: Logger;
  /** Default: the wall clock. */
  clock?: Clock;
  /**
   * Least time between two questions while the answer is FALSE, and the wait after a failed one.
   * Default 1000 ms. A change is still seen at once while a wait_for_change question is held open.
   */
  intervalMs?: number;
  /** How long the server may hold one wait_for_change question (its `timeout_sec`). Default 60 s. */
  waitTimeoutSec?: number;
}

/** The watcher's life: idle -> watching -> preempted | stopped. */
export type PreemptionWatcherState = 'idle' | 'watching' | 'preempted' | 'stopped';

/** What one question to the metadata server learned. */
interface Answer {
  preempted: boolean;
  etag: string | undefined;
}

const PREEMPTED_PATH = '/computeMetadata/v1/instance/preempted';
/** A held question is given this much beyond its timeout_sec before the client gives up on it. */
const HOLD_SLACK_MS = 5_000;
/** A plain question (no wait) that takes longer than this is treated as failed. */
const PLAIN_TIMEOUT_MS = 5_000;

/**
 * Watches the GCE metadata server for this VM's preemption. SIGTERM also arrives on preemption (systemd
 * stops the worker on the platform's ACPI soft-off), but systemd's stop drains first; the metadata flag
 * says "this VM is going away in ~30 s", which is the cue to hand every task back at once instead.
 *
 * How it asks: a plain GET first (the flag may already be TRUE: a hanging question would then wait for a
 * change that never comes), then `wait_for_change=true&last_etag=<etag>` questions that the server holds
 * open until the value changes or `timeout_sec` passes. A server that answers without an ETag is polled
 * every `intervalMs` instead. Failures (the server restarting, a network blip) are retried every
 * `intervalMs` and never stop the watch: missing the notice costs the ~30 s of grace, not correctness
 * (lost tasks come back through the queue's stalled-lock check).
 */
export class PreemptionWatcher {
  state: PreemptionWatcherState = 'idle';
  private readonly url: string;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly waitTimeoutSec: number;
  private readonly log: Logger;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly opts: PreemptionWatcherOptions) {
    this.url = `${opts.metadataUrl.replace(/\/+$/, '')}${PREEMPTED_PATH}`;
    this.clock = opts.clock ?? wallClock;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.waitTimeoutSec = opts.waitTimeoutSec ?? 60;
    this.log = opts.logger.child({ component: 'preemption-watcher' });
  }

  /** Starts watching in the background. Safe to call twice. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'watching';
    this.loop = this.watch();
    this.log.info({ url: this.url }, 'watching for preemption');
  }

  /**
   * One plain question, for callers that must decide now (main.ts on SIGTERM: preempted, so hand back
   * at once, or a deploy, so drain). Undefined when the server did not answer within `timeoutMs`.
   */
  async check(timeoutMs = 1000): Promise<boolean | undefined> {
    try {
      return (await this.ask(undefined, timeoutMs)).preempted;
    } catch (err) {
      this.log.warn({ err }, 'preemption check failed');
      return undefined;
    }
  }

  /**
   * Stops watching; an open question is abandoned. Safe to call twice, and from inside `onPreempted`
   * (then it does not wait for the loop, which is waiting for that very handler).
   */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    if (this.state === 'preempted') return;
    this.state = 'stopped';
    await this.loop;
  }

  private async watch(): Promise<void> {
    let etag: string | undefined;
    while (!this.stopSignal.signal.aborted) {
      const asked = this.clock.now();
      let answer: Answer;
      try {
        answer = await this.ask(etag, etag ? this.waitTimeoutSec * 1000 + HOLD_SLACK_MS : PLAIN_TIMEOUT_MS);
      } catch (err) {
        if (this.stopSignal.signal.aborted) return;
        // Logged once per outage, not once per retry.
        if (!this.failing) this.log.warn({ err, url: this.url }, 'metadata server unreachable; retrying');
        this.failing = true;
        etag = undefined;
        await this.clock.sleep(this.intervalMs, this.stopSignal.signal);
        continue;
      }
      if (this.failing) this.log.info('metadata server reachable again');
      this.failing = false;
      if (answer.preempted) {
        await this.fire();
        return;
      }
      const held = etag !== undefined;
      etag = answer.etag;
      // A plain answer with an ETag is followed at once by a held question. A held question returns at a
      // change or at its timeout; one that came back sooner (a server that does not hold), or a server
      // with no ETag to wait on, must not turn this loop into a busy one.
      if (held || etag === undefined) {
        const left = this.intervalMs - (this.clock.now() - asked);
        if (left > 0) await this.clock.sleep(left, this.stopSignal.signal);
      }
    }
  }

  private async fire(): Promise<void> {
    this.state = 'preempted';
    this.log.warn('this VM is being preempted');
    try {
      await this.opts.onPreempted();
    } catch (err) {
      this.log.error({ err }, 'preemption handler failed');
    }
  }

  private async ask(etag: string | undefined, timeoutMs: number): Promise<Answer> {
    const url = etag
      ? `${this.url}?wait_for_change=true&last_etag=${encodeURIComponent(etag)}&timeout_sec=${this.waitTimeoutSec}`
      : this.url;
    const signal = AbortSignal.any([this.stopSignal.signal, AbortSignal.timeout(timeoutMs)]);
    const res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal });
    const body = (await res.text()).trim();
    if (!res.ok) throw new MetadataAnswerError(res.status, body.slice(0, 200));
    // The server answers TRUE or FALSE; anything else is not an answer about preemption.
    if (body !== 'TRUE' && body !== 'FALSE') throw new MetadataAnswerError(res.status, body.slice(0, 200));
    return { preempted: body === 'TRUE', etag: res.headers.get('etag') ?? undefined };
  }
}

/** The metadata server answered, but not with TRUE or FALSE (a proxy's page, a 404 off GCE, a 503). */
export class MetadataAnswerError extends Error {
  readonly code = 'METADATA_BAD_ANSWER';
  constructor(
    readonly httpStatus: number,
    readonly body: string,
  ) {
    super(`metadata server answered ${httpStatus}: ${JSON.stringify(body)}`);
    this.name = 'MetadataAnswerError';
  }
}
