import { basename, extname } from 'node:path';
import type { MatchEvidence, OcclusionSummary } from '../../contract';
import type { Catalogue } from '../catalogue/catalogue';
import { catalogueMean } from '../explain/catalogue-mean';
import { explainByOcclusion, explainMatch } from '../explain/explain-match';
import { renderOverlay } from '../explain/overlay';
import type { Describer } from '../identify/describe';
import type { PhotoInput } from '../inference/embed';
import type { Progress } from '../jobs/progress';

/**
 * Explanations of a match for the compare panel. Similarity is centred on the catalogue's mean
 * descriptor of the part explained, kept until the catalogue changes.
 */
export class Explanations {
  private mean?: { state: number; key: string; value: Float32Array | undefined };

  constructor(private readonly catalogue: Catalogue) {}

  async evidence(describer: Describer, query: PhotoInput, match: PhotoInput): Promise<MatchEvidence> {
    return explainMatch(describer, query, match, { mean: this.meanFor(describer) });
  }

  async occlusion(describer: Describer, query: PhotoInput, match: PhotoInput, signal: AbortSignal, report: (p: Progress) => void): Promise<OcclusionSummary> {
    const { map, grid, baseScore } = await explainByOcclusion(describer, query, match, { signal, onProgress: report });
    return { map: Array.from(map), columns: grid, rows: grid, baseScore };
  }

  private meanFor(describer: Describer): Float32Array | undefined {
    const { recipe } = describer;
    const part = recipe.parts[0]; // The part explainMatch explains.
    const key = `${part.model}|${part.pooling}|${recipe.flip}`;
    const state = this.catalogue.state();
    if (this.mean?.state !== state || this.mean.key !== key) this.mean = { state, key, value: catalogueMean(this.catalogue, part, recipe.flip) };
    return this.mean.value;
  }
}

/** The overlay as the export saves it, named after the photo; plain bytes (not a Buffer), so every transport carries them. */
export async function overlayFile(photo: PhotoInput, photoName: string, grid: { map: number[]; columns: number; rows: number }, opacity: number): Promise<{ png: Uint8Array; fileName: string }> {
  const png = await renderOverlay(photo, Float32Array.from(grid.map), grid.columns, grid.rows, opacity);
  return { png: new Uint8Array(png), fileName: `${basename(photoName, extname(photoName))}-evidence.png` };
}
