import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** WARN: the measured number meets the target, but what it projects to (stated in the notes) does not. */
export type Status = 'PASS' | 'FAIL' | 'WARN' | 'INFO' | 'ERROR';

/** One line of the results table: kumo against its baseline on the same work, in one run. */
export interface Row {
  /** The row's number, the numbering. */
  n: number;
  /** The `--only` name that runs it. */
  id: string;
  what: string;
  kumo: string;
  baseline: string;
  /** kumo over baseline (or the measured value where there is no baseline). */
  ratio: string;
  target: string;
  status: Status;
  notes?: string;
  /** Numbers behind the row, kept in the JSON. */
  data?: Record<string, unknown>;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  quick: boolean;
  only: string[];
  machine: { node: string; cpus: number; cpuModel: string; redis: string; loadAvg1m: { start: number; end: number } };
  rows: Row[];
}

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(r: BenchReport): string {
  const lines = [
    `# kumo bench (${r.quick ? 'quick' : 'full'}), ${r.startedAt}`,
    '',
    `Node ${r.machine.node}, ${r.machine.cpus} CPUs (${r.machine.cpuModel}), redis ${r.machine.redis} (no AOF), ${r.wallSeconds.toFixed(0)} s wall, ` +
      `load average ${r.machine.loadAvg1m.start.toFixed(1)} at the start and ${r.machine.loadAvg1m.end.toFixed(1)} at the end. ` +
      "Ratios are within this run; absolute numbers depend on the machine and its neighbours (each row's load is in the JSON).",
    '',
    '| # | measurement | kumo | baseline | ratio | target | result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...[...r.rows]
      .sort((a, b) => a.n - b.n)
      .map(
        (x) =>
          `| ${x.n} | ${esc(x.what)} | ${esc(x.kumo)} | ${esc(x.baseline)} | ${esc(x.ratio)} | ${esc(x.target)} | **${x.status}** |`,
      ),
  ];
  const notes = r.rows.filter((x) => x.notes);
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const x of [...notes].sort((a, b) => a.n - b.n)) lines.push(`${x.n}. ${x.notes}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes `bench/results/<stamp>.{md,json}` and `latest.{md,json}`; returns the markdown path. */
export function writeReport(dir: string, r: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const md = toMarkdown(r);
  const json = JSON.stringify(r, null, 2) + '\n';
  for (const name of [stamp, 'latest']) {
    writeFileSync(join(dir, `${name}.md`), md);
    writeFileSync(join(dir, `${name}.json`), json);
  }
  return join(dir, `${stamp}.md`);
}

export const fmt = {
  int: (n: number): string => Math.round(n).toLocaleString('en-US'),
  ms: (n: number): string =>
    n < 10 ? `${n.toFixed(2)} ms` : n < 1000 ? `${n.toFixed(1)} ms` : `${(n / 1000).toFixed(2)} s`,
  x: (n: number): string => `${n.toFixed(n < 0.1 ? 4 : 2)}x`,
  mb: (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
  pct: (f: number): string => `${(f * 100).toFixed(f < 0.01 ? 2 : 1)}%`,
};

export const passIf = (ok: boolean): Status => (ok ? 'PASS' : 'FAIL');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A figure measured in several rounds: its median, and its spread so a reader sees how noisy the run was. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Each round's figure, in the order measured. */
  values: number[];
}

export function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), values: [...xs] };
}
