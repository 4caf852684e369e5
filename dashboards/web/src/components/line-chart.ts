import { h, replace, svg } from '../dom';

export interface Point {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

export interface LineChart {
  el: HTMLElement;
  draw(points: readonly Point[]): void;
}

const W = 600;
const H = 200;
const PAD = { left: 56, right: 12, top: 12, bottom: 24 };

/** 1, 2 or 5 times a power of ten, so axis labels are round numbers. */
function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

function compact(n: number): string {
  return n.toLocaleString(undefined, { notation: 'compact', maximumFractionDigits: 1 });
}

/**
 * A small SVG line chart: enough for "how far, how fast" without a charting library. The SVG has a
 * fixed viewBox and scales with its box, so it fits a phone and a laptop alike. Redraws are cheap
 * (a few hundred points), and callers batch them with requestAnimationFrame.
 */
export function lineChart(opts: { title: string; unit: string; className?: string }): LineChart {
  const plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.title });
  const latest = h('span', { class: 'chart-latest' });
  const el = h(
    'figure',
    { class: `chart ${opts.className ?? ''}` },
    h('figcaption', {}, h('span', {}, opts.title), latest),
    plot,
  );

  return {
    el,
    draw(points) {
      const last = points.at(-1);
      latest.textContent = last ? `${compact(last.v)} ${opts.unit}` : '';
      const children: SVGElement[] = [];
      const x0 = PAD.left;
      const x1 = W - PAD.right;
      const y0 = H - PAD.bottom;
      const y1 = PAD.top;
      const first = points[0];
      if (!first || !last) {
        children.push(
          svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'waiting for data'),
        );
        replace(plot, ...children);
        return;
      }
      const tMin = first.t;
      // At least a minute wide, so the first few seconds do not stretch across the whole chart.
      const tMax = Math.max(last.t, tMin + 60_000);
      const vMax = Math.max(1, ...points.map((p) => p.v));
      const step = niceStep(vMax, 4);
      const top = Math.ceil(vMax / step) * step;
      const sx = (t: number): number => x0 + ((t - tMin) / (tMax - tMin)) * (x1 - x0);
      const sy = (v: number): number => y0 - (v / top) * (y0 - y1);

      for (let v = 0; v <= top + step / 2; v += step) {
        children.push(svg('line', { x1: x0, x2: x1, y1: sy(v), y2: sy(v), class: 'chart-grid' }));
        children.push(svg('text', { x: x0 - 6, y: sy(v) + 4, 'text-anchor': 'end', class: 'chart-label' }, compact(v)));
      }
      for (const t of [tMin, (tMin + tMax) / 2, tMax]) {
        const label = new Date(t).toLocaleTimeString(undefined, {
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
          hour12: false,
        });
        const anchor = t === tMin ? 'start' : t === tMax ? 'end' : 'middle';
        children.push(svg('text', { x: sx(t), y: H - 6, 'text-anchor': anchor, class: 'chart-label' }, label));
      }
      const coords = points.map((p) => `${sx(p.t).toFixed(1)},${sy(p.v).toFixed(1)}`);
      children.push(
        svg('path', { d: `M${sx(tMin)},${y0} L${coords.join(' L')} L${sx(last.t)},${y0} Z`, class: 'chart-area' }),
      );
      children.push(
        svg('path', { d: `M${coords.join(' L')}`, class: 'chart-line', 'vector-effect': 'non-scaling-stroke' }),
      );
      // The newest value as a dot: visible from the first point on, before there is a line.
      children.push(svg('circle', { cx: sx(last.t), cy: sy(last.v), r: 3.5, class: 'chart-dot' }));
      replace(plot, ...children);
    },
  };
}
