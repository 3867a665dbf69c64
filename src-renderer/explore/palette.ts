import type { CatalogueMapData } from '../../src-main/contract';

export type ColourBy = 'subcollection' | 'object';

/** Distinct on both themes (Tableau 10); beyond it colours go round the hue circle by the golden angle. */
const CATEGORICAL: [number, number, number][] = [
  [78, 121, 167], [242, 142, 43], [225, 87, 89], [118, 183, 178], [89, 161, 79],
  [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [186, 176, 172],
];
const NONE: [number, number, number] = [140, 146, 156];

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  return [0, 8, 4].map((n) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))))) as [number, number, number];
}

export function categoryColour(i: number): [number, number, number] {
  return i < CATEGORICAL.length ? CATEGORICAL[i] : hslToRgb((i * 137.508) % 360, 0.62, 0.55);
}

/** The category of each point: its sub-collection, or its object. */
function categoryOf(map: CatalogueMapData, by: ColourBy, point: number): number {
  const object = map.objectOf[point];
  return by === 'object' ? object : map.objects[object].subcollection;
}

function colourOfCategory(map: CatalogueMapData, by: ColourBy, category: number): [number, number, number] {
  return by === 'subcollection' && map.subcollections[category] === null ? NONE : categoryColour(category);
}

/** RGBA bytes per point. */
export function pointColours(map: CatalogueMapData, by: ColourBy): Uint8Array {
  const n = map.photoIds.length;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) out.set([...colourOfCategory(map, by, categoryOf(map, by, i)), 255], i * 4);
  return out;
}

export interface LegendEntry {
  label: string;
  colour: string;
  photos: number;
}

/** The largest categories first; `more` counts those left out. */
export function legendOf(map: CatalogueMapData, by: ColourBy, max = 12): { entries: LegendEntry[]; more: number } {
  const photos = new Map<number, number>();
  for (let i = 0; i < map.photoIds.length; i++) {
    const c = categoryOf(map, by, i);
    photos.set(c, (photos.get(c) ?? 0) + 1);
  }
  const label = (c: number) => (by === 'object' ? map.objects[c].instanceId : map.subcollections[c] ?? 'No sub-collection');
  const sorted = [...photos.entries()].sort((a, b) => b[1] - a[1] || label(a[0]).localeCompare(label(b[0])));
  const entries = sorted.slice(0, max).map(([c, count]) => ({ label: label(c), colour: `rgb(${colourOfCategory(map, by, c).join(' ')})`, photos: count }));
  return { entries, more: Math.max(0, sorted.length - max) };
}
