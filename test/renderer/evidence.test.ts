// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { turbo } from '../../src-main/engine/explain/colour-map';
import PhotoOverlay from '../../src-renderer/components/PhotoOverlay.vue';
import { evidencePixels, zeroOnScale } from '../../src-renderer/explain/evidence-image';

describe('evidence overlays', () => {
  // A 2 x 2 map: the top-left cell supports the match most, the bottom-right argues against it.
  const grid = { map: [0.3, 0, 0, -0.1], columns: 2, rows: 2 };

  it('upsamples the map smoothly in the export\'s colours, hottest where the evidence is', () => {
    const { width, height, data } = evidencePixels(grid, 10);
    expect([width, height]).toEqual([20, 20]);
    const pixel = (x: number, y: number) => Array.from(data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4));
    expect(pixel(0, 0)).toEqual([...turbo(1), 255]);
    expect(pixel(19, 19)).toEqual([...turbo(0), 255]);
    // Between cell centres the colour lies between theirs: no blocks.
    expect(pixel(10, 0)).not.toEqual(pixel(0, 0));
    expect(pixel(10, 0)).not.toEqual(pixel(19, 0));
  });

  it('marks where no evidence either way falls on the scale, when the map has both signs', () => {
    expect(zeroOnScale(grid.map)).toBeCloseTo(0.25);
    expect(zeroOnScale([0.1, 0.2])).toBeNull();
  });

  it('lays the overlay over the boxed region only, at the chosen opacity, and hides it when switched off', async () => {
    const props = { src: '/photo/query/0123456789abcdef?size=full', alt: 'query', region: { x: 0.1, y: 0.2, width: 0.5, height: 0.4 }, evidence: grid, opacity: 0.4, show: true, testid: 'overlay-query' };
    const wrapper = mount(PhotoOverlay, { props });
    const canvas = wrapper.get('[data-testid=overlay-query]');
    expect(canvas.attributes('style')).toContain('left: 10%');
    expect(canvas.attributes('style')).toContain('width: 50%');
    expect(canvas.attributes('style')).toContain('opacity: 0.4');
    expect(wrapper.find('.box').exists()).toBe(true);
    await wrapper.setProps({ show: false });
    expect(canvas.attributes('style')).toContain('display: none');
  });
});
