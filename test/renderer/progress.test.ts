// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { ImportSummary, JobProgress } from '../../src-main/contract';
import ImportReport from '../../src-renderer/components/ImportReport.vue';
import ProgressBar from '../../src-renderer/components/ProgressBar.vue';

const progress = (done: number, etaSeconds: number | null): JobProgress => ({ jobId: 3, kind: 'embed', phase: 'mobilenet-v2-140', done, total: 400, perSecond: 12.5, etaSeconds });

describe('a long job', () => {
  it('shows how far it is, how fast it goes and how long is left, and can be cancelled', async () => {
    const wrapper = mount(ProgressBar, { props: { progress: progress(100, 64.2), unit: 'photos' } });
    expect(wrapper.findAll('.line > *').map((e) => e.text()).filter(Boolean)).toEqual([
      'mobilenet-v2-140', '100 / 400 photos', '12.5 photos/s · 1 min 5 s left', 'Cancel',
    ]);
    expect(wrapper.get('.fill').attributes('style')).toContain('width: 25%');
    expect(wrapper.get('[role=progressbar]').attributes('aria-valuenow')).toBe('100');
    await wrapper.get('button').trigger('click');
    expect(wrapper.emitted('cancel')).toHaveLength(1);
  });

  it('says it is still estimating before it has a rate', () => {
    expect(mount(ProgressBar, { props: { progress: progress(0, null), unit: 'photos' } }).text()).toContain('estimating time left');
  });
});

describe('the import report', () => {
  const summary = (failed: ImportSummary['failed']): ImportSummary => ({ total: 50, imported: 47, alreadyPresent: 1, failed });

  it('counts what was added and lists each skipped row with its reason', () => {
    const wrapper = mount(ImportReport, { props: { summary: summary([
      { where: 'line 7', code: 'FILE_NOT_FOUND', reason: 'a.jpg does not exist. Check the path.' },
      { where: 'line 9', code: 'NOT_AN_IMAGE', reason: 'b.jpg is not an image.' },
    ]) } });
    expect(wrapper.findAll('.figures > div').map((d) => [d.get('strong').text(), d.get('span').text()])).toEqual([
      ['47', 'photos added'], ['1', 'already in the catalogue'], ['2', 'skipped'],
    ]);
    expect(wrapper.findAll('[data-testid=skipped] tbody tr').map((r) => r.findAll('td').map((d) => d.text()))).toEqual([
      ['line 7', 'a.jpg does not exist. Check the path.'], ['line 9', 'b.jpg is not an image.'],
    ]);
  });

  it('shows no table of skipped rows when nothing was skipped', () => {
    expect(mount(ImportReport, { props: { summary: summary([]) } }).find('[data-testid=skipped]').exists()).toBe(false);
  });
});
