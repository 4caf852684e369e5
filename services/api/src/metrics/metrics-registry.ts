import { collectDefaultMetrics, Registry } from 'prom-client';
import { isKumoError, KumoError } from '@kumo/shared';
import type { ApiContext } from '../context';
import { PoolQueues } from '../pool-queues';
import { BusMetrics } from './bus-metrics';
import { FleetMetrics } from './fleet-metrics';
import { JobFold } from './job-fold';
import { JobMetrics } from './job-metrics';
import { QueueMetrics } from './queue-metrics';

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface KumoMetricsOptions {
  /** See JobFoldOptions.graceMs. */
  foldGraceMs?: number;
}

/**
 * Every kumo metric, read from Redis at scrape time so every API process reports the same truth, and
 * what other processes (workers, the scheduler) aggregate in Redis reaches Prometheus through here.
 * One refresh at a time: concurrent scrapes share it, so they never see a half-reset registry.
 */
export class KumoMetrics {
  readonly registry = new Registry();
  private readonly queues: PoolQueues;
  private readonly jobs: JobMetrics;
  private readonly queue: QueueMetrics;
  private readonly bus: BusMetrics;
  private readonly fleet: FleetMetrics;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly ctx: ApiContext,
    opts: KumoMetricsOptions = {},
  ) {
    const { redis, keys, clock } = ctx;
    collectDefaultMetrics({ register: this.registry, prefix: 'kumo_api_' });
    // prom-client names these gauges `_total`, which Prometheus's lint (promtool check metrics) rejects:
    // a `_total` is a counter by convention, and rate() over a gauge would mislead. Leave them out.
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(`kumo_api_${name}`);
    const graceMs = opts.foldGraceMs ?? 15 * 60_000;
    this.queues = ctx.queues;
    this.jobs = new JobMetrics([this.registry], {
      fold: new JobFold({ redis, keys, clock, graceMs }),
      redis,
      keys,
      clock,
      graceMs,
    });
    this.queue = new QueueMetrics(this.registry, { redis, keys, clock, queues: this.queues });
    this.bus = new BusMetrics(this.registry, { redis, keys });
    this.fleet = new FleetMetrics(this.registry, { redis, keys, fleet: ctx.fleet, workers: ctx.workers });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text of a fresh read. Throws NOT_READY (503) when Redis cannot be read. */
  render(): Promise<string> {
    this.inFlight ??= this.refreshAndRender().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async refreshAndRender(): Promise<string> {
    try {
      const pools = (await this.ctx.pools.list()).map((p) => p.name);
      await Promise.all([
        this.jobs.refresh(pools),
        this.queue.refresh(pools),
        this.bus.refresh(),
        this.fleet.refresh(pools),
      ]);
    } catch (err) {
      // Half-read numbers would be worse than none: Prometheus records the failed scrape (up == 0).
      if (isKumoError(err)) throw err;
      throw new KumoError('NOT_READY', 'metrics could not be read from Redis', { cause: err });
    }
    return this.registry.metrics();
  }

  /** The queues are the app's (closed with it): nothing of the registry's own to close. */
  async close(): Promise<void> {}
}
