// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { Identification, Match } from '../../src-main/contract';
import ResultsList from '../../src-renderer/components/ResultsList.vue';

const match = (rank: number, instanceId: string, score: number, subcollection: string | null = null, probability: number | null = null): Match => ({
  rank, objectId: rank * 10, instanceId, title: `Title of ${instanceId}`, subcollection, collection: 'main', score, probability, bestPhoto: { photoId: rank * 100, score },
});
const basis = 'Threshold learned from 40 field photos: 2.5 % of their scores against objects they do not show reach it.';
const answer = (notInCatalogue: boolean, results: Match[], ranking: string | null = null): Identification =>
  ({ notInCatalogue, threshold: 0.5, thresholdBasis: basis, ranking, results, logId: 7 });
const photoUrl = (id: number) => `/photo/catalogue/${id}?size=thumb`;

describe('the ranked results', () => {
  it('names the best match and lists every object in rank order with its photo, sub-collection and score', () => {
    const wrapper = mount(ResultsList, { props: { answer: answer(false, [match(1, 'EG.1234', 0.94, 'Egyptian'), match(2, 'EG.77', 0.31)]), selected: 1, photoUrl } });
    expect(wrapper.get('[data-testid=best-match]').text()).toContain('Best match: EG.1234');
    expect(wrapper.get('[data-testid=threshold-basis]').text()).toBe(basis);
    const rows = wrapper.findAll('[data-testid=match]');
    const fields = (r: (typeof rows)[number]) => ['.rank', '.accession', '.title', '.value'].map((c) => r.get(c).text()).concat(r.findAll('.badge').map((b) => b.text()));
    expect(rows.map(fields)).toEqual([
      ['1', 'EG.1234', 'Title of EG.1234', '0.940', 'Egyptian'],
      ['2', 'EG.77', 'Title of EG.77', '0.310'],
    ]);
    expect(rows[0].get('img').attributes('src')).toBe('/photo/catalogue/100?size=thumb');
    expect(rows[0].classes()).toContain('active');
    expect(wrapper.find('[data-testid=not-in-catalogue]').exists()).toBe(false);
    expect(wrapper.find('[data-testid=probability]').exists()).toBe(false);
    expect(wrapper.find('[data-testid=ranking-basis]').exists()).toBe(false);
  });

  it('ranked by probability, shows each object\'s probability and says why a lower rank can score higher', () => {
    const why = 'Ranked by probability: the mean of each model\'s, over the 50 closest objects; the score is the similarity the threshold applies to, so it need not fall with rank.';
    const wrapper = mount(ResultsList, {
      props: { answer: answer(false, [match(1, 'EG.1234', 0.61, null, 0.94), match(2, 'EG.77', 0.64, null, 0.05)], why), selected: 1, photoUrl },
    });
    expect(wrapper.get('[data-testid=best-match]').text()).toContain('Probability 94 %; scores 0.610, above the catalogue\'s threshold of 0.500');
    expect(wrapper.findAll('[data-testid=probability]').map((p) => p.text())).toEqual(['94 %', '5 %']);
    expect(wrapper.get('[data-testid=ranking-basis]').text()).toBe(why);
  });

  it('says "not in the catalogue" with the threshold, and still lists the closest objects for reference', () => {
    const wrapper = mount(ResultsList, { props: { answer: answer(true, [match(1, 'EG.9', 0.21)]), selected: 1, photoUrl } });
    const verdict = wrapper.get('[data-testid=not-in-catalogue]').text();
    expect(verdict).toContain('Not in the catalogue');
    expect(verdict).toContain('0.210, below this catalogue\'s threshold of 0.500');
    expect(verdict).toContain(basis);
    expect(wrapper.find('[data-testid=best-match]').exists()).toBe(false);
    expect(wrapper.findAll('[data-testid=match]')).toHaveLength(1);
  });

  it('selects a match on click and opens its object from the Open button', async () => {
    const wrapper = mount(ResultsList, { props: { answer: answer(false, [match(1, 'A1', 0.9), match(2, 'A2', 0.8)]), selected: 1, photoUrl } });
    await wrapper.findAll('[data-testid=match]')[1].trigger('click');
    await wrapper.findAll('[data-testid=match]')[1].get('button').trigger('click');
    expect(wrapper.emitted('select')).toEqual([[2]]);
    expect(wrapper.emitted('open')).toEqual([[20]]);
  });
});
