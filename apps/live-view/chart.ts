/**
 * A small SVG line chart: one panel, one or two series over the last refreshes, the current value
 * in the title. Gaps where a figure was unknown. The data-* attributes let a test read what is drawn.
 */
import { HEIGHT, niceCeiling, pathOf, pointAt, WIDTH } from './geometry.js';

const SVG = 'http://www.w3.org/2000/svg';

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

function lastKnown(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i]!;
  return null;
}

function describeLast(series: Series, format: (value: number) => string): string {
  const last = series.values[series.values.length - 1];
  return last === null || last === undefined ? '–' : format(last);
}
