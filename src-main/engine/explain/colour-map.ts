/**
 * The colours of evidence maps, plain code with no Node modules: the engine's PNG export and
 * the window's on-screen overlay draw with the same colour map, so what is saved is what was seen.
 */
/**
 * Turbo colour map (Mikhailov 2019, polynomial approximation): dark blue for low, through
 * green and yellow, to dark red for high; readable on photos and in greyscale print.
 */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  return [r, g, b].map((v) => Math.round(255 * Math.min(1, Math.max(0, v)))) as [number, number, number];
}

/** The map scaled to 0..1 over its own range (a flat map stays at 0). */
export function normaliseMap(map: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return map.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}
