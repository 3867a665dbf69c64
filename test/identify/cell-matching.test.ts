import { describe, expect, it } from 'vitest';
import { CELL_DIMS, CellSpace, centralCells, featuremapCells, foregroundCells, meanCell, packCells, rerankByCells, unpackCells } from '../../src-main/engine/identify/cell-matching';
import { CatalogueCells } from '../../src-main/engine/identify/local-evidence';
import { stackRows } from '../../src-main/engine/search/vectors';
import { randomMatrix } from '../search/synthetic';

/** An object's one picture, cut out. */
const only = (cells: Float32Array) => ({ cutOuts: [cells], centres: [] });

describe('local evidence from feature-map cells', () => {
  it('turns a channels x height x width map into one unit cell per position, the mirror turned back and averaged in', () => {
    // 2 channels on a 1 x 3 grid; the mirrored map holds the same cells right to left.
    const map = Float32Array.of(4, 0, 9, /* channel 1 */ 0, 1, 0);
    const mirrored = Float32Array.of(9, 0, 4, /* channel 1 */ 0, 1, 0);
    const cells = featuremapCells(map, [2, 1, 3], mirrored);
    expect(Array.from(cells).map((v) => +v.toFixed(4))).toEqual([1, 0, 0, 1, 1, 0]);
    expect(Array.from(featuremapCells(Float32Array.of(4, 1, 0, 9, 1, 0), [2, 1, 3]).subarray(0, 2)).map((v) => +v.toFixed(4))).toEqual([0.5547, 0.8321]);
  });

  it('re-ranks the candidates by how much of each picture the query shows, keeping the global order among equals', async () => {
    const channels = 64;
    const pictures = Array.from({ length: 4 }, (_, i) => randomMatrix(20, channels, i + 1));
    const all = new Float32Array(pictures.flatMap((p) => Array.from(p)));
    const space = await CellSpace.fit(meanCell(all, channels), all, meanCell(all, channels));
    const projected = await Promise.all(pictures.map((p) => space.project(p, space.catalogueMean)));
    // The query shows picture 2's first 15 cells among clutter: picture 2 wins although its global score is last.
    const query = await space.project(new Float32Array([...pictures[2]!.subarray(0, 15 * channels), ...randomMatrix(30, channels, 99)]));
    const candidates = [0, 1, 2, 3].map((objectId, i) => ({ objectId, score: [0.5, 0.45, 0.3, 0.44][i]!, rank: i + 1 }));
    const ranked = await rerankByCells(candidates, query, space.dims, (id) => only(projected[id]!));
    expect(ranked[0]).toMatchObject({ objectId: 2, rank: 1, score: 0.3 });
    expect(ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    expect(ranked[0]!.local).toBeGreaterThan(Math.max(...ranked.slice(1).map((r) => r.local)));
    // Centred only (no field photos to whiten on), the picture is found as well.
    const plain = CellSpace.centred(meanCell(all, channels));
    const plainPictures = await Promise.all(pictures.map((p) => plain.project(p, plain.catalogueMean)));
    const plainQuery = await plain.project(new Float32Array([...pictures[2]!.subarray(0, 15 * channels), ...randomMatrix(30, channels, 99)]));
    expect(plain.dims).toBe(channels);
    expect((await rerankByCells(candidates, plainQuery, plain.dims, (id) => only(plainPictures[id]!)))[0]!.objectId).toBe(2);
    // An object without readable pictures neither wins nor breaks the order.
    const missing = await rerankByCells(candidates, query, space.dims, (id) => (id === 0 ? { cutOuts: [], centres: [] } : only(projected[id]!)));
    expect(missing[0]!.objectId).toBe(2);
    expect(missing.every((r) => Number.isFinite(r.local))).toBe(true);
  });

  it('weighs the centres of shop photos on their own scale, and an object without one by its cut-out picture', async () => {
    const channels = 64;
    const space = CellSpace.centred(new Float32Array(channels));
    const unit = async (rows: Float32Array) => space.project(rows, new Float32Array(channels));
    const [shelf, ...objects] = await Promise.all([0, 1, 2, 3, 4].map((i) => unit(randomMatrix(12, channels, 40 + i))));
    // Objects 0-2 have a packshot and a shop photo whose centre shows 4 of the object's cells among
    // 8 of the shelf every shop photo shares; object 3 has its packshot only.
    const centre = async (o: number) => unit(new Float32Array([...objects[o]!.subarray(0, 4 * channels), ...shelf!.subarray(0, 8 * channels)]));
    const cells = await Promise.all([0, 1, 2, 3].map(async (o) => ({ cutOuts: [objects[o]!], centres: o < 3 ? [await centre(o)] : [] })));
    // The query: a shop photo of object 3, half of it, on the shelf.
    const query = await unit(new Float32Array([...objects[3]!.subarray(0, 6 * channels), ...shelf!]));
    const candidates = [0, 1, 2, 3].map((objectId, i) => ({ objectId, score: 0.5 - 0.01 * i, rank: i + 1 }));
    const ranked = await rerankByCells(candidates, query, channels, (id) => cells[id]!);
    expect(ranked[0]!.objectId).toBe(3);
    // The best of either kind (both taken as cut-outs): the shelf the centres find puts another object first.
    const oneKind = await rerankByCells(candidates, query, channels, (id) => ({ cutOuts: [...cells[id]!.cutOuts, ...cells[id]!.centres], centres: [] }));
    expect(oneKind[0]!.objectId).not.toBe(3);
    // A query of object 1's shop photo finds its centre: object 1 wins.
    const ofObject1 = await rerankByCells(candidates, await centre(1), channels, (id) => cells[id]!);
    expect(ofObject1[0]!.objectId).toBe(1);
  });

  it('takes the middle 60 % of the rows and columns as a photo\'s centre', () => {
    expect(centralCells([5, 5])).toEqual([6, 7, 8, 11, 12, 13, 16, 17, 18]);
    expect(centralCells([17, 17])).toHaveLength(11 * 11);
  });

  it('learns where cells are compared from enough field photos, else from the catalogue pictures\' own cells', async () => {
    const channels = 128;
    const cells = new Map([1, 2, 3, 4].map((id) => [id, randomMatrix(20, channels, id)] as const));
    const pictures = (ids: number[]) => ({
      mean: meanCell(stackRows(ids.map((id) => cells.get(id)!)), channels),
      means: new Map(ids.map((id) => [id, meanCell(cells.get(id)!, channels)])),
      centres: new Set<number>(),
      load: (wanted: readonly number[]) => new Map(wanted.map((id) => [id, cells.get(id)!])),
    });
    const field = (photos: number) => ({ photos, mean: meanCell(randomMatrix(30, channels, 7), channels), sample: randomMatrix(30, channels, 7) });
    // A whitening keeps at most one direction fewer than the cells it learns from: 30 field cells, or the pictures' 80.
    expect((await CatalogueCells.build(pictures([1, 2, 3, 4]), (id) => id, field(24))).space.dims).toBe(29);
    expect((await CatalogueCells.build(pictures([1, 2, 3, 4]), (id) => id, field(5))).space.dims).toBe(79);
    expect((await CatalogueCells.build(pictures([1, 2, 3, 4]), (id) => id)).space.dims).toBe(79);
    // No picture could be read: nothing to learn from, the cells are only centred.
    const none = await CatalogueCells.build(pictures([]), (id) => id);
    expect([none.space.dims, none.space.projection]).toEqual([channels, undefined]);
  });

  it('keeps cells as int8 with a scale per cell, close to the originals', () => {
    const cells = randomMatrix(10, CELL_DIMS, 5);
    const head = Float32Array.of(1, 2, 3);
    const { head: headBack, cells: back } = unpackCells(packCells(head, cells, CELL_DIMS), head.length, 10, CELL_DIMS)!;
    expect(headBack).toEqual(head);
    for (let r = 0; r < 10; r++) {
      let dotProduct = 0, norm = 0;
      for (let j = r * CELL_DIMS; j < (r + 1) * CELL_DIMS; j++) [dotProduct, norm] = [dotProduct + back[j]! * cells[j]!, norm + cells[j]! ** 2];
      expect(dotProduct / Math.sqrt(norm)).toBeGreaterThan(0.999);
    }
    // Bytes of another layout are not misread.
    expect(unpackCells(packCells(head, cells, CELL_DIMS), head.length, 11, CELL_DIMS)).toBeUndefined();
  });

  it('keeps the cells that show the object, on a plain background of any colour, and every cell when there is none', () => {
    // 40 x 40 pictures on a 4 x 4 grid: the object fills the middle 20 x 20 pixels, that is the 4 middle cells.
    const picture = (background: number[], object: number[], noisy = false) => Uint8Array.from({ length: 40 * 40 * 3 }, (_, i) => {
      const [x, y, c] = [Math.floor(i / 3) % 40, Math.floor(i / 120), i % 3];
      if (noisy) return (x * 37 + y * 91 + c * 53) % 256;
      return x >= 10 && x < 30 && y >= 10 && y < 30 ? object[c]! : background[c]!;
    });
    expect(foregroundCells(picture([255, 255, 255], [200, 40, 40]), 40, 40, [4, 4])).toEqual([5, 6, 9, 10]);
    expect(foregroundCells(picture([0, 0, 0], [90, 90, 90]), 40, 40, [4, 4])).toEqual([5, 6, 9, 10]);
    expect(foregroundCells(picture([0, 0, 0], [0, 0, 0], true), 40, 40, [4, 4])).toHaveLength(16);
  });
});
