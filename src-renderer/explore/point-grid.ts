/** Data-space box of a set of points. */
export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function boundsOf(points: Float32Array): Bounds {
  const b = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (let i = 0; i < points.length; i += 2) {
    b.minX = Math.min(b.minX, points[i]);
    b.maxX = Math.max(b.maxX, points[i]);
    b.minY = Math.min(b.minY, points[i + 1]);
    b.maxY = Math.max(b.maxY, points[i + 1]);
  }
  return b;
}

/** Whether (x, y) lies inside the polygon (flat x, y pairs), by ray casting. */
export function insidePolygon(x: number, y: number, polygon: number[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 2; i < polygon.length; j = i, i += 2) {
    const [xi, yi, xj, yj] = [polygon[i], polygon[i + 1], polygon[j], polygon[j + 1]];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** About this many points per cell: a hover looks at a handful of cells, not at every point. */
const POINTS_PER_CELL = 4;

/**
 * A uniform grid over 2-D points, each cell's points stored together (compressed rows): the
 * point under the pointer and the points in a lasso are found by visiting nearby cells only.
 */
export class PointGrid {
  readonly bounds: Bounds;
  private readonly side: number;
  private readonly start: Int32Array;
  private readonly members: Int32Array;

  constructor(private readonly points: Float32Array) {
    const n = points.length / 2;
    this.bounds = boundsOf(points);
    this.side = Math.max(1, Math.ceil(Math.sqrt(n / POINTS_PER_CELL)));
    const cells = Int32Array.from({ length: n }, (_, i) => this.cellIndex(points[2 * i], points[2 * i + 1]));
    this.start = new Int32Array(this.side * this.side + 1);
    for (const c of cells) this.start[c + 1]++;
    for (let c = 0; c < this.side * this.side; c++) this.start[c + 1] += this.start[c];
    const filled = this.start.slice(0, -1);
    this.members = new Int32Array(n);
    cells.forEach((c, i) => { this.members[filled[c]++] = i; });
  }

  /** The nearest point within `radius` of (x, y), or -1. */
  nearest(x: number, y: number, radius: number): number {
    let [best, bestDistance] = [-1, radius * radius];
    this.visit(x - radius, y - radius, x + radius, y + radius, (i) => {
      const d = (this.points[2 * i] - x) ** 2 + (this.points[2 * i + 1] - y) ** 2;
      if (d <= bestDistance) [best, bestDistance] = [i, d];
    });
    return best;
  }

  /** The points inside a polygon (flat x, y pairs, in data units). */
  inside(polygon: number[]): number[] {
    const box = boundsOf(Float32Array.from(polygon));
    const found: number[] = [];
    this.visit(box.minX, box.minY, box.maxX, box.maxY, (i) => {
      if (insidePolygon(this.points[2 * i], this.points[2 * i + 1], polygon)) found.push(i);
    });
    return found;
  }

  private axis(v: number, lo: number, hi: number): number {
    return Math.min(this.side - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo || 1)) * this.side)));
  }

  private cellIndex(x: number, y: number): number {
    const { minX, minY, maxX, maxY } = this.bounds;
    return this.axis(y, minY, maxY) * this.side + this.axis(x, minX, maxX);
  }

  private visit(x0: number, y0: number, x1: number, y1: number, each: (i: number) => void): void {
    const { minX, minY, maxX, maxY } = this.bounds;
    if (x1 < minX || x0 > maxX || y1 < minY || y0 > maxY) return;
    for (let cy = this.axis(y0, minY, maxY); cy <= this.axis(y1, minY, maxY); cy++) {
      for (let cx = this.axis(x0, minX, maxX); cx <= this.axis(x1, minX, maxX); cx++) {
        const c = cy * this.side + cx;
        for (let k = this.start[c]; k < this.start[c + 1]; k++) each(this.members[k]);
      }
    }
  }
}
