import type { StepResult } from './view.js';

/**
 * A small self-contained SVG of a load test: output throughput (bars, left axis) and p99 time to
 * first token (line, right axis) per step, the steps evenly spaced (sweep levels grow ×4).
 */

const WIDTH = 560;
const HEIGHT = 300;
const PAD = { left: 64, right: 64, top: 36, bottom: 52 };
const BAR = '#4C78A8';
const LINE = '#E45756';

export function renderChart(steps: readonly StepResult[], title: string): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const tokMax = niceMax(Math.max(0, ...steps.map((s) => s.output_tokens_per_s)));
  const ttftMax = niceMax(Math.max(0, ...steps.map((s) => s.ttft_s.p99 ?? 0)));
  const slot = plotW / Math.max(1, steps.length);
  const x = (i: number) => PAD.left + slot * (i + 0.5);
  const yTok = (v: number) => PAD.top + plotH - (v / tokMax) * plotH;
  const yTtft = (v: number) => PAD.top + plotH - (v / ttftMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(`${title}: output tokens/s and p99 time to first token per step`)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const y = PAD.top + (plotH * k) / 4;
    parts.push(
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" fill="${BAR}">${label(tokMax * (1 - k / 4))}</text>`,
      `<text x="${WIDTH - PAD.right + 6}" y="${y + 4}" fill="${LINE}">${label(ttftMax * (1 - k / 4))}</text>`,
    );
  }
  steps.forEach((step, i) => {
    const top = yTok(step.output_tokens_per_s);
    parts.push(
      `<rect x="${x(i) - slot * 0.3}" y="${top}" width="${slot * 0.6}" height="${PAD.top + plotH - top}" fill="${BAR}" opacity="0.85"/>`,
      `<text x="${x(i)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${step.concurrency ?? `${step.rate}/s`}</text>`,
    );
  });
  const points = steps.flatMap((s, i) => (s.ttft_s.p99 === null ? [] : [`${x(i)},${yTtft(s.ttft_s.p99)}`]));
  if (points.length > 0) {
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${LINE}" stroke-width="2"/>`);
    for (const point of points) {
      const [cx, cy] = point.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${LINE}"/>`);
    }
  }
  const isRate = steps.length > 0 && steps.every((s) => s.concurrency === null);
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${isRate ? 'offered load (requests/s)' : 'concurrent streams'}</text>`,
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${BAR}">output tokens/s</text>`,
    `<text transform="translate(${WIDTH - 14} ${PAD.top + plotH / 2}) rotate(90)" text-anchor="middle" fill="${LINE}">p99 TTFT (s)</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= value)!;
  return step * magnitude;
}

function label(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 100) / 100);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
