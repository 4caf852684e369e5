import type { Metric, Registry } from 'prom-client';
import type { HistogramSnapshot } from '@kumo/shared';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram whose counts live in Redis (written by other processes), rendered as prom-client renders
 * its own: `_bucket{le}` cumulative, `_sum`, `_count`. prom-client's Histogram can only observe samples,
 * not take counts, so this is a minimal metric of its own that the registry formats like any other.
 */
export class RedisHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private values: Sample[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    // The registry takes any object with get(); its type names only its own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  /** Replaces every series with these snapshots, one per label set. */
  set(series: { labels: Record<string, string>; snapshot: HistogramSnapshot }[]): void {
    const out: Sample[] = [];
    for (const { labels, snapshot } of series) {
      for (const b of snapshot.buckets)
        out.push({
          labels: { ...labels, le: b.le === Number.POSITIVE_INFINITY ? '+Inf' : b.le },
          value: b.count,
          metricName: `${this.name}_bucket`,
        });
      out.push({ labels, value: snapshot.sum, metricName: `${this.name}_sum` });
      out.push({ labels, value: snapshot.count, metricName: `${this.name}_count` });
    }
    this.values = out;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values };
  }

  reset(): void {
    this.values = [];
  }
}
