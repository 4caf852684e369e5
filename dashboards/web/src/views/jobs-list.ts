import { api, type JobFilters } from '../api';
import { h, replace } from '../dom';
import { go, href } from '../router';
import { followJob } from '../sse';
import { isLive, JOB_KINDS, JOB_STATES, type Job } from '../types';
import { every, handleError, type Unmount } from '../view';
import { JobRow } from './job-row';

const PAGE = 50;
const POLL_MS = 4000;
/**
 * Browsers allow six HTTP/1.1 connections per host, and every SSE stream holds one. Three streams
 * leave room for the list poll, page changes and the job page's own stream; running jobs beyond the
 * first three still move, at the poll's pace.
 */
const MAX_STREAMS = 3;

function filtersOf(q: URLSearchParams): JobFilters {
  const f: JobFilters = {};
  for (const k of ['state', 'kind', 'pool', 'user'] as const) {
    const v = q.get(k);
    if (v) f[k] = v;
  }
  return f;
}

function select(name: string, label: string, options: readonly string[], value: string | undefined): HTMLSelectElement {
  const s = h('select', { name, 'aria-label': label }, h('option', { value: '' }, `any ${label}`));
  for (const o of options) s.appendChild(h('option', { value: o }, o.replace(/_/g, ' ')));
  if (value && !options.includes(value)) s.appendChild(h('option', { value }, value));
  s.value = value ?? '';
  return s;
}

export function jobsView(root: HTMLElement, query: URLSearchParams): Unmount {
  const filters = filtersOf(query);
  const rows = new Map<string, JobRow>();
  const streams = new Map<string, () => void>();
  let firstIds: string[] = [];
  const moreIds: string[] = [];
  let cursor: string | null = null;
  let stopped = false;

  // Filters live in the URL, so a filtered list can be bookmarked and shared.
  const applyFilter = (key: keyof JobFilters, value: string): void => {
    const q = new URLSearchParams(query);
    if (value) q.set(key, value);
    else q.delete(key);
    go(href.jobs(q));
  };
  const state = select('state', 'state', JOB_STATES, filters.state);
  const kind = select('kind', 'kind', JOB_KINDS, filters.kind);
  const pool = select('pool', 'pool', [], filters.pool);
  const user = h('input', {
    name: 'user',
    type: 'search',
    placeholder: 'any user',
    'aria-label': 'user',
    value: filters.user ?? '',
  });
  state.addEventListener('change', () => applyFilter('state', state.value));
  kind.addEventListener('change', () => applyFilter('kind', kind.value));
  pool.addEventListener('change', () => applyFilter('pool', pool.value));
  // `change`, not `input`: the list reloads once the name is typed, not at every key.
  user.addEventListener('change', () => applyFilter('user', user.value.trim()));
  const anyFilter = Object.keys(filters).length > 0;
  const clear = h('a', { class: 'btn btn-link', href: href.jobs(), hidden: !anyFilter }, 'clear filters');
  const filterBar = h('form', { class: 'filters', role: 'search' }, state, kind, pool, user, clear);
  filterBar.addEventListener('submit', (e) => e.preventDefault());

  const list = h(
    'div',
    { class: 'job-list', role: 'table', 'aria-label': 'jobs' },
    h(
      'div',
      { class: 'job-row job-head', role: 'row' },
      ...['job', 'state', 'kind', 'pool', 'user', 'progress'].map((c) =>
        h('div', { class: `cell job-${c === 'job' ? 'main' : c}`, role: 'columnheader' }, c),
      ),
    ),
  );
  const body = h('div', { class: 'job-body', role: 'rowgroup' });
  list.appendChild(body);
  const status = h('div', { class: 'list-status' });
  const more = h('button', { type: 'button', class: 'btn load-more', hidden: true }, 'Load more');
  const live = h('span', { class: 'live', title: 'updates live' }, 'live');
  root.replaceChildren(
    h(
      'section',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), live),
      filterBar,
      status,
      list,
      more,
    ),
  );

  const render = (): void => {
    const order = [...firstIds, ...moreIds.filter((id) => !firstIds.includes(id))];
    const els = order.map((id) => rows.get(id)?.el).filter((e): e is HTMLElement => !!e);
    // Re-appending a node moves it; untouched rows keep their DOM (and any transition) as they are.
    els.forEach((el, i) => {
      if (body.children[i] !== el) body.insertBefore(el, body.children[i] ?? null);
    });
    while (body.children.length > els.length) body.lastElementChild?.remove();
    for (const id of [...rows.keys()]) if (!order.includes(id)) rows.delete(id);
    replace(
      status,
      order.length === 0
        ? h(
            'p',
            { class: 'empty' },
            anyFilter ? 'No jobs match these filters.' : 'No jobs yet. Submit one with POST /v1/jobs or the kumo CLI.',
          )
        : null,
    );
    more.hidden = !cursor;
    syncStreams(order);
  };

  const upsert = (job: Job): void => {
    const row = rows.get(job.id);
    if (row) row.update(job);
    else rows.set(job.id, new JobRow(job));
  };

  const syncStreams = (order: string[]): void => {
    // Running jobs first: they move fastest. Queued and budget-paused ones take what streams are left.
    const liveIds = order.filter((id) => isLive(rows.get(id)?.state ?? 'succeeded'));
    const running = liveIds.filter((id) => rows.get(id)?.state === 'running');
    const want = new Set([...running, ...liveIds.filter((id) => !running.includes(id))].slice(0, MAX_STREAMS));
    for (const [id, stop] of streams) {
      if (!want.has(id)) {
        stop();
        streams.delete(id);
      }
    }
    for (const id of want) {
      if (streams.has(id)) continue;
      streams.set(
        id,
        followJob(id, {
          onProgress: (p) => rows.get(id)?.setProgress(p),
          onState: (s) => rows.get(id)?.setState(s.state),
          onEnd: (s) => {
            rows.get(id)?.setState(s.state);
            streams.delete(id);
          },
          onFatal: (err) => handleError(err, status),
        }),
      );
    }
  };

  const loadFirst = async (): Promise<void> => {
    try {
      const page = await api.listJobs(filters, undefined, PAGE);
      if (stopped) return;
      page.jobs.forEach(upsert);
      firstIds = page.jobs.map((j) => j.id);
      // After "load more" the cursor belongs to the last page loaded; the poll must not reset it.
      if (moreIds.length === 0) cursor = page.nextCursor;
      live.classList.remove('stale');
      render();
    } catch (err) {
      live.classList.add('stale');
      handleError(err, status);
    }
  };

  more.addEventListener('click', () => {
    if (!cursor) return;
    more.disabled = true;
    api
      .listJobs(filters, cursor, PAGE)
      .then((page) => {
        if (stopped) return;
        page.jobs.forEach(upsert);
        moreIds.push(...page.jobs.map((j) => j.id));
        cursor = page.nextCursor;
        render();
      })
      .catch((err: unknown) => handleError(err, status))
      .finally(() => {
        more.disabled = false;
      });
  });

  // The pool filter offers the pools that exist; a failure here only leaves the select short.
  api
    .pools()
    .then((ps) => {
      for (const p of ps)
        if (![...pool.options].some((o) => o.value === p.name))
          pool.appendChild(h('option', { value: p.name }, p.name));
      pool.value = filters.pool ?? '';
    })
    .catch(() => {});

  void loadFirst();
  const stopPoll = every(POLL_MS, loadFirst);
  return () => {
    stopped = true;
    stopPoll();
    for (const stop of streams.values()) stop();
    streams.clear();
  };
}
