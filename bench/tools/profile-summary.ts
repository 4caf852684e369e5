/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file, and the
 * inclusive time of functions whose name or file matches a filter.
 *   [SKIP_S=seconds] [UNTIL_S=seconds] [DEPTH=4] npx tsx bench/tools/profile-summary.ts <file.cpuprofile> [top=30] [filter-regex] [callers-regex]
 * With callers-regex: the self time of matching functions, by their 4 nearest callers.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, filter, callers] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [top] [filter-regex]');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 30);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
// SKIP_S: leave out the first seconds (start-up: module loading, compiling).
const skipUs = Number(process.env.SKIP_S ?? 0) * 1e6;
// UNTIL_S: and everything after this second of the profile (shutdown).
const untilUs = Number(process.env.UNTIL_S ?? Infinity) * 1e6;
const selfUs = new Map<number, number>();
let clock = 0;
for (let i = 0; i < p.samples.length; i++) {
  clock += p.timeDeltas[i] ?? 0;
  if (clock < skipUs || clock > untilUs) continue;
  selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const short = (url: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const k = /\/work\/main\/(.*)$/.exec(url.replace('file://', ''));
  return k ? k[1]! : url || '(native)';
};
const fnKey = (n: Node): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const selfBy = (key: (n: Node) => string): [string, number][] => {
  const m = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    m.set(key(n), (m.get(key(n)) ?? 0) + us);
  }
  return [...m].sort((a, b) => b[1] - a[1]);
};
const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
console.log(
  `profile ${file}: ${(total / 1e6).toFixed(2)} s sampled over ${((p.endTime - p.startTime) / 1e6).toFixed(2)} s wall`,
);
console.log('\nself time by package / file:');
for (const [k, us] of selfBy((n) =>
  n.callFrame.url.startsWith('node:') || !n.callFrame.url
    ? `${n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(node internals)'}`
    : short(n.callFrame.url),
).slice(0, top))
  console.log(`${pct(us)}  ${k}`);
console.log('\nself time by function:');
for (const [k, us] of selfBy(fnKey).slice(0, top)) console.log(`${pct(us)}  ${k}`);

// Inclusive time: each sample counts once for every distinct matching frame on its stack.
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
if (filter) {
  const re = new RegExp(filter);
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const k = fnKey(n);
      if (!seen.has(k) && re.test(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + us);
      }
    }
  }
  console.log(`\ninclusive time of functions matching /${filter}/:`);
  for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
}

if (callers) {
  const re = new RegExp(callers);
  const chains = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (!re.test(fnKey(n))) continue;
    const chain: string[] = [];
    for (
      let cur = parent.get(id);
      cur !== undefined && chain.length < Number(process.env.DEPTH ?? 4);
      cur = parent.get(cur)
    )
      chain.push(fnKey(byId.get(cur)!));
    const k = `${fnKey(n)} <- ${chain.join(' <- ')}`;
    chains.set(k, (chains.get(k) ?? 0) + us);
  }
  console.log(`\nself time of /${callers}/ by caller chain:`);
  for (const [k, us] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
}
