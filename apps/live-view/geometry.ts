/**
 * Where the live view's charts put their points, in the SVG's own units. No DOM: tested directly.
 */
export const WIDTH = 240;
export const HEIGHT = 64;
const PAD_TOP = 4;
/** Room for the dot on the newest point. */
const PAD_RIGHT = 3;

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
export function pointAt(
  i: number,
  value: number,
  count: number,
  points: number,
  top: number,
): [number, number] {
  const x = (points - count + i) * ((WIDTH - PAD_RIGHT) / (points - 1));
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
