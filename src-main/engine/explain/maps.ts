/**
 * Where in a photo is the evidence for a match? A descriptor pools the model's feature map
 * over its cells; each cell's share of the pooled sum, applied to the (centred) cosine with the
 * matched descriptor, gives that cell's evidence from one forward pass. Positive cells support
 * the match, negative ones argue against it, empty ones carry nothing.
 */
export interface FeatureMapShape {
  channels: number;
  height: number;
  width: number;
}

const EPS = 1e-6;

/** Pools a feature map the way the descriptor does (p = 1: mean; p = 3: GeM). */
export function poolFeaturemap(featuremap: Float32Array, { channels, height, width }: FeatureMapShape, p = 1): Float32Array {
  const cells = height * width;
  const out = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let i = 0; i < cells; i++) s += Math.max(featuremap[c * cells + i], EPS) ** p;
    out[c] = (s / cells) ** (1 / p);
  }
  return out;
}

/** Cosine of a / |a| - mean with b / |b| - mean: similarity as the catalogue's centring sees it. */
export function centredCosine(a: Float32Array, b: Float32Array, mean?: Float32Array): number {
  return centredScore(Float64Array.from(a), mean, centredUnit(b, mean));
}

/** b / |b| - mean, scaled to unit length. */
function centredUnit(b: Float32Array, mean?: Float32Array): Float64Array {
  const nb = Math.hypot(...b) || 1;
  const centred = Float64Array.from(b, (v, c) => v / nb - (mean?.[c] ?? 0));
  const length = Math.hypot(...centred) || 1;
  return centred.map((v) => v / length);
}

/** Cosine of (v / |v| - mean) with the fixed, centred unit target. */
function centredScore(v: Float64Array, mean: Float32Array | undefined, target: Float64Array): number {
  const norm = Math.hypot(...v) || 1;
  let dot = 0;
  let length = 0;
  for (let c = 0; c < v.length; c++) {
    const x = v[c] / norm - (mean?.[c] ?? 0);
    dot += x * target[c];
    length += x * x;
  }
  return dot / (Math.sqrt(length) || 1);
}

export interface EvidenceOptions {
  /** Pooling exponent of the descriptor (1: mean, 3: GeM). */
  p?: number;
  /** The catalogue's mean descriptor: similarity is measured after centring on it. */
  mean?: Float32Array;
}

/**
 * Per-cell evidence (row-major, height x width): each channel of the pooled descriptor v is
 * split among the cells by their share of its pooled sum (a^p / sum a^p, so GeM's strongest
 * cells own most of it), and cell i gets its part of v/|v| . t / |x|, with t the unit vector along target/|target| - mean
 * and x = v/|v| - mean (as centredCosine): the cells sum to centredCosine plus mean . t / |x|,
 * the part the centring takes away, which belongs to no cell.
 *
 * Shares, not the fall when a cell is left out: leaving out a cell that looks like the pooled
 * descriptor barely moves a cosine, and that is most of an object that matches all over, so the
 * marginal measure ranked border and background cells first (bench:explain).
 */
export function evidenceMap(featuremap: Float32Array, { channels, height, width }: FeatureMapShape, target: Float32Array, options: EvidenceOptions = {}): Float32Array {
  const p = options.p ?? 1;
  const cells = height * width;
  const sums = new Float64Array(channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < cells; i++) sums[c] += Math.max(featuremap[c * cells + i], EPS) ** p;
  const pooled = Float64Array.from(sums, (s) => (s / cells) ** (1 / p));
  const norm = Math.hypot(...pooled) || 1;
  const centredTarget = centredUnit(target, options.mean);
  let xLength = 0;
  for (let c = 0; c < channels; c++) xLength += (pooled[c] / norm - (options.mean?.[c] ?? 0)) ** 2;
  const scale = 1 / (Math.sqrt(xLength) || 1); // As centredCosine scales.
  // What a unit of channel c's pooled sum is worth to the score.
  const worth = Float64Array.from(pooled, (v, c) => (sums[c] > 0 ? (v / norm) * centredTarget[c] * scale / sums[c] : 0));
  const map = new Float32Array(cells);
  for (let c = 0; c < channels; c++) for (let i = 0; i < cells; i++) map[i] += worth[c] * Math.max(featuremap[c * cells + i], EPS) ** p;
  return map;
}

/** A mask (1 = selected) of the `fraction` of cells with the highest values: what a deletion test removes. */
export function topCells(map: Float32Array, fraction: number): Uint8Array {
  const order = Array.from(map.keys()).sort((a, b) => map[b] - map[a]);
  const cells = new Uint8Array(map.length);
  for (const i of order.slice(0, Math.round(fraction * map.length))) cells[i] = 1;
  return cells;
}
