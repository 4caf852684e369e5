import { api, ApiError } from '../api';
import { lineChart, type Point } from '../components/line-chart';
import { progressBar } from '../components/progress-bar';
import { stateBadge, updateBadge } from '../components/state-badge';
import { evaluationsTable, failedTasksTable, resultsTable } from '../components/tables';
import { taskLogView } from '../components/task-log';
import { contributorsSection, rerunActions } from '../components/job-reruns';
import { h, replace, setText } from '../dom';
import { fmtDuration, fmtEta, fmtInt, fmtRate, fmtTime, fmtUsd } from '../format';
import { href } from '../router';
import { followJob } from '../sse';
import { isTerminal, type Job, type JobState, type Progress } from '../types';
import { handleError, type Unmount } from '../view';

/** Points kept per chart: a day of 200 ms events would be far more than a chart can show. */
const MAX_POINTS = 600;
/** How often a training job's checkpoint evaluations are re-read while any is still open. */
const EVALUATIONS_POLL_MS = 3000;
/** Failed tasks and results are re-read at most this often while the counts move. */
const REFRESH_MS = 3000;

function pushPoint(points: Point[], p: Point): void {
  points.push(p);
  // Thin the older half rather than drop the start, so the chart keeps the whole time span.
  if (points.length > MAX_POINTS) {
    const half = Math.floor(points.length / 2);
    const older = points.splice(0, half).filter((_, i) => i % 2 === 0);
    points.unshift(...older);
  }
}

function stat(label: string, cls: string): { el: HTMLElement; value: HTMLElement; sub: HTMLElement } {
  const value = h('div', { class: 'stat-value' });
  const sub = h('div', { class: 'stat-sub' });
  return { el: h('div', { class: `stat ${cls}` }, h('div', { class: 'stat-label' }, label), value, sub), value, sub };
}

