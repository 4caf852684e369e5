import { api } from '../api';
import { table } from '../components/tables';
import { h, replace } from '../dom';
import { fmtAge, fmtDuration, fmtTime, fmtUsd } from '../format';
import type { Pool } from '../types';
import { every, handleError, type Unmount } from '../view';
import { loadSpend, spendPanel } from './spend-panel';

const POLL_MS = 5000;

function settings(p: Pool): HTMLElement {
  const rows: [string, string][] = [
    ['machine', p.machineType],
    ['GPU', p.gpu.count > 0 ? `${p.gpu.count} × ${p.gpu.type}` : 'none'],
    ['spot', p.spot ? 'yes' : 'no'],
    ['zones', p.zones.join(' → ')],
    ['size', `${p.min} – ${p.max} VMs`],
    ['slots per VM', String(p.slotsPerVm)],
    ['idle timeout', fmtDuration(p.idleTimeoutSeconds)],
    ['scale step', `+${p.scaleUpBatch} / −${p.scaleDownBatch} per tick`],
  ];
  if (p.spot && p.fallbackToStandard !== undefined)
    rows.push(['spot fallback', p.fallbackToStandard ? 'standard VMs when spot runs out' : 'none: wait for spot']);
  if (p.prices?.spotPerHourUsd !== undefined || p.prices?.onDemandPerHourUsd !== undefined) {
    const each = [
      p.prices.spotPerHourUsd !== undefined ? `spot ${fmtUsd(p.prices.spotPerHourUsd)}/h` : '',
      p.prices.onDemandPerHourUsd !== undefined ? `standard ${fmtUsd(p.prices.onDemandPerHourUsd)}/h` : '',
    ];
    rows.push(['prices', each.filter(Boolean).join(', ')]);
  }
  if (p.maxHourlyUsd !== undefined) rows.push(['hourly cap', `${fmtUsd(p.maxHourlyUsd)}/h`]);
  if (p.image) rows.push(['image', p.image]);
  const labels = Object.entries(p.labels);
  if (labels.length) rows.push(['labels', labels.map(([k, v]) => `${k}=${v}`).join(', ')]);
  return h('dl', { class: 'meta' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function status(p: Pool): HTMLElement {
  const s = p.status;
  if (!s) return h('p', { class: 'muted' }, 'The autoscaler has not looked at this pool yet.');
  const tile = (label: string, v: string): HTMLElement =>
    h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, v));
  const num = (label: string, v: number): HTMLElement => tile(label, v.toLocaleString());
  return h(
    'div',
    { class: 'pool-status' },
    h(
      'div',
      { class: 'stats' },
      num('desired', s.desired),
      num('live', s.live),
      num('running', s.running),
      num('task demand', s.demand),
      s.hourlyUsd ? tile('now', `${fmtUsd(s.hourlyUsd)}/h`) : null,
      s.costUsd ? tile('spent', fmtUsd(s.costUsd)) : null,
    ),
    h('h3', {}, 'Autoscaler’s last reasons ', h('span', { class: 'muted' }, `· ${fmtTime(s.updatedAt)}`)),
    s.reasons.length
      ? h('ul', { class: 'reasons' }, ...s.reasons.map((r) => h('li', {}, r)))
      : h('p', { class: 'muted' }, 'No reasons given.'),
  );
}

function poolCard(p: Pool): HTMLElement {
  const now = Date.now();
  const vms = p.vms.length
    ? table(
        'vms',
        ['name', 'zone', 'state', 'age', 'spot'],
        p.vms.map((v) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono' }, v.name),
            h('td', {}, v.zone ?? '—'),
            h(
              'td',
              {},
              h('span', { class: 'badge', 'data-state': v.state }, v.state),
              v.reason ? h('span', { class: 'muted' }, ` ${v.reason}`) : null,
            ),
            h('td', {}, fmtAge(v.createdAt, now)),
            h('td', {}, v.spot ? 'yes' : 'no'),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'No VMs.');
  const workers = p.workers.length
    ? table(
        'workers',
        ['worker', 'state', 'busy', 'last seen'],
        p.workers.map((w) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono' }, w.id),
            h('td', {}, w.state),
            h('td', {}, `${w.running} / ${w.slots} slots`),
            h('td', {}, `${fmtAge(w.lastSeen, now)} ago`),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'No workers.');
  return h(
    'section',
    { class: 'card pool', 'data-pool': p.name },
    h('h2', {}, p.name),
    h(
      'div',
      { class: 'pool-grid' },
      h('div', {}, h('h3', {}, 'Settings'), settings(p)),
      h('div', {}, h('h3', {}, 'Status'), status(p)),
    ),
    h('h3', {}, `VMs (${p.vms.length})`),
    vms,
    h('h3', {}, `Workers (${p.workers.length})`),
    workers,
  );
}

export function poolsView(root: HTMLElement): Unmount {
  let stopped = false;
  const list = h('div', { class: 'pools' }, h('div', { class: 'notice' }, 'Loading…'));
  root.replaceChildren(
    h(
      'section',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Pools'), h('span', { class: 'live' }, 'live')),
      list,
    ),
  );
  const load = async (): Promise<void> => {
    try {
      const [pools, spend] = await Promise.all([api.pools(), loadSpend()]);
      if (stopped) return;
      replace(
        list,
        spendPanel(spend),
        ...(pools.length
          ? pools.map(poolCard)
          : [h('p', { class: 'empty' }, 'No pools. Create one with PUT /v1/pools/:name.')]),
      );
    } catch (err) {
      handleError(err, list);
    }
  };
  void load();
  const stop = every(POLL_MS, load);
  return () => {
    stopped = true;
    stop();
  };
}
