/**
 * A small SVG line chart: one panel, one or two series over the last refreshes, the current value
 * in the title. Gaps where a figure was unknown. The data-* attributes let a test read what is drawn.
 */
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 64;
const PAD_TOP = 4;

export interface Series {
  name: string;
  values: (number | null)[];
  /** A CSS colour; the host's palette variables where it has them. */
  color: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  series: Series[];
  format: (value: number) => string;
  /** A fixed top of the scale (e.g. 1 for a fraction); otherwise the largest value shown. */
  max?: number;
}

export function lineChart(spec: ChartSpec): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.chart = spec.id;
  const caption = document.createElement('figcaption');
  const latest = spec.series.map((s) => `${s.name} ${describeLast(s, spec.format)}`).join(' · ');
  caption.textContent = `${spec.title}: ${latest}`;
  figure.append(caption);

  const known = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = spec.max ?? niceCeiling(Math.max(0, ...known));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', caption.textContent);
  const baseline = document.createElementNS(SVG, 'line');
  baseline.setAttribute('class', 'axis');
  for (const [key, value] of Object.entries({ x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5 }))
    baseline.setAttribute(key, String(value));
  svg.append(baseline);
  const points = Math.max(2, ...spec.series.map((s) => s.values.length));
  for (const series of spec.series) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', pathOf(series.values, points, top));
    path.setAttribute('stroke', series.color);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke-width', '1.5');
    path.setAttribute('vector-effect', 'non-scaling-stroke');
    path.dataset.series = series.name;
    path.dataset.points = String(series.values.filter((v) => v !== null).length);
    const last = lastKnown(series.values);
    if (last !== null) path.dataset.last = String(last);
    svg.append(path);
    // A dot on the newest point: the first refresh has no line to draw yet.
    const newest = series.values.length - 1;
    if (series.values[newest] !== null && series.values[newest] !== undefined) {
      const dot = document.createElementNS(SVG, 'circle');
      const [x, y] = pointAt(newest, series.values[newest]!, series.values.length, points, top);
      dot.setAttribute('cx', x.toFixed(1));
      dot.setAttribute('cy', y.toFixed(1));
      dot.setAttribute('r', '2.5');
      dot.setAttribute('fill', series.color);
      svg.append(dot);
    }
  }
  const scale = document.createElement('span');
  scale.className = 'scale';
  scale.textContent = top > 0 ? `max ${spec.format(top)}` : '';
  figure.append(svg, scale);
  return figure;
}

/** `M x y L x y …` with a new `M` after every gap. */
export function pathOf(values: readonly (number | null)[], points: number, top: number): string {
  let d = '';
  let isDrawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      isDrawing = false;
      return;
    }
    const [x, y] = pointAt(i, value, values.length, points, top);
    d += `${isDrawing ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
    isDrawing = true;
  });
  return d.trim();
}

/** Where value `i` of `count` sits: right-aligned, so the newest point is always at the right edge. */
function pointAt(i: number, value: number, count: number, points: number, top: number): [number, number] {
  const x = (points - count + i) * (WIDTH / (points - 1));
  const y = HEIGHT - (top > 0 ? Math.min(1, value / top) : 0) * (HEIGHT - PAD_TOP);
  return [x, y];
}

/** 1, 2 or 5 times a power of ten: scales that read well. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (value <= factor * power) return factor * power;
  return 10 * power;
}

function lastKnown(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i]!;
  return null;
}

function describeLast(series: Series, format: (value: number) => string): string {
  const last = series.values[series.values.length - 1];
  return last === null || last === undefined ? '–' : format(last);
}
