import { normaliseMap, turbo } from '../../src-main/engine/explain/colour-map';

/** An evidence map on its grid, row-major. */
export interface EvidenceGrid {
  map: ArrayLike<number>;
  columns: number;
  rows: number;
}

/** Screen pixels per map cell: enough for a smooth ramp, which the browser then stretches over the photo. */
const CELL_PIXELS = 12;
const PALETTE = Array.from({ length: 256 }, (_, i) => turbo(i / 255));

/** One axis of a bilinear upsampling with values at the cell centres: the two cells and the weight of the second. */
function between(pixel: number, cells: number, cell: number): [number, number, number] {
  const at = Math.min(cells - 1, Math.max(0, (pixel + 0.5) / cell - 0.5));
  const first = Math.floor(at);
  return [first, Math.min(first + 1, cells - 1), at - first];
}

/** The map upsampled and coloured as the PNG export colours it (turbo over the map's own range): RGBA for an ImageData. */
export function evidencePixels({ map, columns, rows }: EvidenceGrid, cell = CELL_PIXELS): { width: number; height: number; data: Uint8ClampedArray } {
  const levels = normaliseMap(Float32Array.from(map));
  const [width, height] = [columns * cell, rows * cell];
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = between(y, rows, cell);
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = between(x, columns, cell);
      const top = levels[y0 * columns + x0] * (1 - fx) + levels[y0 * columns + x1] * fx;
      const bottom = levels[y1 * columns + x0] * (1 - fx) + levels[y1 * columns + x1] * fx;
      data.set([...PALETTE[Math.round(255 * (top * (1 - fy) + bottom * fy))], 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** Where no evidence either way falls on the colour scale (0 to 1), or null when the whole map is on one side of it. */
export function zeroOnScale(map: ArrayLike<number>): number | null {
  const values = Array.from(map);
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  return lo < 0 && hi > 0 ? -lo / (hi - lo) : null;
}

/** The colour scale as a CSS gradient, for the legend. */
export function turboGradient(stops = 11): string {
  return `linear-gradient(to right, ${Array.from({ length: stops }, (_, i) => `rgb(${turbo(i / (stops - 1)).join(' ')})`).join(', ')})`;
}
