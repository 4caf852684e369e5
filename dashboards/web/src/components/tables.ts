import { h, type Child } from '../dom';
import { fmtInt, fmtTime } from '../format';
import { href } from '../router';
import type { CheckpointEvaluation, Job, TaskFailure, TaskResult } from '../types';
import { stateLabel } from './state-badge';

/** A table inside a scroller, so wide tables scroll sideways on a phone instead of breaking the page. */
export function table(cls: string, head: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: cls },
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows),
    ),
  );
}

const td = (cls: string, ...c: Child[]): HTMLTableCellElement => h('td', { class: cls }, ...c);

/** A task row's index: with `onLog`, a button that opens the task's whole log (followed while it runs) below. */
function taskIndex(index: number, onLog: ((index: number) => void) | undefined): Child {
  return onLog
    ? h(
        'button',
        {
          type: 'button',
          class: 'link-button show-log',
          title: "show this task's log",
          'data-index': index,
          onclick: () => onLog(index),
        },
        fmtInt(index),
      )
    : fmtInt(index);
}

/** Failed tasks with their error and, one click away, the tail of their log (and its whole log, with `onLog`). */
export function failedTasksTable(tasks: TaskFailure[], onLog?: (index: number) => void): HTMLElement {
  const rows: HTMLTableRowElement[] = [];
  for (const t of tasks) {
    rows.push(
      h(
        'tr',
        { class: 'task-row', 'data-index': t.index },
        td('num', taskIndex(t.index, onLog)),
        td('num', t.attempt, t.final ? '' : ' (retrying)'),
        td('code', h('code', { class: 'error-code' }, t.error.code)),
        td('error-message', t.error.message),
        td('mono', t.worker),
        td('when', fmtTime(t.at)),
      ),
    );
    const lines = t.logTail ? t.logTail.replace(/\n$/, '').split('\n').length : 0;
    rows.push(
      h(
        'tr',
        { class: 'log-row' },
        h(
          'td',
          { colspan: 6 },
          t.logTail
            ? h(
                'details',
                { class: 'log' },
                h('summary', {}, `log tail · ${lines} line${lines === 1 ? '' : 's'}`),
                h('pre', { class: 'log-tail' }, t.logTail),
              )
            : h('span', { class: 'muted' }, 'no log output'),
        ),
      ),
    );
  }
  return table('tasks', ['task', 'attempt', 'error', 'message', 'worker', 'at'], rows);
}

/**
 * Task index -> (checkpoint, benchmark), benchmark-major: the same rule as `evaluationPair` in
 * shared/src/catalog/evaluation.ts (not importable here: shared's index is Node-only).
 */
function evaluationPair(spec: Record<string, unknown>, index: number): [string, string] {
  const cps = Array.isArray(spec.checkpoints) ? (spec.checkpoints as string[]) : [];
  const bms = Array.isArray(spec.benchmarks) ? (spec.benchmarks as string[]) : [];
  if (bms.length === 0) return ['', ''];
  return [cps[Math.floor(index / bms.length)] ?? '', bms[index % bms.length] ?? ''];
}

const RESULT_META = ['worker', 'at'];

function cell(v: unknown): string {
  if (typeof v === 'number') return v.toLocaleString(undefined, { maximumFractionDigits: 4 });
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}

/** What tasks reported with `::kumo::result`, one row per task, one column per key seen. */
export function resultsTable(job: Job, results: TaskResult[], onLog?: (index: number) => void): HTMLElement {
  // The store folds `worker` and `at` into each task's result; they go last, after what the task said.
  const keys = [...new Set(results.flatMap((r) => Object.keys(r.result)))]
    .filter((k) => !RESULT_META.includes(k))
    .sort();
  const meta = RESULT_META.filter((k) => results.some((r) => k in r.result));
  const evaluation = job.kind === 'evaluation';
  const head = ['task', ...(evaluation ? ['checkpoint', 'benchmark'] : []), ...keys, ...meta];
  const rows = results.map((r) => {
    const pair = evaluation ? evaluationPair(job.spec, r.index) : null;
    return h(
      'tr',
      { 'data-index': r.index },
      td('num', taskIndex(r.index, onLog)),
      ...(pair ? [td('mono', pair[0]), td('', pair[1])] : []),
      ...keys.map((k) => td(typeof r.result[k] === 'number' ? 'num' : '', cell(r.result[k]))),
      ...meta.map((k) =>
        k === 'at' ? td('when muted', fmtTime(String(r.result.at ?? ''))) : td('mono muted', cell(r.result[k])),
      ),
    );
  });
  return table('results', head, rows);
}

/** A training job's evaluated checkpoints: one row per step, one column per benchmark, best read down. */
export function evaluationsTable(evaluations: CheckpointEvaluation[]): HTMLElement {
  const benchmarks = [...new Set(evaluations.flatMap((e) => Object.keys(e.scores)))];
  const rows = evaluations.map((e) =>
    h(
      'tr',
      { 'data-step': e.step },
      td('num', fmtInt(e.step)),
      td('', h('span', { class: 'badge', 'data-state': e.state }, stateLabel(e.state))),
      ...benchmarks.map((b) => {
        const v = e.scores[b];
        return typeof v === 'number' ? td('num', cell(v)) : td('num muted', '–');
      }),
      td('mono', h('a', { href: href.job(e.jobId) }, e.jobId)),
    ),
  );
  return table('evaluations', ['step', 'state', ...benchmarks, 'evaluation job'], rows);
}
