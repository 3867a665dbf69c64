// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { CatalogueMapData } from '../../src-main/contract';
import SelectionPanel from '../../src-renderer/components/SelectionPanel.vue';
import { fitCamera, toData, toScreen, zoomedAt } from '../../src-renderer/explore/camera';
import { legendOf, pointColours } from '../../src-renderer/explore/palette';
import { PointGrid } from '../../src-renderer/explore/point-grid';
import { selectedObjects, selectionCsv } from '../../src-renderer/explore/selection';

// Two objects of a sub-collection in the lower left, one object of none in the upper right.
const map: CatalogueMapData = {
  method: 'pca',
  points: Float32Array.from([0, 0, 0.1, 0.1, 1, 0, 9, 9, 9.2, 9.1]),
  photoIds: Int32Array.from([11, 12, 13, 14, 15]),
  objectOf: Int32Array.from([0, 0, 1, 2, 2]),
  objects: [
    { id: 1, instanceId: 'EG.1', title: 'Jar, "blue"', subcollection: 0 },
    { id: 2, instanceId: 'EG.2', title: null, subcollection: 0 },
    { id: 3, instanceId: 'X.9', title: 'Bowl', subcollection: 1 },
  ],
  subcollections: ['Ceramics', null],
};

describe('the map\'s spatial index', () => {
  const grid = new PointGrid(map.points);
  it('finds the nearest point within the radius, and none beyond it', () => {
    expect([grid.nearest(0.09, 0.08, 0.5), grid.nearest(9.15, 9.1, 0.5), grid.nearest(5, 5, 1)]).toEqual([1, 4, -1]);
  });

  it('finds the points inside a lasso', () => {
    expect(grid.inside([-1, -1, 2, -1, 2, 0.5, -1, 0.5]).sort()).toEqual([0, 1, 2]);
    expect(grid.inside([8, 8, 10, 8, 10, 10, 8, 10]).sort()).toEqual([3, 4]);
  });
});

describe('the map\'s camera', () => {
  const view = { width: 800, height: 600 };
  it('fits every point on screen, y upwards, and maps screen and data both ways', () => {
    const camera = fitCamera(new PointGrid(map.points).bounds, view);
    const [sx, sy] = toScreen(camera, view, 9.2, 9.1);
    expect(sx).toBeLessThan(800);
    expect(sy).toBeGreaterThan(0);
    expect(toScreen(camera, view, 0, 0)[1]).toBeGreaterThan(sy);
    expect(toData(camera, view, sx, sy).map((v) => +v.toFixed(4))).toEqual([9.2, 9.1]);
  });

  it('zooms about the pointer: the point under it stays put', () => {
    const camera = { x: 0, y: 0, zoom: 10 };
    const before = toData(camera, view, 600, 100);
    const after = toData(zoomedAt(camera, view, 600, 100, 3), view, 600, 100);
    expect(after[0]).toBeCloseTo(before[0], 6);
    expect(after[1]).toBeCloseTo(before[1], 6);
  });
});

describe('colours, legend and selection', () => {
  it('colours by sub-collection (grey for none) or by object, with the largest groups first in the legend', () => {
    const bySub = pointColours(map, 'subcollection');
    expect(Array.from(bySub.subarray(0, 4))).toEqual(Array.from(bySub.subarray(8, 12)));
    expect(Array.from(bySub.subarray(12, 16))).toEqual([140, 146, 156, 255]);
    expect(legendOf(map, 'subcollection').entries.map((e) => [e.label, e.photos])).toEqual([['Ceramics', 3], ['No sub-collection', 2]]);
    const byObject = pointColours(map, 'object');
    expect(Array.from(byObject.subarray(0, 4))).not.toEqual(Array.from(byObject.subarray(8, 12)));
    expect(legendOf(map, 'object', 2)).toMatchObject({ entries: [{ label: 'EG.1' }, { label: 'X.9' }], more: 1 });
  });

  it('lists the selected objects and writes their accession numbers as CSV, quoting where needed', () => {
    const objects = selectedObjects(map, [0, 1, 2]);
    expect(objects.map((o) => [o.instanceId, o.photos, o.subcollection])).toEqual([['EG.1', 2, 'Ceramics'], ['EG.2', 1, 'Ceramics']]);
    expect(new TextDecoder().decode(selectionCsv(objects))).toBe(
      'accession_number,title,sub_collection,photos_selected\r\nEG.1,"Jar, ""blue""",Ceramics,2\r\nEG.2,,Ceramics,1\r\n',
    );
  });

  it('shows a selection panel that opens an object and clears', async () => {
    const wrapper = mount(SelectionPanel, { props: { objects: selectedObjects(map, [0, 3, 4]), photos: 3, catalogueName: 'museum' } });
    expect(wrapper.text()).toContain('3 photos of 2 objects');
    const rows = wrapper.findAll('[data-testid=selected-object]');
    expect(rows.map((r) => r.get('.accession').text())).toEqual(['X.9', 'EG.1']);
    await rows[1].trigger('click');
    await wrapper.get('[aria-label="Clear the selection"]').trigger('click');
    expect(wrapper.emitted('open')).toEqual([[1]]);
    expect(wrapper.emitted('clear')).toHaveLength(1);
  });
});
