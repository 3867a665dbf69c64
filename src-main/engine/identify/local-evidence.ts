import type { Catalogue } from '../catalogue/catalogue';
import { CellSpace, dequantiseCells, quantiseCells } from './cell-matching';
import type { Describer } from './describe';

/** Catalogue pictures whose cells are described to learn the cell space; the rest are only projected. */
const FIT_PHOTOS = 120;
/**
 * Past this many photos, local evidence is not prepared: describing every picture's cells again
 * takes about a quarter of a second each on two cores, and keeping them 37 KB each.
 */
export const MAX_CELL_PHOTOS = 3000;

/** The catalogue's photos' projected cells, by photo id, and the space they are in. */
export interface CatalogueCells {
  space: CellSpace;
  byPhoto: Map<number, Float32Array>;
}

interface Stored {
  photoIds: number[];
  cellsPerPhoto: number;
  spaceBytes: number;
}

/** An even spread of `count` items. */
const spread = <T>(items: readonly T[], count: number): T[] =>
  items.length <= count ? [...items] : Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);

async function rawCells(catalogue: Catalogue, describer: Describer, photoIds: readonly number[]): Promise<Map<number, Float32Array>> {
  const paths = photoIds.map((id) => ({ id, path: catalogue.getPhoto(id)!.path }));
  const out = new Map<number, Float32Array>();
  let i = 0;
  const part = describer.recipe.parts.find((p) => p.model === describer.cellModel)!;
  for await (const batch of describer.describePart(part, paths.map((p) => ({ path: p.path })), { batchSize: 4, cells: true })) {
    // A picture that cannot be read now simply brings no local evidence.
    for (const d of batch) {
      const id = paths[i++]!.id;
      if ('cells' in d && d.cells) out.set(id, d.cells);
    }
  }
  return out;
}

/**
 * The catalogue pictures' cells in a space learned from them: kept in the catalogue under
 * `cells:<key>` until photos change. Undefined for catalogues past MAX_CELL_PHOTOS.
 */
export async function catalogueCells(catalogue: Catalogue, describer: Describer, key: string, photoIds: readonly number[]): Promise<CatalogueCells | undefined> {
  if (photoIds.length > MAX_CELL_PHOTOS) return undefined;
  const name = `cells:${key}`;
  const stored = catalogue.getArtifact(name);
  if (stored?.blob && !stored.stale) return load(stored.json as Stored, stored.blob);
  const sample = spread(photoIds, FIT_PHOTOS);
  const fitting = await rawCells(catalogue, describer, sample);
  if (fitting.size === 0) return undefined;
  const pictures = [...fitting.values()];
  const all = new Float32Array(pictures.length * pictures[0]!.length);
  pictures.forEach((c, i) => all.set(c, i * c.length));
  const space = await CellSpace.fit(all, describer.pool(describer.cellModel).card.outputs.featuremap.shape[1]!);
  const byPhoto = new Map<number, Float32Array>();
  for (const [id, cells] of fitting) byPhoto.set(id, await space.project(cells, space.catalogueMean));
  const rest = photoIds.filter((id) => !fitting.has(id));
  for (let start = 0; start < rest.length; start += 32) {
    const raw = await rawCells(catalogue, describer, rest.slice(start, start + 32));
    for (const [id, cells] of raw) byPhoto.set(id, await space.project(cells, space.catalogueMean));
  }
  save(catalogue, name, space, byPhoto);
  return { space, byPhoto };
}

function save(catalogue: Catalogue, name: string, space: CellSpace, byPhoto: Map<number, Float32Array>): void {
  const ids = [...byPhoto.keys()];
  const cellsPerPhoto = ids.length ? byPhoto.get(ids[0]!)!.length / space.dims : 0;
  const flat = new Float32Array(ids.length * cellsPerPhoto * space.dims);
  ids.forEach((id, i) => flat.set(byPhoto.get(id)!, i * cellsPerPhoto * space.dims));
  const { codes, scales } = quantiseCells(flat, space.dims);
  const spaceBytes = space.serialise();
  const json: Stored = { photoIds: ids, cellsPerPhoto, spaceBytes: spaceBytes.byteLength };
  catalogue.putArtifact(name, { json, blob: Buffer.concat([spaceBytes, Buffer.from(scales.buffer), Buffer.from(codes.buffer)]) });
}

function load({ photoIds, cellsPerPhoto, spaceBytes }: Stored, blob: Buffer): CatalogueCells {
  const bytes = Uint8Array.from(blob);
  const space = CellSpace.deserialise(bytes.subarray(0, spaceBytes));
  const cells = photoIds.length * cellsPerPhoto;
  const scales = new Float32Array(bytes.buffer, spaceBytes, cells);
  const codes = new Int8Array(bytes.buffer, spaceBytes + cells * 4, cells * space.dims);
  const flat = dequantiseCells(codes, scales, space.dims);
  const width = cellsPerPhoto * space.dims;
  return { space, byPhoto: new Map(photoIds.map((id, i) => [id, flat.subarray(i * width, (i + 1) * width)])) };
}
