import type { CatalogueMapData } from '../../src-main/contract';

export interface SelectedObject {
  id: number;
  instanceId: string;
  title: string | null;
  subcollection: string | null;
  /** How many of its photos were selected. */
  photos: number;
}

/** The objects of the selected points, most photos first. */
export function selectedObjects(map: CatalogueMapData, points: number[]): SelectedObject[] {
  const photos = new Map<number, number>();
  for (const p of points) photos.set(map.objectOf[p], (photos.get(map.objectOf[p]) ?? 0) + 1);
  return [...photos.entries()]
    .map(([o, count]) => ({ ...map.objects[o], subcollection: map.subcollections[map.objects[o].subcollection], photos: count }))
    .sort((a, b) => b.photos - a.photos || a.instanceId.localeCompare(b.instanceId));
}

const cell = (v: string | number | null) => {
  const text = String(v ?? '');
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** The selection as a CSV a spreadsheet or a collection system opens: one row per object. */
export function selectionCsv(objects: SelectedObject[]): Uint8Array {
  const rows = [['accession_number', 'title', 'sub_collection', 'photos_selected'], ...objects.map((o) => [o.instanceId, o.title, o.subcollection, o.photos])];
  return new TextEncoder().encode(`${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`);
}
