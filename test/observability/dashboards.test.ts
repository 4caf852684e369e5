import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/wait';
import { startLiveControlPlane, type LiveControlPlane } from './live-control-plane';
import { familyTypes, parseProm } from './prom-text';
import { familyOf, promqlMetricNames } from './promql-names';

const DIR = resolve(import.meta.dirname, '../../dashboards/grafana');

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; datasource?: { uid: string } }[] };
}

const dashboards: [string, Dashboard][] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard]);

const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);

/** Every PromQL the dashboards run: panel targets and query variables, with where it came from. */
const queries = dashboards.flatMap(([file, d]) => [
  ...flat(d.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${file}: ${p.title} ${t.refId}`, expr: t.expr })),
  ),
  ...d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({
      where: `${file}: variable ${v.name}`,
      expr: typeof v.query === 'string' ? v.query : (v.query as { query: string }).query,
    })),
]);

describe('the metric-name extraction the dashboard check relies on', () => {
  it('keeps metrics, drops functions, aggregations, grouping labels, matchers, ranges and variables', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.9, max by (le, pool) (rate(kumo_dispatch_latency_seconds_bucket{pool=~"$pool"}[$__rate_interval])))',
      ),
    ).toEqual(['kumo_dispatch_latency_seconds_bucket']);
    expect(promqlMetricNames('label_values(kumo_job_info, job_id)')).toEqual(['kumo_job_info']);
    expect(
      promqlMetricNames(
        'sum(max by (state) (kumo_job_tasks{job_id="$job_id", state=~"succeeded|failed"})) / on (job_id) group_left max(kumo_job_total_tasks)',
      ),
    ).toEqual(['kumo_job_tasks', 'kumo_job_total_tasks']);
    expect(promqlMetricNames('1000 * (time() + max(kumo_job_eta_seconds{job_id="a {b} [c]"}))')).toEqual([
      'kumo_job_eta_seconds',
    ]);
    expect(
      promqlMetricNames('3600 * sum without (instance) (rate(x_total[1h] offset 5m)) and on() vector(1e3)'),
    ).toEqual(['x_total']);
  });

  it('strips _bucket/_sum/_count only from histograms and summaries', () => {
    const types = new Map([
      ['h_seconds', 'histogram'],
      ['s_seconds', 'summary'],
      ['jobs_count', 'gauge'],
    ]);
    expect(['h_seconds_bucket', 'h_seconds_sum', 'h_seconds_count'].map((n) => familyOf(n, types))).toEqual([
      'h_seconds',
      'h_seconds',
      'h_seconds',
    ]);
    expect(familyOf('s_seconds_count', types)).toBe('s_seconds');
    expect(familyOf('s_seconds_bucket', types)).toBe('s_seconds_bucket'); // a summary has no buckets
    expect(familyOf('jobs_count', types)).toBe('jobs_count');
  });
});

describe('the Grafana dashboards in dashboards/grafana', () => {
  let live: LiveControlPlane;
  let text: string;

  beforeAll(async () => {
    live = await startLiveControlPlane(inject('redisUrl'), 'dashboards');
    const sub = await live.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'dashboards',
      source: { snapshot: 'S', batches: 2000 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 100 },
    });
    expect(sub.status).toBe(201);
    // Running with a rate (so ETA exists) and dispatch latencies flushed: every family has samples.
    text = await waitFor(
      async () => {
        const t = (await live.scrape()).text;
        const names = new Set(parseProm(t).map((s) => s.name));
        return names.has('kumo_dispatch_latency_seconds_bucket') && names.has('kumo_job_eta_seconds') ? t : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'a running job with dispatch latencies on /metrics' },
    );
    await live.api.post(`/v1/jobs/${sub.body.id}/cancel`);
  });
  afterAll(async () => {
    await live?.stop();
  });

  it('are the two dashboards, each with a Prometheus datasource variable every panel uses', () => {
    expect(dashboards.map(([, d]) => d.title).sort()).toEqual(['kumo control plane', 'kumo job']);
    expect(new Set(dashboards.map(([, d]) => d.uid)).size).toBe(dashboards.length);
    for (const [file, d] of dashboards) {
      expect(d.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(
        d.templating.list.find((v) => v.type === 'datasource'),
        `${file}: a datasource variable`,
      ).toMatchObject({ name: 'datasource', query: 'prometheus' });
      for (const p of flat(d.panels).filter((x) => x.type !== 'row')) {
        expect(p.datasource?.uid, `${file}: ${p.title}`).toBe('${datasource}');
        expect(p.targets?.length, `${file}: ${p.title} has queries`).toBeGreaterThan(0);
      }
    }
    const job = dashboards.find(([, d]) => d.uid === 'kumo-job')![1];
    expect(job.templating.list.find((v) => v.name === 'job_id')?.query).toMatchObject({
      query: 'label_values(kumo_job_info, job_id)',
    });
  });

  it('run only PromQL that Prometheus parses (promtool check rules)', () => {
    const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    expect(
      probe.error,
      'promtool is not installed: apt-get install --no-install-recommends prometheus (.ci/run does)',
    ).toBeUndefined();
    // Grafana's variables filled in the way Grafana would, then every query as a recording rule.
    const fill = (e: string): string => e.replace(/\$__rate_interval/g, '5m').replace(/\$\{?[A-Za-z_]+\}?/g, 'x');
    const rules = queries
      .filter((q) => !q.expr.startsWith('label_values('))
      .map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(fill(q.expr))}`)
      .join('\n');
    const file = join(mkdtempSync(join(tmpdir(), 'kumo-dash-')), 'rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboards\n    rules:\n${rules}\n`);
    const res = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
  });

  it('read only metrics that a live /metrics has, with samples', () => {
    const types = familyTypes(text);
    const sampled = new Set(parseProm(text).map((s) => s.name));
    expect(queries.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const q of queries) {
      const names = promqlMetricNames(q.expr);
      if (names.length === 0) missing.push(`${q.where}: no metric found in ${q.expr}`);
      for (const n of names) {
        if (!types.has(familyOf(n, types))) missing.push(`${q.where}: ${n} (no such family)`);
        else if (!sampled.has(n)) missing.push(`${q.where}: ${n} (no samples)`);
      }
    }
    expect(missing).toEqual([]);
  });
});
