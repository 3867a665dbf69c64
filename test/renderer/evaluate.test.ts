// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { EvaluationSummary } from '../../src-main/contract';
import EvaluationReport from '../../src-renderer/components/EvaluationReport.vue';
import { evaluationRequest, modelEntries, parseSeeds, type EvaluationForm } from '../../src-renderer/evaluate/request';

const accuracy = (top1: number, n = 20) => ({ n, top1, top3: Math.min(1, top1 + 0.1), top5: Math.min(1, top1 + 0.15), top10: 1 });
const mean = (minImages: number, classifier: 'knn' | 'prototype', top1: number) => ({
  minImages, classifier, model: 'mobilenet-v2-140', overall: accuracy(top1), unseen: 0,
  byPhotos: { 3: accuracy(top1 - 0.1, 5), 4: accuracy(top1, 5), '10+': accuracy(top1 + 0.05, 10) },
  bySubcollection: { Ceramics: accuracy(top1, 12), Metalwork: accuracy(top1 - 0.2, 8) },
});
const summary: EvaluationSummary = {
  protocol: 'paper', manifest: '/data/museum.csv', seconds: 3.25, seeds: [1, 2],
  dataset: { photos: 48, objects: 6, unreadable: 2 },
  means: [mean(3, 'knn', 0.8), mean(3, 'prototype', 0.6), mean(4, 'knn', 0.85), mean(4, 'prototype', 0.7)],
  openSetMeans: [],
  modelBytes: { 'mobilenet-v2-140': 4_500_000 },
  settings: { descriptors: 'pooling mean, flip, whiten fitted on catalogue+prototypes' },
};

describe('the evaluation report', () => {
  const report = mount(EvaluationReport, { props: { summary } });
  const rows = (testid: string) => report.findAll(`[data-testid="${testid}"] tbody tr`).map((r) => r.findAll('td').map((c) => c.text()));

  it('gives top-1/3/5/10 per threshold, classifier and model, in %', () => {
    expect(rows('table-summary')).toEqual([
      ['≥3', 'knn', 'mobilenet-v2-140', '80.0', '90.0', '95.0', '100.0', '20', '0.0'],
      ['≥3', 'prototype', 'mobilenet-v2-140', '60.0', '70.0', '75.0', '100.0', '20', '0.0'],
      ['≥4', 'knn', 'mobilenet-v2-140', '85.0', '95.0', '100.0', '100.0', '20', '0.0'],
      ['≥4', 'prototype', 'mobilenet-v2-140', '70.0', '80.0', '85.0', '100.0', '20', '0.0'],
    ]);
    expect(report.text()).toContain('the mean of 2 seeds');
    expect(report.text()).toContain('2 photos could not be read');
  });

  it('draws one line per threshold for the best classifier, with a point per photo count it has', () => {
    expect(report.findAll('[data-testid="chart-line"]').map((l) => l.find('text').text())).toEqual(['≥3 photos', '≥4 photos']);
    expect(report.findAll('[data-testid="chart-line"] circle')).toHaveLength(6);
    expect(report.find('[data-testid="chart-line"] title').text()).toBe('≥3 photos, 3 photos: 70.0 %');
    expect(report.text()).toContain('knn, mobilenet-v2-140 (the best at the fewest photos)');
  });

  it('breaks top-1 down by sub-collection at the fewest photos', () => {
    expect(rows('table-subcollections')).toEqual([['Ceramics', '12', '80.0', '60.0'], ['Metalwork', '8', '60.0', '40.0']]);
  });

  it('gives top-1 against model size (Fig. 5) and says how descriptors were made', () => {
    expect(rows('table-model-size')).toEqual([['mobilenet-v2-140', '4.5', '80.0', '60.0']]);
    expect(report.text()).toContain('descriptors: pooling mean, flip, whiten fitted on catalogue+prototypes');
  });

  it('asks for the HTML report or the JSON figures', async () => {
    await report.find('[data-testid="export-html"]').trigger('click');
    await report.find('[data-testid="export-json"]').trigger('click');
    expect(report.emitted('export')).toEqual([['html'], ['json']]);
  });

  it('shows the open set\'s table, and no chart, when only the open set was measured', () => {
    const open = mount(EvaluationReport, { props: { summary: { ...summary, protocol: 'open', means: [], openSetMeans: [{
      model: 'mobilenet-v2-140', threshold: 0.61234, calibrationBasis: 'impostor pairs', knownQueries: 40, unknownQueries: 10,
      unknownRejected: 0.7, knownAnswered: 0.9, knownCorrectAnswered: 0.85, knownTop1: 0.95, unknownRejectedAt95: 0.6,
    }] } } });
    expect(open.findAll('[data-testid="table-open-set"] tbody td').map((c) => c.text())).toEqual(
      ['mobilenet-v2-140', '0.612', 'impostor pairs', '70.0', '90.0', '85.0', '95.0', '60.0', '40 / 10']);
    expect(open.find('[data-testid="photos-chart"]').exists()).toBe(false);
    expect(open.find('[data-testid="table-summary"]').exists()).toBe(false);
  });
});