export function jobView(root: HTMLElement, id: string): Unmount {
  let stopped = false;
  let stopStream: (() => void) | undefined;
  let stopLog: (() => void) | undefined;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const body = h('div', { class: 'notice' }, 'Loading…');
  root.replaceChildren(
    h('section', { class: 'page' }, h('nav', { class: 'crumbs' }, h('a', { href: href.jobs() }, '← Jobs')), body),
  );

  api
    .getJob(id)
    .then((job) => {
      if (!stopped) stopStream = mount(job);
    })
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) replace(body, `No job with id ${id}.`);
      else handleError(err, body);
    });

  function mount(initial: Job): () => void {
    let job = initial;
    const badge = stateBadge(job.state);
    const cancelMsg = h('span', { class: 'action-message', role: 'status' });
    const pause = h(
      'button',
      {
        type: 'button',
        class: 'btn',
        'data-action': 'pause',
        title: 'Nothing new starts; tasks already running finish',
      },
      'Pause',
    );
    const resume = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'resume' }, 'Resume');
    const cancel = h('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'cancel' }, 'Cancel job');
    // Once ended: rerun its failed or unfinished tasks as a new job.
    const reruns = rerunActions();
    const head = h(
      'div',
      { class: 'job-title' },
      h('h1', {}, job.name),
      badge,
      h('div', { class: 'actions' }, cancelMsg, pause, resume, cancel),
      reruns.el,
    );
    const contributors = contributorsSection(job.id);

    const meta = h('dl', { class: 'meta' });
    const bar = progressBar({ large: true });
    const tiles = {
      queued: stat('queued', 'stat-queued'),
      running: stat('running', 'stat-running'),
      succeeded: stat('succeeded', 'stat-succeeded'),
      failed: stat('failed', 'stat-failed'),
      rate: stat('throughput', 'stat-rate'),
      eta: stat('ETA', 'stat-eta'),
      cost: stat('cost', 'stat-cost'),
    };
    // The charts are built from the stream while the page is open; a job that had already ended
    // has no stream, and the API keeps no history to draw, so its page shows the final numbers only.
    const progressChart = lineChart({ title: `${job.progress.unit} succeeded`, unit: job.progress.unit });
    const rateChart = lineChart({ title: 'throughput', unit: `${job.progress.unit}/min` });
    const done: Point[] = [];
    const rate: Point[] = [];
    const failedBox = h('div', {});
    const failedHead = h('h2', {}, 'Failed tasks');
    const resultsSection = h('section', { class: 'card', hidden: true }, h('h2', {}, 'Results'));
    const resultsBox = h('div', {});
    resultsSection.appendChild(resultsBox);
    // A training job with an evaluate block: its checkpoints' scores, as the evaluation jobs report them.
    const evaluates = job.kind === 'training' && typeof job.spec.evaluate === 'object' && job.spec.evaluate !== null;
    const evaluationsBox = h('div', {});
    const evaluationsSection = h(
      'section',
      { class: 'card', hidden: !evaluates },
      h('h2', {}, 'Checkpoint evaluations'),
      evaluationsBox,
    );
    // A task's whole log, followed while it runs; a task row's "log" button opens it here.
    const taskLog = taskLogView(job.id);
    stopLog = taskLog.stop;
    const openLog = (index: number): void => {
      taskLog.show(index);
      taskLog.el.scrollIntoView({ block: 'nearest' });
    };

    replace(
      body,
      head,
      meta,
      h('section', { class: 'card' }, bar.el, h('div', { class: 'stats' }, ...Object.values(tiles).map((t) => t.el))),
      h(
        'section',
        { class: 'charts', hidden: isTerminal(job.state) },
        progressChart.el,
        rateChart.el,
        h('p', { class: 'charts-note' }, 'Drawn from live updates since this page was opened.'),
      ),
      h('section', { class: 'card' }, failedHead, failedBox),
      contributors.el,
      resultsSection,
      evaluationsSection,
      taskLog.el,
      h('details', { class: 'card spec' }, h('summary', {}, 'Spec'), h('pre', {}, JSON.stringify(job.spec, null, 2))),
    );
    body.className = 'job-page';

    const renderMeta = (): void => {
      const rows: [string, string][] = [
        ['id', job.id],
        ['kind', job.kind],
        ['pool', job.pool],
        ['user', job.user],
        ['priority', String(job.priority)],
        ['created', fmtTime(job.createdAt)],
        ['started', fmtTime(job.startedAt)],
        ['finished', fmtTime(job.finishedAt)],
      ];
      if (job.reason) rows.push(['reason', job.reason]);
      if (job.rerunOf) rows.push(['rerun of', job.rerunOf]);
      if (job.budget) rows.push(['budget', fmtUsd(job.budget.maxCostUsd)]);
      if (job.handBacks)
        rows.push(['handed back', `${fmtInt(job.handBacks)} tasks (workers stopped before finishing them)`]);
      replace(meta, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)]));
    };

    let drawQueued = false;
    const redraw = (): void => {
      if (drawQueued) return;
      drawQueued = true;
      // Events can come every 200 ms per job; draw at most once per frame.
      requestAnimationFrame(() => {
        drawQueued = false;
        progressChart.draw(done);
        rateChart.draw(rate);
      });
    };

    const renderProgress = (p: Progress): void => {
      const terminal = isTerminal(job.state);
      bar.update(p, terminal);
      setText(tiles.queued.value, fmtInt(p.queued));
      setText(tiles.running.value, fmtInt(p.running));
      setText(tiles.succeeded.value, fmtInt(p.succeeded));
      setText(tiles.failed.value, fmtInt(p.failed));
      tiles.failed.el.classList.toggle('nonzero', p.failed > 0);
      setText(tiles.rate.value, `${fmtRate(p.ratePerMinute)}/min`);
      setText(tiles.rate.sub, p.unit);
      const eta = terminal ? null : fmtEta(p.estimatedCompletionAt);
      setText(tiles.eta.value, terminal ? 'done' : (eta ?? '—'));
      // Cost only where there is one: a local pool's jobs cost nothing, and a $0 tile is noise.
      const cost = p.costUsd ?? 0;
      tiles.cost.el.hidden = cost === 0 && !job.budget;
      setText(tiles.cost.value, fmtUsd(cost));
      const forecast = !terminal && p.forecastCostUsd ? `forecast ${fmtUsd(p.forecastCostUsd)}` : '';
      setText(
        tiles.cost.sub,
        [forecast, job.budget ? `budget ${fmtUsd(job.budget.maxCostUsd)}` : ''].filter(Boolean).join(' · '),
      );
      setText(
        tiles.eta.sub,
        !terminal && p.etaSeconds !== null
          ? `in ${fmtDuration(p.etaSeconds)}`
          : terminal
            ? job.finishedAt
              ? fmtTime(job.finishedAt)
              : ''
            : 'no rate yet',
      );
    };

    const renderState = (): void => {
      updateBadge(badge, job.state);
      body.dataset.state = job.state;
      cancel.hidden = isTerminal(job.state);
      // As the API allows: pause from queued, running or budget_exhausted; resume from paused only.
      pause.hidden = isTerminal(job.state) || job.state === 'paused';
      resume.hidden = job.state !== 'paused';
      reruns.update(job);
      renderMeta();
      renderProgress(job.progress);
    };

    const onProgress = (p: Progress): void => {
      const last = done.at(-1);
      // Counts only grow; a repeat of the same numbers adds no information to the chart.
      if (!last || p.succeeded !== last.v || Date.now() - last.t > 5000) {
        const now = Date.now();
        pushPoint(done, { t: now, v: p.succeeded });
        pushPoint(rate, { t: now, v: p.ratePerMinute });
        redraw();
      }
      const failedBefore = job.progress.failed;
      const succeededBefore = job.progress.succeeded;
      job = { ...job, progress: p };
      renderProgress(p);
      if (p.failed !== failedBefore) scheduleRefresh('failed');
      if (p.succeeded !== succeededBefore) scheduleRefresh('results');
    };

    // Failed tasks and results: read now, and again (throttled) when their counts move.
    const pending = new Set<'failed' | 'results'>();
    let lastRead = { failed: 0, results: 0 };
    const readFailed = async (): Promise<void> => {
      const tasks = await api.failedTasks(job.id);
      setText(failedHead, tasks.length ? `Failed tasks (${fmtInt(tasks.length)})` : 'Failed tasks');
      replace(
        failedBox,
        tasks.length ? failedTasksTable(tasks, openLog) : h('p', { class: 'empty' }, 'No task has failed.'),
      );
    };
    const readResults = async (): Promise<void> => {
      const results = await api.results(job.id);
      resultsSection.hidden = !(job.kind === 'evaluation' || results.length > 0);
      replace(
        resultsBox,
        results.length ? resultsTable(job, results, openLog) : h('p', { class: 'empty' }, 'No results reported yet.'),
      );
    };
    // Evaluation jobs start and finish on their own time, after the training job too: poll while any is open.
    const readEvaluations = async (): Promise<void> => {
      if (!evaluates || stopped) return;
      let open = true;
      try {
        const evaluations = await api.evaluations(job.id);
        replace(
          evaluationsBox,
          evaluations.length
            ? evaluationsTable(evaluations)
            : h('p', { class: 'empty' }, 'No checkpoint evaluated yet.'),
        );
        open = !isTerminal(job.state) || evaluations.some((e) => !isTerminal(e.state as JobState));
      } catch (err) {
        // Shown in place of the table until the next read replaces it: one failed read (a busy API, a
        // dropped connection) used to end the polling, and the table stayed an error for good.
        handleError(err, evaluationsBox);
      }
      if (open && !stopped) timers.push(setTimeout(() => void readEvaluations(), EVALUATIONS_POLL_MS));
    };
    const read = (what: 'failed' | 'results'): void => {
      lastRead = { ...lastRead, [what]: Date.now() };
      void contributors.read();
      (what === 'failed' ? readFailed() : readResults()).catch((err: unknown) =>
        handleError(err, what === 'failed' ? failedBox : resultsBox),
      );
    };
    const scheduleRefresh = (what: 'failed' | 'results'): void => {
      if (pending.has(what)) return;
      const wait = Math.max(0, lastRead[what] + REFRESH_MS - Date.now());
      pending.add(what);
      timers.push(
        setTimeout(() => {
          pending.delete(what);
          if (!stopped) read(what);
        }, wait),
      );
    };

    /** One action button: POST it, show the job after, or say why not (the button is back either way). */
    const onAction = (
      button: HTMLButtonElement,
      action: 'cancel' | 'pause' | 'resume',
      doing: string,
      confirmText?: string,
    ): void => {
      button.addEventListener('click', () => {
        if (confirmText && !confirm(confirmText)) return;
        button.disabled = true;
        setText(cancelMsg, doing);
        api
          .jobAction(job.id, action)
          .then((j) => {
            job = j;
            setText(cancelMsg, '');
            renderState();
          })
          .catch((err: unknown) => {
            if (err instanceof ApiError && err.unauthenticated) return handleError(err, cancelMsg);
            setText(
              cancelMsg,
              err instanceof ApiError
                ? `Not done (${action}): ${err.message}`
                : `Not done (${action}): the API could not be reached`,
            );
          })
          .finally(() => {
            button.disabled = false;
          });
      });
    };
    onAction(
      cancel,
      'cancel',
      'Cancelling…',
      `Cancel job "${job.name}"?\n\nRunning tasks are stopped and nothing new starts. This cannot be undone.`,
    );
    onAction(pause, 'pause', 'Pausing…');
    onAction(resume, 'resume', 'Resuming…');

    renderState();
    onProgress(job.progress);
    read('failed');
    read('results');
    void readEvaluations();
    if (isTerminal(job.state)) return () => {};
    return followJob(job.id, {
      onProgress,
      onState: (s) => {
        job = { ...job, state: s.state, ...(s.reason ? { reason: s.reason } : {}) };
        renderState();
      },
      onEnd: () => {
        // The stream carries state and progress only; finishedAt and the reason come with the record.
        api
          .getJob(job.id)
          .then((j) => {
            if (stopped) return;
            job = j;
            renderState();
            read('failed');
            read('results');
          })
          .catch((err: unknown) => handleError(err, cancelMsg));
      },
      onFatal: (err) => handleError(err, cancelMsg),
    });
  }

  return () => {
    stopped = true;
    stopStream?.();
    stopLog?.();
    timers.forEach(clearTimeout);
  };
}
