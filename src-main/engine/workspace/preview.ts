import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ColumnRole, ImportPreview, ImportSource } from '../../contract';
import { decodeCsv, parseCsv } from '../catalogue/csv';
import type { ImportPlan } from '../catalogue/import';
import { accessionPattern, planFromFileNames, planFromFolderTree } from '../catalogue/import-folders';
import { planFromManifest } from '../catalogue/import-manifest';

const PREVIEW_ROWS = 8;
const PREVIEW_REFUSED = 200;

const MANIFEST_ROLES: Record<string, ColumnRole> = {
  image_path: 'photo', instance_id: 'accession number', subcategory: 'sub-collection', title: 'title', sha256: 'checksum',
};

/** The plan an import source yields: the same readers the CLI uses. */
export function planFrom(source: ImportSource): ImportPlan {
  switch (source.kind) {
    case 'manifest': return planFromManifest(source.path);
    case 'folder': return planFromFolderTree(source.path);
    case 'files': return planFromFileNames(source.path, source.pattern === undefined ? undefined : accessionPattern(source.pattern));
  }
}

function columnsOf(source: ImportSource): ImportPreview['columns'] {
  if (source.kind === 'manifest') {
    const [header] = parseCsv(decodeCsv(readFileSync(source.path), 'utf-8', source.path), source.path);
    return header.fields.map((name) => ({ name, role: MANIFEST_ROLES[name.trim().toLowerCase()] ?? 'metadata' }));
  }
  const id = source.kind === 'folder' ? 'object folder name' : 'file name';
  const sub: ImportPreview['columns'] = source.kind === 'folder' ? [{ name: 'parent folder name', role: 'sub-collection' }] : [];
  return [{ name: 'photo file', role: 'photo' }, { name: id, role: 'accession number' }, ...sub];
}

/** What an import would read, shown before it starts: detected columns, first rows, refused rows. */
export function previewImport(source: ImportSource): ImportPreview {
  const plan = planFrom(source);
  return {
    columns: columnsOf(source),
    rows: plan.rows.slice(0, PREVIEW_ROWS).map((r) => ({
      where: r.where, fileName: basename(r.path), instanceId: r.instanceId, subcollection: r.subcollection, title: r.title,
    })),
    rowCount: plan.rows.length,
    objectCount: new Set(plan.rows.map((r) => r.instanceId)).size,
    refused: plan.failures.slice(0, PREVIEW_REFUSED),
  };
}