describe('the evaluation form', () => {
  const form: EvaluationForm = {
    manifest: '/data/museum.csv', protocol: 'paper', thresholds: [5, 3], seeds: '1-3, 7', classifiers: ['knn'],
    backbones: ['inception-v3-mixed5', 'mobilenet-v2-140'], each: true, joined: true, catalogueSplits: 'catalogue, train', querySplits: 'val',
    descriptors: { pooling: 'gem', flip: false, postprocess: 'centre', fitOn: 'queries' },
  };

  it('reads seeds as lists and ranges, and refuses anything else', () => {
    expect(parseSeeds('1-3, 7,2')).toEqual([1, 2, 3, 7]);
    expect(parseSeeds('1-10')).toHaveLength(10);
    for (const bad of ['', 'one', '3-1', '1-500', '1,,2', '-2']) expect(parseSeeds(bad), bad).toBeNull();
  });

  it('scores each backbone, their join, or both', () => {
    expect(modelEntries(form)).toEqual([['inception-v3-mixed5'], ['mobilenet-v2-140'], ['inception-v3-mixed5', 'mobilenet-v2-140']]);
    expect(modelEntries({ ...form, each: false })).toEqual([['inception-v3-mixed5', 'mobilenet-v2-140']]);
    expect(modelEntries({ ...form, backbones: ['mobilenet-v2-140'], each: false })).toEqual([]);
  });

  it('asks for the request the contract takes: thresholds sorted, splits only where they count', () => {
    expect(evaluationRequest(form)).toEqual({ request: {
      manifest: '/data/museum.csv', protocol: 'paper', minImages: [3, 5], seeds: [1, 2, 3, 7], classifiers: ['knn'],
      models: [['inception-v3-mixed5'], ['mobilenet-v2-140'], ['inception-v3-mixed5', 'mobilenet-v2-140']],
      descriptors: { pooling: 'gem', flip: false, postprocess: 'centre', fitOn: 'queries' },
    } });
    expect(evaluationRequest({ ...form, protocol: 'field', thresholds: [] })).toMatchObject({ request: { catalogueSplits: ['catalogue', 'train'], querySplits: ['val'] } });
    expect(evaluationRequest({ ...form, protocol: 'open' })).toMatchObject({ request: { minImages: [3] } });
  });

  it('says, in a curator\'s words, what is missing', () => {
    expect(evaluationRequest({ ...form, manifest: '' })).toEqual({ missing: 'Choose the manifest of labelled photos to evaluate on.' });
    expect(evaluationRequest({ ...form, seeds: 'all' })).toMatchObject({ missing: expect.stringContaining('seeds') });
    expect(evaluationRequest({ ...form, classifiers: [] })).toMatchObject({ missing: expect.stringContaining('classifier') });
    expect(evaluationRequest({ ...form, backbones: [] })).toEqual({ missing: 'Tick at least one model.' });
    expect(evaluationRequest({ ...form, protocol: 'field', querySplits: ' ' })).toMatchObject({ missing: expect.stringContaining('split values') });
  });
});
