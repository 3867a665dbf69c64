/**
 * Bounded min-heap keeping the k largest scores seen so far. The root is the weakest
 * kept score, so a candidate that cannot beat it is rejected in O(1): scanning n
 * scores costs O(n log k) instead of the O(n log n) of a full sort.
 */
export class TopK {
  readonly scores: Float32Array;
  readonly rows: Int32Array;
  private count = 0;

  constructor(readonly k: number) {
    this.scores = new Float32Array(k);
    this.rows = new Int32Array(k);
  }

  get size(): number {
    return this.count;
  }

  /** Score a candidate must exceed to enter (−Infinity until the heap is full). */
  get floor(): number {
    return this.count < this.k ? -Infinity : this.scores[0]!;
  }

  push(row: number, score: number): void {
    if (this.count < this.k) {
      this.siftUp(this.count++, row, score);
    } else if (score > this.scores[0]!) {
      this.siftDown(row, score);
    }
  }

  /** Entries best first; ties go to the lower row so results are deterministic. */
  sorted(): Array<{ row: number; score: number }> {
    const out: Array<{ row: number; score: number }> = [];
    for (let i = 0; i < this.count; i++) out.push({ row: this.rows[i]!, score: this.scores[i]! });
    return out.sort((a, b) => b.score - a.score || a.row - b.row);
  }

  private siftUp(at: number, row: number, score: number): void {
    const { scores, rows } = this;
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (scores[parent]! <= score) break;
      scores[i] = scores[parent]!;
      rows[i] = rows[parent]!;
      i = parent;
    }
    scores[i] = score;
    rows[i] = row;
  }

  /** Replace the root and push the newcomer down to its place. */
  private siftDown(row: number, score: number): void {
    const { scores, rows, count } = this;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= count) break;
      const right = left + 1;
      const child = right < count && scores[right]! < scores[left]! ? right : left;
      if (scores[child]! >= score) break;
      scores[i] = scores[child]!;
      rows[i] = rows[child]!;
      i = child;
    }
    scores[i] = score;
    rows[i] = row;
  }
}
