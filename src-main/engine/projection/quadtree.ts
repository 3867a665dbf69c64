/** Cells narrower than this hold their points together (duplicates would otherwise split forever). */
const MIN_HALF_WIDTH = 1e-9;
const NO_CHILD = -1;

/**
 * A quadtree over 2-D points in flat typed arrays, rebuilt each t-SNE iteration. Every cell
 * keeps its point count and centre of mass, so a far cell's pull stands in for its points.
 */
export class QuadTree {
  private size = 0;
  private centreX: Float64Array;
  private centreY: Float64Array;
  private halfWidth: Float64Array;
  private sumX: Float64Array;
  private sumY: Float64Array;
  private count: Int32Array;
  /** First of four consecutive children, or NO_CHILD for a leaf. */
  private firstChild: Int32Array;
  /** The point a leaf holds (the first one, when duplicates share it). */
  private point: Int32Array;
  private readonly stack: Int32Array;

  constructor(private readonly y: Float64Array, n: number) {
    const capacity = 4 * n + 1;
    this.centreX = new Float64Array(capacity);
    this.centreY = new Float64Array(capacity);
    this.halfWidth = new Float64Array(capacity);
    this.sumX = new Float64Array(capacity);
    this.sumY = new Float64Array(capacity);
    this.count = new Int32Array(capacity);
    this.firstChild = new Int32Array(capacity);
    this.point = new Int32Array(capacity);
    this.stack = new Int32Array(capacity);
    this.addRoot(n);
    for (let i = 0; i < n; i++) this.insert(i);
  }

  private addRoot(n: number): void {
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, this.y[2 * i]!);
      maxX = Math.max(maxX, this.y[2 * i]!);
      minY = Math.min(minY, this.y[2 * i + 1]!);
      maxY = Math.max(maxY, this.y[2 * i + 1]!);
    }
    const half = Math.max(maxX - minX, maxY - minY) / 2 + 1e-6;
    this.addCell((minX + maxX) / 2, (minY + maxY) / 2, half);
  }

  private addCell(x: number, y: number, half: number): number {
    if (this.size === this.count.length) this.grow();
    const c = this.size++;
    this.centreX[c] = x;
    this.centreY[c] = y;
    this.halfWidth[c] = half;
    this.sumX[c] = 0;
    this.sumY[c] = 0;
    this.count[c] = 0;
    this.firstChild[c] = NO_CHILD;
    this.point[c] = -1;
    return c;
  }

  /** Clustered points can need deeper trees than 4n cells; double the arrays then. */
  private grow(): void {
    const bigger = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (length: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.centreX = bigger(this.centreX);
    this.centreY = bigger(this.centreY);
    this.halfWidth = bigger(this.halfWidth);
    this.sumX = bigger(this.sumX);
    this.sumY = bigger(this.sumY);
    this.count = bigger(this.count);
    this.firstChild = bigger(this.firstChild);
    this.point = bigger(this.point);
  }

  private insert(i: number): void {
    const px = this.y[2 * i]!;
    const py = this.y[2 * i + 1]!;
    let cell = 0;
    for (;;) {
      this.count[cell]!++;
      this.sumX[cell]! += px;
      this.sumY[cell]! += py;
      if (this.firstChild[cell] === NO_CHILD) {
        if (this.count[cell] === 1) {
          this.point[cell] = i;
          return;
        }
        if (this.halfWidth[cell]! < MIN_HALF_WIDTH) return;
        this.split(cell);
      }
      cell = this.childFor(cell, px, py);
    }
  }

  /** Gives a leaf four children and moves its one point down into the right one. */
  private split(cell: number): void {
    const half = this.halfWidth[cell]! / 2;
    const [x, y] = [this.centreX[cell]!, this.centreY[cell]!];
    const first = this.addCell(x - half, y - half, half);
    this.addCell(x + half, y - half, half);
    this.addCell(x - half, y + half, half);
    this.addCell(x + half, y + half, half);
    this.firstChild[cell] = first;
    const moved = this.point[cell]!;
    this.point[cell] = -1;
    const child = this.childFor(cell, this.y[2 * moved]!, this.y[2 * moved + 1]!);
    this.count[child] = 1;
    this.sumX[child] = this.y[2 * moved]!;
    this.sumY[child] = this.y[2 * moved + 1]!;
    this.point[child] = moved;
  }

  private childFor(cell: number, px: number, py: number): number {
    return this.firstChild[cell]! + (px > this.centreX[cell]! ? 1 : 0) + (py > this.centreY[cell]! ? 2 : 0);
  }

  /**
   * Sum over other points j of q_ij² (y_i − y_j) into `force`, with q_ij = 1 / (1 + |y_i − y_j|²);
   * returns the sum of q_ij, the part of t-SNE's normaliser Z that point i contributes.
   */
  repulsion(i: number, theta: number, force: Float64Array): number {
    const px = this.y[2 * i]!;
    const py = this.y[2 * i + 1]!;
    const theta2 = theta * theta;
    let [fx, fy, sumQ] = [0, 0, 0];
    let top = 0;
    this.stack[top++] = 0;
    while (top > 0) {
      const cell = this.stack[--top]!;
      let count = this.count[cell]!;
      if (count === 0) continue;
      const dx = px - this.sumX[cell]! / count;
      const dy = py - this.sumY[cell]! / count;
      const d2 = dx * dx + dy * dy;
      const leaf = this.firstChild[cell] === NO_CHILD;
      const width = 2 * this.halfWidth[cell]!;
      if (!leaf && width * width >= theta2 * d2) {
        const first = this.firstChild[cell]!;
        for (let c = 0; c < 4; c++) this.stack[top++] = first + c;
        continue;
      }
      // The leaf that holds i sits at distance 0 (with any duplicates of i): leave i itself out.
      if (leaf && d2 === 0) count -= 1;
      const q = 1 / (1 + d2);
      sumQ += count * q;
      const push = count * q * q;
      fx += push * dx;
      fy += push * dy;
    }
    force[0] = fx;
    force[1] = fy;
    return sumQ;
  }
}
