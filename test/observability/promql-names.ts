/**
 * The metric names a PromQL expression reads, for checking dashboards against a live /metrics. Not a
 * full parser: it removes what cannot be a metric name (strings, label matchers, ranges, numbers,
 * grouping label lists, Grafana variables), then keeps the identifiers that are not functions,
 * aggregations or keywords.
 */
const AGGREGATIONS = [
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
];
const KEYWORDS = [
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
];
const RESERVED = new Set([...AGGREGATIONS, ...KEYWORDS]);

export function promqlMetricNames(expr: string): string[] {
  let s = expr
    // Grafana's label_values(<selector>, label): only the selector is PromQL.
    .replace(/^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s, '$1')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'x') // $pool, ${datasource}, $__rate_interval
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\boffset\s+-?[0-9a-z.]+|@\s*(?:start\(\)|end\(\)|[0-9.]+)/gi, ' ') // modifiers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/(^|[^A-Za-z0-9_:.])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, '$1 ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = s.slice(m.index! + word.length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation applied
    if (RESERVED.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/**
 * The metric family a sample name belongs to, given the families /metrics declares (# TYPE): a
 * histogram's `_bucket`, `_sum` and `_count`, a summary's `_sum` and `_count`, otherwise the name itself.
 * A gauge that happens to end in `_count` stays itself.
 */
export function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return name;
  const type = types.get(m[1]!);
  if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1]!;
  return name;
}
