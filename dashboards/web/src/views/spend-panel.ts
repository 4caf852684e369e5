import { api, type SpendReport } from '../api';
import { table } from '../components/tables';
import { h } from '../dom';
import { fmtPercent, fmtUsd } from '../format';

/**
 * The month's spend against the team's monthly budget, and each user's share of it: what the bill will
 * say, from GET /v1/spend (months start at midnight in the API's budget time zone).
 */
export function spendPanel(r: SpendReport): HTMLElement {
  const max = r.teamMaxCostUsd;
  const used = max === null ? null : max > 0 ? Math.min(1, r.totalUsd / max) : 1;
  const head = h(
    'div',
    { class: 'stats' },
    h(
      'div',
      { class: 'stat', 'data-stat': 'month-spend' },
      h('div', { class: 'stat-label' }, `spent in ${r.month}`),
      h('div', { class: 'stat-value' }, fmtUsd(r.totalUsd)),
    ),
    h(
      'div',
      { class: 'stat', 'data-stat': 'team-budget' },
      h('div', { class: 'stat-label' }, 'team budget this month'),
      h('div', { class: 'stat-value' }, max === null ? 'none' : fmtUsd(max)),
      used === null
        ? null
        : h('div', { class: 'stat-sub' }, `${fmtPercent(used)} used · ${fmtUsd(Math.max(0, max! - r.totalUsd))} left`),
    ),
  );
  // A <meter>, not a styled div: the page's CSP allows no inline styles.
  const bar =
    used === null
      ? null
      : h('meter', {
          class: 'budget-bar',
          min: '0',
          max: '1',
          low: '0.8',
          high: '0.95',
          optimum: '0',
          value: used.toFixed(4),
        });
  const users = r.rows.length
    ? table(
        'spend-users',
        ['user', 'spent this month'],
        r.rows.map((row) =>
          h('tr', { 'data-user': row.name }, h('td', {}, row.name), h('td', { class: 'num' }, fmtUsd(row.costUsd))),
        ),
      )
    : h('p', { class: 'muted' }, 'Nothing spent this month yet.');
  return h('section', { class: 'card spend' }, h('h2', {}, 'This month’s spend'), head, bar, users);
}

/** The current month's spend by user. */
export async function loadSpend(): Promise<SpendReport> {
  return api.spend('user');
}
