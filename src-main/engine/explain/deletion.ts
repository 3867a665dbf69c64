/**
 * Deletion and insertion tests of a saliency map (Petsiuk et al., RISE, 2018): rank the
 * model input's pixels by the map, then erase the most salient first (deletion: the match
 * score should fall fast) or restore them first onto a fully erased photo (insertion: it
 * should rise fast). Erasing is the engine's EraseGrid at pixel resolution, as occlusion erases:
 * a blur with the erased pixels imputed from their neighbours, so that erasing scattered
 * pixels removes their detail without adding speckle (ROAD, Rong et al. 2022).
 */

/**
 * The pixels of a width x height image (row-major indices), most salient first: the
 * columns x rows map is interpolated bilinearly between cell centres (constant past the
 * outer ones), so cells split smoothly rather than in blocks. Ties keep pixel order.
 */
export function pixelOrder(map: ArrayLike<number>, columns: number, rows: number, width: number, height: number): Uint32Array {
  if (map.length !== columns * rows) throw new Error(`a ${columns} x ${rows} map needs ${columns * rows} values, not ${map.length}`);
  const xs = axis(columns, width);
  const ys = axis(rows, height);
  const value = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const [r0, r1, ty] = ys[y];
    for (let x = 0; x < width; x++) {
      const [c0, c1, tx] = xs[x];
      const top = map[r0 * columns + c0] * (1 - tx) + map[r0 * columns + c1] * tx;
      const bottom = map[r1 * columns + c0] * (1 - tx) + map[r1 * columns + c1] * tx;
      value[y * width + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return Uint32Array.from(value.keys()).sort((a, b) => value[b] - value[a] || a - b);
}

/** For each pixel along one side: the two cells around its centre and the weight of the second. */
function axis(cells: number, pixels: number): [number, number, number][] {
  return Array.from({ length: pixels }, (_, p) => {
    const g = Math.min(cells - 1, Math.max(0, ((p + 0.5) * cells) / pixels - 0.5));
    const lo = Math.floor(g);
    return [lo, Math.min(cells - 1, lo + 1), g - lo];
  });
}

/**
 * An erase mask (1 = erase) for a pixel order at `fraction`: deletion erases the most salient
 * `fraction` of the pixels; insertion shows them and erases all the rest.
 */
export function saliencyMask(order: Uint32Array, fraction: number, mode: 'deletion' | 'insertion'): Uint8Array {
  const count = Math.round(Math.min(1, Math.max(0, fraction)) * order.length);
  const mask = new Uint8Array(order.length).fill(mode === 'deletion' ? 0 : 1);
  for (let k = 0; k < count; k++) mask[order[k]] = mode === 'deletion' ? 1 : 0;
  return mask;
}

/** Area under a curve sampled at increasing fractions in [0, 1] (trapezoids): its mean height. */
export function curveArea(fractions: readonly number[], values: readonly number[]): number {
  if (fractions.length !== values.length) throw new Error('a curve needs one value per fraction');
  let area = 0;
  for (let i = 1; i < fractions.length; i++) area += ((values[i] + values[i - 1]) / 2) * (fractions[i] - fractions[i - 1]);
  return area;
}
