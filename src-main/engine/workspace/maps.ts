import type { CatalogueMapData, MapMethod, MapSummary } from '../../contract';
import type { Catalogue } from '../catalogue/catalogue';
import { UserError } from '../errors';
import type { Describer } from '../identify/describe';
import { catalogueRecipe } from '../identify/recipe';
import type { PhotoInput } from '../inference/embed';
import type { Progress } from '../jobs/progress';
import { catalogueMap, type CatalogueMap } from '../projection/catalogue-map';
import { placeQueries } from '../projection/compute';

/**
 * The Explore view's maps of one catalogue: the last one made for each method, with the
 * object table the window colours and labels points by, kept while the catalogue is as it was.
 */
export class CatalogueMaps {
  private readonly made = new Map<MapMethod, { map: CatalogueMap; data: CatalogueMapData }>();

  constructor(private readonly catalogue: Catalogue) {}

  async make(method: MapMethod, signal: AbortSignal, report: (p: Progress) => void): Promise<MapSummary> {
    const map = await catalogueMap(this.catalogue, catalogueRecipe(this.catalogue), method, { signal, onProgress: report });
    this.made.set(method, { map, data: this.tabulate(map) });
    return { method, points: map.photoIds.length, fromCache: map.fromCache };
  }

  get(method: MapMethod): CatalogueMapData | null {
    return this.current(method)?.data ?? null;
  }

  /** Query photos on the map, described as the map's rows were: the recipe's joined descriptors. */
  async place(method: MapMethod, describer: Describer, photos: PhotoInput[]): Promise<Float32Array> {
    const made = this.current(method);
    if (!made) {
      throw new UserError('INVALID_ARGUMENT', 'The map is not ready, so the photos cannot be placed on it.', 'Wait until the map has been made, then try again.');
    }
    const described = await describer.describe(photos);
    const vectors = new Float32Array(described.length * made.map.projection.model.dims);
    described.forEach((d, i) => {
      if ('error' in d) throw d.error;
      vectors.set(d.vector, i * d.vector.length);
    });
    return placeQueries(made.map.projection, vectors);
  }

  private current(method: MapMethod): { map: CatalogueMap; data: CatalogueMapData } | undefined {
    const made = this.made.get(method);
    return made?.map.catalogueState === this.catalogue.state() ? made : undefined;
  }

  /** Numbers each point's object and sub-collection, so 100,000 points cross as a few typed arrays. */
  private tabulate(map: CatalogueMap): CatalogueMapData {
    const objectIndex = new Map<number, number>();
    const subcollectionIndex = new Map<string | null, number>();
    const objects: CatalogueMapData['objects'] = [];
    const objectOf = Int32Array.from(map.objectIds, (id) => {
      let index = objectIndex.get(id);
      if (index === undefined) {
        const object = this.catalogue.getObject(id)!;
        if (!subcollectionIndex.has(object.subcollection)) subcollectionIndex.set(object.subcollection, subcollectionIndex.size);
        index = objects.push({ id, instanceId: object.instanceId, title: object.title, subcollection: subcollectionIndex.get(object.subcollection)! }) - 1;
        objectIndex.set(id, index);
      }
      return index;
    });
    return { method: map.method, points: map.points, photoIds: map.photoIds, objectOf, objects, subcollections: [...subcollectionIndex.keys()] };
  }
}
