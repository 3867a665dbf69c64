/**
 * Int8 copy of the index rows, used only to shortlist candidates that are then
 * rescored in float32, so quantisation error costs recall, never score accuracy.
 *
 * Each dimension gets its own scale (CLIP_SIGMAS standard deviations map to ±127)
 * because descriptor dimensions differ in spread; a single global scale would spend
 * most codes on a few wide dimensions. The query is divided by the same scales, so
 * the integer dot product stays proportional to the float one.
 */
const CLIP_SIGMAS = 5;

export class Int8Rows {
  codes: Int8Array;
  private scale: Float32Array;
  /** Rows the scales were fitted on; refitting when the index doubles keeps them current at amortised O(1). */
  private fittedOn = 0;

  constructor(readonly dims: number, capacity: number) {
    this.codes = new Int8Array(capacity * dims);
    this.scale = new Float32Array(dims);
  }

  needsRefit(rows: number): boolean {
    return rows > 2 * this.fittedOn;
  }

  /** Fits the per-dimension scales on rows [0, count) and re-encodes them all. */
  fit(data: Float32Array, count: number): void {
    const { dims } = this;
    const sumSq = new Float64Array(dims);
    for (let off = 0; off < count * dims; off += dims) {
      for (let j = 0; j < dims; j++) sumSq[j]! += data[off + j]! * data[off + j]!;
    }
    for (let j = 0; j < dims; j++) {
      const rms = Math.sqrt(sumSq[j]! / Math.max(count, 1));
      this.scale[j] = rms > 0 ? 127 / (CLIP_SIGMAS * rms) : 1;
    }
    this.fittedOn = count;
    this.encode(data, 0, count);
  }

  encode(data: Float32Array, fromRow: number, toRow: number): void {
    const { dims, codes, scale } = this;
    if (codes.length < toRow * dims) this.grow(toRow);
    for (let off = fromRow * dims; off < toRow * dims; off += dims) {
      for (let j = 0; j < dims; j++) codes[off + j] = clampToInt8(data[off + j]! * scale[j]!);
    }
  }

  moveRow(from: number, to: number): void {
    const { dims } = this;
    this.codes.copyWithin(to * dims, from * dims, (from + 1) * dims);
  }

  /** Queries are scaled by 1/scale (so code·query ∝ float dot) and then stretched to fill ±127. */
  encodeQueries(queries: Float32Array): Int8Array {
    const { dims, scale } = this;
    const out = new Int8Array(queries.length);
    const warped = new Float32Array(dims);
    for (let off = 0; off < queries.length; off += dims) {
      let max = 0;
      for (let j = 0; j < dims; j++) {
        warped[j] = queries[off + j]! / scale[j]!;
        max = Math.max(max, Math.abs(warped[j]!));
      }
      const stretch = max > 0 ? 127 / max : 0;
      for (let j = 0; j < dims; j++) out[off + j] = clampToInt8(warped[j]! * stretch);
    }
    return out;
  }

  private grow(rows: number): void {
    const bigger = new Int8Array(Math.max(rows, 2 * this.codes.length / this.dims) * this.dims);
    bigger.set(this.codes);
    this.codes = bigger;
  }
}

function clampToInt8(x: number): number {
  const r = Math.round(x);
  return r > 127 ? 127 : r < -127 ? -127 : r;
}
