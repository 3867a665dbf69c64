import { BackboneEnsemble, ranksAsEnsemble } from '../identify/backbone-ensemble';
import { FUSION_CANDIDATES } from '../identify/instance-classifier';
import { rerankByLocalEvidence, type CatalogueCells } from '../identify/local-evidence';
import { DEFAULT_RECIPE } from '../identify/recipe';
import { ObjectRanker, type ObjectMatch } from '../search/aggregate';
import { FlatIndex } from '../search/index';
import type { EvalSet } from './dataset';
import type { ComparedDescriptors, DescriptorVariant } from './descriptors';
import { gatherRows } from './linalg';

/** Local evidence for one fold: the catalogue's cells in their space, and each query row's cells. */
export interface FoldCells {
  cells: CatalogueCells;
  queryCells(row: number): Float32Array | undefined;
}

/** A ranked object, with its pictures' found share when local evidence re-ranked it (rerankByCells). */
export type RankedMatch = ObjectMatch & { found?: number };

/**
 * Objects in the order identification gives them: the catalogue rows' closest objects, re-ranked
 * by the backbones' ensemble where identification does (a centred catalogue of several
 * backbones), then by local evidence when it is given.
 */
export class IdentificationOrder {
  readonly ranker: ObjectRanker;
  private readonly ensemble?: BackboneEnsemble;

  constructor(set: EvalSet, variant: DescriptorVariant, catalogue: readonly number[], private readonly compared: ComparedDescriptors, private readonly local?: FoldCells) {
    const { vectors, dims, raw } = compared;
    const index = new FlatIndex(dims);
    index.add(catalogue.map((r) => set.photos[r]!.photoId), Int32Array.from(catalogue, (r) => set.photos[r]!.objectId), gatherRows(vectors, dims, catalogue));
    this.ranker = new ObjectRanker(index);
    this.ensemble = ranksAsEnsemble(variant.postprocess, raw.parts) ? BackboneEnsemble.fromIndex(index, raw.parts) : undefined;
  }

  /** The best `count` objects for each query row, best first. */
  async rank(rows: readonly number[], count: number): Promise<RankedMatch[][]> {
    const { vectors, dims } = this.compared;
    const queries = gatherRows(vectors, dims, rows);
    const candidates = this.ensemble || this.local ? Math.max(count, FUSION_CANDIDATES) : count;
    const matches = this.ranker.rankBatch(queries, DEFAULT_RECIPE.aggregation, candidates)
      .map((m, i) => (this.ensemble ? this.ensemble.rerank(m, queries.subarray(i * dims, (i + 1) * dims)) : m));
    // One query at a time: each compares its cells with every cell of its candidates' pictures.
    const ranked: RankedMatch[][] = [];
    for (const [i, m] of matches.entries()) {
      const cells = this.local?.queryCells(rows[i]!);
      ranked.push((cells ? await rerankByLocalEvidence(m, [cells], this.local!.cells) : m).slice(0, count));
    }
    return ranked;
  }
}
