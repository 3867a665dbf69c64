/**
 * Where in a photo is the evidence for a match? A descriptor pools the model's feature map
 * over its cells; taking one cell out of the pooling and measuring how much the (centred)
 * cosine with the matched descriptor falls gives that cell's evidence, exactly, from one
 * forward pass. Positive cells support the match, negative ones argue against it.
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
  const nb = Math.hypot(...b) || 1;
  return centredScore(Float64Array.from(a), mean, Float64Array.from(b, (v, c) => v / nb - (mean?.[c] ?? 0)));
}

/** Cosine of (v / |v| - mean) with the fixed, centred target. */
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
 * Per-cell evidence (row-major, height x width): the similarity of the pooled descriptor to
 * `target` minus the similarity once that cell is left out of the pooling.
 */
export function evidenceMap(featuremap: Float32Array, { channels, height, width }: FeatureMapShape, target: Float32Array, options: EvidenceOptions = {}): Float32Array {
  const p = options.p ?? 1;
  const cells = height * width;
  const sums = new Float64Array(channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < cells; i++) sums[c] += Math.max(featuremap[c * cells + i], EPS) ** p;
  const targetNorm = Math.hypot(...target) || 1;
  const centredTarget = Float64Array.from(target, (t, c) => t / targetNorm - (options.mean?.[c] ?? 0));
  const pooled = (leaveOut: number) => Float64Array.from(sums, (s, c) => {
    const rest = leaveOut < 0 ? s : s - Math.max(featuremap[c * cells + leaveOut], EPS) ** p;
    return (Math.max(rest, 0) / (leaveOut < 0 ? cells : cells - 1)) ** (1 / p);
  });
  const base = centredScore(pooled(-1), options.mean, centredTarget);
  return Float32Array.from({ length: cells }, (_, i) => base - centredScore(pooled(i), options.mean, centredTarget));
}

/** A mask (1 = selected) of the `fraction` of cells with the highest values: what a deletion test removes. */
export function topCells(map: Float32Array, fraction: number): Uint8Array {
  const order = Array.from(map.keys()).sort((a, b) => map[b] - map[a]);
  const cells = new Uint8Array(map.length);
  for (const i of order.slice(0, Math.round(fraction * map.length))) cells[i] = 1;
  return cells;
}
