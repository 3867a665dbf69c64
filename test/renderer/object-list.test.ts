// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { ObjectSummary } from '../../src-main/contract';
import ObjectList from '../../src-renderer/components/ObjectList.vue';

/** A catalogue of `total` objects as pages, the way catalogue.objects answers; records what was asked. */
function pages(total: number, prefix = 'EG') {
  const asked: number[] = [];
  const load = async (offset: number, limit: number) => {
    asked.push(offset);
    const objects: ObjectSummary[] = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({
      id: offset + i + 1, instanceId: `${prefix}.${offset + i}`, title: null, subcollection: null, photoCount: 2, coverPhotoId: null,
    }));
    return { total, objects };
  };
  return { load, asked };
}

const rowTexts = (wrapper: ReturnType<typeof mount>) => wrapper.findAll('[data-testid=object-row]').map((r) => r.text());

describe('the object list', () => {
  it('draws only the rows in view of a catalogue of 20,000 objects, and fetches pages as they scroll into view', async () => {
    const source = pages(20_000);
    const wrapper = mount(ObjectList, { props: { load: source.load, query: 'a', selected: null, photoUrl: () => '' } });
    await flushPromises();
    expect(wrapper.findAll('[data-testid=object-row]').length).toBeLessThan(40);
    expect(rowTexts(wrapper)[0]).toContain('EG.0');
    expect(wrapper.emitted('total')?.at(-1)).toEqual([20_000]);
    expect(source.asked).toEqual([0]);

    const scroller = wrapper.get('[data-testid=object-list]');
    (scroller.element as unknown as { scrollTop: number }).scrollTop = 52 * 12_345;
    await scroller.trigger('scroll');
    await flushPromises();
    expect(source.asked).toContain(12_300);
    expect(rowTexts(wrapper).some((t) => t.includes('EG.12345'))).toBe(true);
    expect(wrapper.findAll('[data-testid=object-row]').length).toBeLessThan(40);
  });

  it('starts again from the top when the search changes, and emits the chosen object', async () => {
    const first = pages(500);
    const wrapper = mount(ObjectList, { props: { load: first.load, query: 'a', selected: null, photoUrl: () => '' } });
    await flushPromises();
    const second = pages(3, 'OM');
    await wrapper.setProps({ load: second.load, query: 'b' });
    await flushPromises();
    expect(rowTexts(wrapper).map((t) => t.slice(0, 4))).toEqual(['OM.0', 'OM.1', 'OM.2']);
    await wrapper.findAll('[data-testid=object-row]')[1].trigger('click');
    expect(wrapper.emitted('select')).toEqual([[2]]);
  });
});
