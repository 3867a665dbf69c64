import { reactive } from 'vue';
import type { CatalogueInfo, CropBox, Identification, JobFinished, JobKind, JobProgress, MenuCommand, QueryPhoto } from '../src-main/contract';
import { call, on } from './api/client';

export type View = 'identify' | 'catalogue' | 'explore' | 'evaluate' | 'models';

/** A photo given to Identify, boxed or not. */
export interface QueryEntry {
  photo: QueryPhoto;
  crop: CropBox | null;
}

/** What every view shares: the open catalogue, the running job, and where the person is. */
export const app = reactive({
  view: 'identify' as View,
  catalogue: null as CatalogueInfo | null,
  recent: [] as string[],
  progress: null as JobProgress | null,
  finished: null as JobFinished | null,
  /** An object to show on the Catalogue page (from a match). */
  objectId: null as number | null,
  /** The last menu command that asks a view to do something (open, create, import). */
  request: null as { command: MenuCommand; at: number } | null,
  /** Identify's photos and its answer: Explore puts them on the map. */
  query: { photos: [] as QueryEntry[], answer: null as Identification | null },
});

const VIEW_OF: Partial<Record<MenuCommand, View>> = { identify: 'identify', catalogue: 'catalogue', explore: 'explore', evaluate: 'evaluate', models: 'models' };
/** The jobs that write to the catalogue, which the sidebar and the Catalogue page follow; the views follow their own. */
const writes = (kind: JobKind) => kind === 'import' || kind === 'embed';

export async function startApp(): Promise<void> {
  on('catalogue.changed', (info) => {
    app.catalogue = info;
    void call('catalogue.recent', {}).then((r) => { app.recent = r; });
  });
  on('job.progress', (p) => { if (writes(p.kind)) app.progress = p; });
  on('job.finished', (f) => {
    if (!writes(f.kind)) return;
    app.progress = null;
    app.finished = f;
  });
  on('menu.command', ({ command }) => {
    app.view = VIEW_OF[command] ?? 'catalogue';
    app.request = { command, at: Date.now() };
  });
  [app.catalogue, app.recent] = await Promise.all([call('catalogue.current', {}), call('catalogue.recent', {})]);
}

export function showObject(id: number): void {
  app.objectId = id;
  app.view = 'catalogue';
}
