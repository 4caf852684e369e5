/**
 * Counters read from Redis are sums of several keys that are not written in one atomic step (a VM
 * leaves the live set a moment before its run is billed as ended). A scrape in between would read a
 * dip, which Prometheus takes for a counter reset and turns into a huge false increase. So each
 * counter series only ever goes up within this process; a restart starts from Redis's value again.
 */
export class HighWater {
  private readonly seen = new Map<string, number>();

  /** The larger of `value` and the highest value this series was exported with. */
  of(metric: string, labels: Record<string, string>, value: number): number {
    const key = `${metric}${JSON.stringify(labels)}`;
    const v = Math.max(value, this.seen.get(key) ?? 0);
    this.seen.set(key, v);
    return v;
  }
}
