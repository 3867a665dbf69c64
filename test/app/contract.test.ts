import { describe, expect, it } from 'vitest';
import { checkCall, parsePhotoPath } from '../../src-main/contract';

const refusal = (name: unknown, args: unknown) => {
  try {
    checkCall(name, args);
    return null;
  } catch (e) {
    return (e as { code: string; what: string }).what;
  }
};

describe('the contract', () => {
  it('passes well-formed calls through, with optional fields left out', () => {
    expect(checkCall('catalogue.objects', { offset: 0, limit: 50, search: 'EG' })).toEqual({ name: 'catalogue.objects', args: { offset: 0, limit: 50, search: 'EG' } });
    expect(checkCall('identify.run', { photos: [{ id: '0123456789abcdef', crop: { x: 0.1, y: 0.1, width: 0.5, height: 0.5 } }] }).args)
      .toEqual({ photos: [{ id: '0123456789abcdef', crop: { x: 0.1, y: 0.1, width: 0.5, height: 0.5 } }] });
  });

  it('refuses anything else before it reaches the engine, saying which field', () => {
    expect(refusal('fs.readFile', {})).toMatch(/does not offer/);
    expect(refusal('catalogue.objects', { offset: -1, limit: 50 })).toBe('The window sent catalogue.objects.offset that is not a whole number from 0 to 2147483647.');
    expect(refusal('catalogue.objects', { offset: 0, limit: 100_000 })).toMatch(/limit/);
    expect(refusal('catalogue.open', { path: 'a\0b' })).toMatch(/path/);
    expect(refusal('catalogue.open', [])).toMatch(/named values/);
    expect(refusal('identify.run', { photos: [{ id: '../../etc/passwd' }] })).toMatch(/photos\[0\]\.id/);
    expect(refusal('identify.run', { photos: [{ id: '0123456789abcdef', crop: { x: 0.8, y: 0, width: 0.5, height: 0.5 } }] })).toMatch(/box inside the photo/);
    expect(refusal('import.preview', { source: { kind: 'url', path: 'https://x' } })).toMatch(/source\.kind/);
    expect(refusal('query.addBytes', { name: 'a.jpg', bytes: 'not bytes' })).toMatch(/bytes of a file/);
  });

  it('checks the explanation and map calls: methods, photos by id, and an overlay grid of the size it claims', () => {
    const grid = { map: [0.1, -0.2, 0.3, 0], columns: 2, rows: 2 };
    expect(checkCall('explain.overlay', { photo: { kind: 'catalogue', id: 3 }, grid, opacity: 0.5 }).args).toEqual({ photo: { kind: 'catalogue', id: 3 }, grid, opacity: 0.5 });
    expect(refusal('explain.overlay', { photo: { kind: 'catalogue', id: 3 }, grid: { ...grid, columns: 3 }, opacity: 0.5 })).toMatch(/grid\.map/);
    expect(refusal('explain.overlay', { photo: { kind: 'file', id: '/etc/passwd' }, grid, opacity: 0.5 })).toMatch(/photo\.kind/);
    expect(refusal('explain.overlay', { photo: { kind: 'catalogue', id: 3 }, grid: { ...grid, map: [0, 0, 0, Number.NaN] }, opacity: 0.5 })).toMatch(/map\[3\]/);
    expect(refusal('explain.match', { query: { id: '../x' }, photoId: 1 })).toMatch(/query\.id/);
    expect(refusal('map.start', { method: 'mds' })).toMatch(/method/);
    expect(refusal('dialog.save', { purpose: 'overlay', fileName: 'a.png', bytes: [1, 2] })).toMatch(/bytes/);
  });

  it('checks an evaluation request: protocol, classifiers, model ids, and no empty lists', () => {
    const request = { manifest: '/data/m.csv', protocol: 'paper', minImages: [3, 4], seeds: [1], classifiers: ['knn'], models: [['mobilenet-v2-140'], ['a', 'b']] };
    expect(checkCall('evaluation.start', { request }).args).toEqual({ request });
    expect(refusal('evaluation.start', { request: { ...request, protocol: 'closed' } })).toMatch(/request\.protocol/);
    expect(refusal('evaluation.start', { request: { ...request, classifiers: ['svm'] } })).toMatch(/classifiers\[0\]/);
    expect(refusal('evaluation.start', { request: { ...request, models: [['../../etc/passwd']] } })).toMatch(/a model id/);
    expect(refusal('evaluation.start', { request: { ...request, seeds: [] } })).toMatch(/request\.seeds that is not a list of at least one/);
    expect(refusal('evaluation.start', { request: { ...request, models: [[]] } })).toMatch(/request\.models/);
    expect(refusal('evaluation.export', { format: 'pdf' })).toMatch(/format/);
  });

  it('reads photo addresses of a known kind and id only', () => {
    expect(parsePhotoPath('catalogue/12', '?size=thumb')).toEqual({ kind: 'catalogue', id: '12', size: 'thumb' });
    expect(parsePhotoPath('/query/0123456789abcdef', '')).toEqual({ kind: 'query', id: '0123456789abcdef', size: 'full' });
    for (const path of ['catalogue/../1', 'catalogue/1/2', 'catalogue/01', 'query/123', 'etc/passwd', 'catalogue/%2e%2e']) expect(parsePhotoPath(path, ''), path).toBeNull();
  });
});
