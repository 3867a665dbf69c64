import { Catalogue } from '../catalogue/catalogue';
import { packCells, unpackCellRows } from '../identify/cell-matching';
import { Describer, cellModelOf, queryCentre } from '../identify/describe';
import { FieldCellSampler, cutOutsAndCentres, heldPictureCells, pictureCells, type FieldCells, type PictureCells, type PictureChoice } from '../identify/local-evidence';
import { DEFAULT_RECIPE } from '../identify/recipe';
import type { PoolSettings } from '../inference/pool';
import { ProgressMeter, type ProgressListener } from '../jobs/progress';
import { stackRows } from '../search/vectors';
import { DEFAULT_MODELS_DIR, findModelCard } from '../models/registry';

/**
 * What identification's local evidence needs, for the photos of one evaluation: the catalogue
 * pictures' object cells, the field photos' cells, and each query photo's cells (by photo id).
 */
export interface EvaluationCells {
  pictures: PictureCells;
  field: FieldCells;
  queryCells(photoId: number): Float32Array | undefined;
}

export interface CellPhotos {
  catalogue: readonly number[];
  /** Which catalogue photos bring cells, as identification picks them: all (a centred catalogue) or those on a plain background. */
  pictures: PictureChoice;
  field: readonly number[];
  queries: readonly number[];
}

export interface CellSource {
  /** The model whose cells it describes: entries with it are re-ranked. */
  model: string;
  /** EvaluationCells for photos of an evaluation set. */
  gather(photos: CellPhotos, options?: { signal?: AbortSignal; onProgress?: ProgressListener }): Promise<EvaluationCells>;
}

/**
 * Cells described as identification describes them (DEFAULT_RECIPE's cell model), from the
 * photos of the evaluation cache at `cachePath`. The pictures' cells are kept there; field and
 * query photos' are described on each run (a photo's take about 220 KB even as int8), the
 * queries' kept packed in memory meanwhile.
 */
export function cacheCells(cachePath: string, settings: PoolSettings = {}): CellSource {
  const model = cellModelOf(DEFAULT_RECIPE.parts.map((p) => findModelCard(p.model, settings.modelsDir ?? DEFAULT_MODELS_DIR)));
  // The last photos' cells are kept: evaluations compared on one set (variants, seeds) describe them once.
  let last: { key: string; cells: Promise<EvaluationCells> } | undefined;
  return {
    model,
    gather(photos, options) {
      const key = JSON.stringify(photos);
      if (last?.key !== key) {
        const cells = gatherCells(cachePath, settings, photos, options);
        last = { key, cells };
        cells.catch(() => { if (last?.cells === cells) last = undefined; });
      }
      return last.cells;
    },
  };
}

async function gatherCells(cachePath: string, settings: PoolSettings, photos: CellPhotos,
  options: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<EvaluationCells> {
  const catalogue = Catalogue.open(cachePath);
  const describer = await Describer.open(DEFAULT_RECIPE, settings).catch((e) => {
    catalogue.close();
    throw e;
  });
  try {
    // Held in memory: the evaluation cache closes once the cells are gathered.
    const pictures = heldPictureCells(await (photos.pictures === 'plain' ? cutOutsAndCentres : pictureCells)(catalogue, describer, photos.catalogue, options));
    const channels = describer.cellChannels;
    const field = new Set(photos.field);
    const queries = new Set(photos.queries);
    const sampler = new FieldCellSampler(channels, field.size);
    // Each query's own cells and its centre's, packed apart (as int8) until a fold asks for them.
    const packed = { own: new Map<number, Buffer>(), centre: new Map<number, Buffer>() };
    const queryCells = (id: number) => {
      const [own, centre] = [packed.own.get(id), packed.centre.get(id)].map((blob) => blob && unpackCellRows(blob, channels));
      return own && centre ? stackRows([own, centre]) : own;
    };
    const ids = [...new Set([...photos.field, ...photos.queries])];
    const part = DEFAULT_RECIPE.parts.find((p) => p.model === describer.cellModel)!;
    // Each photo, then each query's centre, as identification describes a query.
    const inputs = [...ids.map((id) => ({ id, photo: { path: catalogue.getPhoto(id)!.path } })), ...photos.queries.map((id) => ({ id, photo: queryCentre({ path: catalogue.getPhoto(id)!.path }) }))];
    const meter = new ProgressMeter(inputs.length, options.onProgress, 'Describing field and query photos\' cells');
    let i = 0;
    for await (const batch of describer.describePart(part, inputs.map((p) => p.photo), { batchSize: 4, cells: true, signal: options.signal })) {
      for (const d of batch) {
        const centre = i >= ids.length;
        const id = inputs[i++]!.id;
        if (!('cells' in d) || !d.cells) continue;
        if (!centre && field.has(id)) sampler.add(d.cells);
        if (queries.has(id)) packed[centre ? 'centre' : 'own'].set(id, packCells(new Float32Array(0), d.cells, channels));
      }
      meter.advance(batch.length);
    }
    return { pictures, field: sampler.result(), queryCells };
  } finally {
    await describer.close();
    catalogue.close();
  }
}
