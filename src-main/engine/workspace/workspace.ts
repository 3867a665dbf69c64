import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type {
  CatalogueInfo, EmbeddingStatus, Identification, ImportSource, ModelsInfo, ObjectDetail, ObjectSummary, OverlayPhoto, PhotoRequest, QueryRef,
} from '../../contract';
import { Catalogue, type ObjectRecord, type PhotoRecord } from '../catalogue/catalogue';
import { runImport } from '../catalogue/import';
import { UserError } from '../errors';
import { Describer } from '../identify/describe';
import { Identifier } from '../identify/identifier';
import { fieldDomainStatus, learnFieldDomain } from '../identify/field-domain';
import { classifierStatus } from '../identify/instance-classifier';
import { catalogueRecipe, DEFAULT_RECIPE, recipeKey, setCatalogueRecipe, storageKey, type DescriptorRecipe } from '../identify/recipe';
import type { PhotoInput } from '../inference/embed';
import type { PoolSettings } from '../inference/pool';
import type { ProviderName } from '../inference/session';
import { describeFieldPhotos, embedCatalogue } from '../jobs/embed-catalogue';
import { ProgressMeter } from '../jobs/progress';
import { DEFAULT_MODELS_DIR, installedModelFiles, listModelCards } from '../models/registry';
import { describeCalibration } from '../search/calibrate';
import type { WorkspaceHandlers } from './dispatch';
import { Evaluations } from './evaluations';
import { Explanations, overlayFile } from './explanations';
import { JobRunner, type Emit } from './jobs';
import { CatalogueMaps } from './maps';
import { screenCopy } from './photos';
import { planFrom, previewImport } from './preview';
import { QueryPhotos } from './queries';
import { RecentCatalogues } from './recent';

export interface WorkspaceOptions {
  /** Where the workspace keeps what outlives a session (the recent catalogues). */
  settingsDir: string;
  /** The models folder: models/ of the checkout, or the packaged app's resources. */
  modelsDir?: string;
  provider?: ProviderName | 'auto';
  /** Inference workers per model; default one per core. */
  workers?: number;
  /** The recipe written into catalogues this workspace creates; DEFAULT_RECIPE if absent. */
  recipe?: DescriptorRecipe;
}

/** Keeps a summary's failure list small enough to cross to the window in one message. */
const MAX_REPORTED_FAILURES = 1000;

/**
 * The app's service facade over the engine: one open catalogue, its long jobs, its query
 * photos and the models loaded for it. Plain Node: the Electron utility process and the test
 * bridge both run it, and both reach it only through `handlers` (checked by the contract).
 */
export class Workspace {
  private catalogue?: Catalogue;
  private describer?: { key: string; opening: Promise<Describer>; opened?: Describer };
  private identifier?: { describer: Describer; identifier: Identifier };
  /** What the Identify and Explore views work out from the open catalogue. */
  private analysis?: { explanations: Explanations; maps: CatalogueMaps };
  private queries = new QueryPhotos();
  /** Jobs that write to the catalogue (import, embed), and the read-only ones that run beside them. */
  private readonly jobs: JobRunner;
  private readonly occlusionJobs: JobRunner;
  private readonly mapJobs: JobRunner;
  /** Evaluations read a manifest of their own, not the open catalogue: they outlive it. */
  private readonly evaluationJobs: JobRunner;
  private readonly evaluations: Evaluations;
  private readonly recent: RecentCatalogues;

  constructor(private readonly options: WorkspaceOptions, private readonly emit: Emit) {
    const ids = { next: 1 };
    this.jobs = new JobRunner(emit, ids);
    this.occlusionJobs = new JobRunner(emit, ids);
    this.mapJobs = new JobRunner(emit, ids);
    this.evaluationJobs = new JobRunner(emit, ids);
    this.evaluations = new Evaluations(this.poolSettings());
    this.recent = new RecentCatalogues(options.settingsDir);
  }

  readonly handlers: WorkspaceHandlers = {
    'catalogue.current': () => (this.catalogue ? this.info() : null),
    'catalogue.recent': () => this.recent.list(),
    'catalogue.open': ({ path }) => this.open(path, false),
    'catalogue.create': ({ path }) => this.open(path, true),
    'catalogue.close': async () => {
      this.jobs.assertIdle('close');
      await this.closeCatalogue();
      this.emit({ name: 'catalogue.changed', payload: null });
      return null;
    },
    'catalogue.objects': (query) => {
      const { total, objects } = this.openCatalogue().listObjects(query);
      return { total, objects: objects.map((o) => this.summary(o)) };
    },
    'catalogue.object': ({ id }) => this.detail(id),
    'import.preview': ({ source }) => previewImport(source),
    'import.start': ({ source, copy }) => ({ jobId: this.startImport(source, copy ?? false) }),
    'embed.start': async () => ({ jobId: await this.startEmbedding() }),
    'classifier.train': async ({ hidden }) => ({ jobId: await this.startTraining(hidden ?? 0) }),
    'domain.learn': async ({ folder }) => ({ jobId: await this.startLearningDomain(folder) }),
    'job.cancel': ({ jobId }) => {
      for (const runner of [this.jobs, this.occlusionJobs, this.mapJobs, this.evaluationJobs]) runner.cancel(jobId);
      return null;
    },
    'query.addBytes': ({ name, bytes }) => this.queries.addBytes(name, bytes),
    'query.addFile': ({ path }) => this.queries.addFile(path),
    'identify.run': ({ photos, top }) => this.identify(photos.map((p) => ({ path: this.queries.path(p.id), crop: p.crop })), top),
    'models.list': () => this.models(),
    'explain.match': async ({ query, photoId }) => this.analysed().explanations.evidence(await this.openDescriber(), this.queryInput(query), this.cataloguePhoto(photoId)),
    'explain.occlusion': async ({ query, photoId }) => {
      const { explanations } = this.analysed();
      const [describer, photo, match] = [await this.openDescriber(), this.queryInput(query), this.cataloguePhoto(photoId)];
      return { jobId: await this.occlusionJobs.replace('occlusion', (signal, report) => explanations.occlusion(describer, photo, match, signal, report)) };
    },
    'explain.overlay': ({ photo, grid, opacity }) => overlayFile(...this.overlayPhoto(photo), grid, opacity),
    'map.start': async ({ method }) => {
      this.jobs.assertIdle('make a map');
      const { maps } = this.analysed();
      return { jobId: await this.mapJobs.replace('map', (signal, report) => maps.make(method, signal, report)) };
    },
    'map.get': ({ method }) => this.analysed().maps.get(method),
    'map.place': async ({ method, photos }) => this.analysed().maps.place(method, await this.openDescriber(), photos.map((p) => this.queryInput(p))),
    'evaluation.start': async ({ request }) => {
      this.evaluations.check(request);
      return { jobId: await this.evaluationJobs.replace('evaluation', (signal, report) => this.evaluations.run(request, signal, report)) };
    },
    'evaluation.export': ({ format }) => this.evaluations.export(format),
  };

  /** A photo for the window, found by id only: a catalogue photo of the open catalogue, or a query photo. */
  async photo(request: PhotoRequest): Promise<Buffer | null> {
    let path: string | undefined;
    if (request.kind === 'query') path = this.queries.has(request.id) ? this.queries.path(request.id) : undefined;
    else path = this.catalogue?.getPhoto(Number(request.id))?.path;
    if (!path) return null;
    return screenCopy(path, request.size).catch(() => null);
  }

  async close(): Promise<void> {
    await Promise.all([this.jobs.stop(), this.evaluationJobs.stop()]);
    await this.closeCatalogue();
  }

  private analysed(): NonNullable<Workspace['analysis']> {
    this.openCatalogue();
    return this.analysis!;
  }

  private openDescriber(): Promise<Describer> {
    return this.describerFor(catalogueRecipe(this.openCatalogue()));
  }

  private queryInput(query: QueryRef): PhotoInput {
    return { path: this.queries.path(query.id), crop: query.crop };
  }

  private cataloguePhoto(id: number): PhotoInput & { originalPath: string } {
    const photo = this.openCatalogue().getPhoto(id);
    if (!photo) throw new UserError('INVALID_ARGUMENT', 'That photo is no longer in the catalogue.', 'Identify the photo again to see the current matches.');
    return { path: photo.path, originalPath: photo.originalPath };
  }

  /** The photo an overlay is drawn on, and the name its export is saved under. */
  private overlayPhoto(photo: OverlayPhoto): [PhotoInput, string] {
    if (photo.kind === 'query') return [this.queryInput(photo), this.queries.name(photo.id)];
    const { path, originalPath } = this.cataloguePhoto(photo.id);
    return [{ path }, basename(originalPath)];
  }

  private openCatalogue(): Catalogue {
    if (!this.catalogue) {
      throw new UserError('INVALID_ARGUMENT', 'No catalogue is open.', 'Open a catalogue, or create one, from the Catalogue page.');
    }
    return this.catalogue;
  }

  private async open(path: string, create: boolean): Promise<CatalogueInfo> {
    this.jobs.assertIdle('open another catalogue');
    if (create && existsSync(path)) {
      throw new UserError('INVALID_ARGUMENT', `${path} already exists.`, 'Choose a new file name, or open the existing catalogue instead.');
    }
    const catalogue = Catalogue.open(path, { create });
    await this.closeCatalogue();
    this.catalogue = catalogue;
    this.analysis = { explanations: new Explanations(catalogue), maps: new CatalogueMaps(catalogue) };
    if (create) setCatalogueRecipe(catalogue, this.options.recipe ?? DEFAULT_RECIPE);
    this.recent.add(catalogue.path);
    const info = this.info();
    this.emit({ name: 'catalogue.changed', payload: info });
    return info;
  }

  private async closeCatalogue(): Promise<void> {
    await Promise.all([this.occlusionJobs.stop(), this.mapJobs.stop()]);
    this.analysis = undefined;
    this.identifier = undefined;
    this.catalogue?.close();
    this.catalogue = undefined;
    this.queries.clear();
    this.queries = new QueryPhotos();
    const describer = this.describer;
    this.describer = undefined;
    if (describer) await (await describer.opening).close();
  }

  private info(): CatalogueInfo {
    const catalogue = this.openCatalogue();
    const stats = catalogue.stats();
    const recipe = catalogueRecipe(catalogue);
    return {
      path: catalogue.path,
      name: basename(catalogue.path).replace(/\.(sqlite3?|db)$/i, ''),
      objects: stats.objects,
      photos: stats.photos,
      subcollections: stats.subcollections,
      embedding: embeddingStatus(recipe, stats, this.installed(catalogue)),
      classifier: classifierStatus(catalogue, recipe),
      fieldDomain: fieldDomainStatus(catalogue, recipe),
    };
  }

  private summary(o: ObjectRecord, photos?: PhotoRecord[]): ObjectSummary {
    const cover = (photos ?? this.openCatalogue().objectPhotos(o.id))[0];
    return { id: o.id, instanceId: o.instanceId, title: o.title, subcollection: o.subcollection, photoCount: o.photoCount, coverPhotoId: cover?.id ?? null };
  }

  private detail(id: number): ObjectDetail {
    const catalogue = this.openCatalogue();
    const object = catalogue.getObject(id);
    if (!object) throw new UserError('INVALID_ARGUMENT', 'That object is no longer in the catalogue.', 'Search for it again in the object list.');
    const photos = catalogue.objectPhotos(id);
    return {
      ...this.summary(object, photos),
      collection: object.collection,
      metadata: object.metadata,
      photos: photos.map((p) => ({
        id: p.id, fileName: basename(p.originalPath), originalPath: p.originalPath, width: p.width, height: p.height,
        format: p.format, addedAt: p.addedAt, metadata: p.metadata,
      })),
    };
  }

  private startImport(source: ImportSource, copy: boolean): number {
    const catalogue = this.openCatalogue();
    const plan = planFrom(source); // Read now: a bad manifest is refused as an answer, not as a job that fails.
    return this.jobs.start('import', async (signal, report) => {
      const meter = new ProgressMeter(plan.rows.length, report, 'Checking photos');
      let seen = 0;
      const summary = await runImport(catalogue, plan, {
        copy, signal, onProgress: ({ done }) => { meter.advance(done - seen); seen = done; },
      });
      return { ...summary, failed: summary.failed.slice(0, MAX_REPORTED_FAILURES) };
    }, () => this.announce());
  }

  private async startEmbedding(): Promise<number> {
    const catalogue = this.openCatalogue();
    this.jobs.assertCanStart('embed');
    const describer = await this.describerFor(catalogueRecipe(catalogue));
    return this.jobs.start('embed', async (signal, report) => {
      const summary = await embedCatalogue(catalogue, describer, { signal, onProgress: report, batchSize: 8 });
      return {
        embedded: summary.embedded,
        failed: summary.failed.slice(0, MAX_REPORTED_FAILURES).map((f) => ({ photoId: f.photoId, reason: f.reason })),
        fieldPhotos: summary.fieldPhotos ? describeFieldPhotos(summary.fieldPhotos) : null,
      };
    }, () => {
      this.announce();
      this.prepareIdentification();
    });
  }

  /** Training reads the descriptors as identification ranks them and adds the classifier to the catalogue. */
  private async startTraining(hidden: number): Promise<number> {
    const catalogue = this.openCatalogue();
    this.jobs.assertCanStart('train');
    const identifier = await this.identifierFor();
    return this.jobs.start('train', async (signal, report) => {
      const started = performance.now();
      let last = { epoch: 0, valTop1: null as number | null };
      let meter: ProgressMeter | undefined;
      const classifier = await identifier.trainClassifier({
        hidden, signal,
        onProgress: (p) => {
          // Epochs are an upper bound: training stops early once validation stops improving.
          meter ??= new ProgressMeter(p.epochs, report);
          meter.advance(p.epoch - last.epoch, `Epoch ${p.epoch}${p.valTop1 === null ? '' : `, validation top-1 ${(p.valTop1 * 100).toFixed(1)} %`}`);
          last = p;
        },
      });
      const { photos } = classifierStatus(catalogue, catalogueRecipe(catalogue))!;
      return { objects: classifier.classes, photos, epochs: last.epoch, validationTop1: last.valTop1, seconds: (performance.now() - started) / 1000 };
    }, () => this.announce());
  }

  private async startLearningDomain(folder: string): Promise<number> {
    const catalogue = this.openCatalogue();
    this.jobs.assertCanStart('domain');
    const describer = await this.describerFor(catalogueRecipe(catalogue));
    return this.jobs.start('domain', async (signal, report) => {
      const { count, failed } = await learnFieldDomain(catalogue, describer, folder, { signal, onProgress: report });
      this.identifier = undefined; // it centres on the domain it was built with
      this.prepareIdentification();
      return { photos: count, failed: failed.slice(0, MAX_REPORTED_FAILURES) };
    }, () => this.announce());
  }

  private announce(): void {
    if (this.catalogue) this.emit({ name: 'catalogue.changed', payload: this.info() });
  }

  /** The models of a recipe, loaded once and kept while the catalogue is open. */
  private describerFor(recipe: DescriptorRecipe): Promise<Describer> {
    const key = recipeKey(recipe);
    if (this.describer?.key !== key) {
      const previous = this.describer;
      const opening = (previous ? previous.opening.then((d) => d.close()) : Promise.resolve()).then(() => Describer.open(recipe, this.poolSettings()));
      const entry: NonNullable<Workspace['describer']> = { key, opening };
      opening.then((d) => { entry.opened = d; }, () => { if (this.describer === entry) this.describer = undefined; });
      this.describer = entry;
    }
    return this.describer!.opening;
  }

  /** Whether the catalogue's descriptors of a model come from the installed file (an upgrade may have changed it). */
  private installed(catalogue: Catalogue): (modelId: string) => boolean {
    const installed = installedModelFiles(this.options.modelsDir ?? DEFAULT_MODELS_DIR);
    return (id) => !catalogue.fromOtherModelFile(id, installed.get(id));
  }

  private poolSettings(): PoolSettings {
    return { provider: this.options.provider, modelsDir: this.options.modelsDir, workers: this.options.workers };
  }

  private async identify(photos: { path: string; crop?: { x: number; y: number; width: number; height: number } }[], top?: number): Promise<Identification> {
    const catalogue = this.openCatalogue();
    const recipe = catalogueRecipe(catalogue);
    if (embeddingStatus(recipe, catalogue.stats(), this.installed(catalogue)).embedded === 0) {
      throw new UserError('INVALID_ARGUMENT', 'No photo of this catalogue has been embedded yet, so there is nothing to compare with.',
        'Open the Catalogue page and press "Embed missing photos", then identify again.');
    }
    const identifier = await this.identifierFor();
    const answer = await identifier.identify(photos, { top: top ?? 10 });
    return {
      notInCatalogue: answer.notInCatalogue,
      threshold: answer.threshold,
      thresholdBasis: describeCalibration(answer.calibration),
      ranking: answer.ranking,
      logId: answer.logId,
      results: answer.results.map((r) => ({
        rank: r.rank, objectId: r.objectId, instanceId: r.instanceId, title: r.title, subcollection: r.subcategory,
        collection: r.collection, score: r.score, probability: r.probability ?? null, bestPhoto: { photoId: r.bestPhoto.photoId, score: r.bestPhoto.score },
      })),
    };
  }

  /**
   * Learns what identification needs from the new descriptors (whitening, the cross-fitted
   * threshold: minutes on a large catalogue) in the background, so the next identification
   * finds it ready or joins the work under way. A failure here shows when identifying.
   */
  private prepareIdentification(): void {
    this.identifierFor().then((identifier) => identifier.prepare()).catch(() => undefined);
  }

  /** One identifier for the open catalogue and its models: it keeps what it fitted between queries. */
  private async identifierFor(): Promise<Identifier> {
    const catalogue = this.openCatalogue();
    const describer = await this.describerFor(catalogueRecipe(catalogue));
    if (this.identifier?.describer !== describer) this.identifier = { describer, identifier: new Identifier(catalogue, describer) };
    return this.identifier.identifier;
  }

  private models(): ModelsInfo {
    const recipe = this.catalogue ? catalogueRecipe(this.catalogue) : this.options.recipe ?? DEFAULT_RECIPE;
    const inRecipe = new Set(recipe.parts.map((p) => p.model));
    const opened = this.describer?.opened?.pool(recipe.parts[0].model);
    return {
      cards: listModelCards(this.options.modelsDir ?? DEFAULT_MODELS_DIR).map((c) => ({
        id: c.id, title: c.title, description: c.description, licence: c.licence,
        source: `${c.source.package}@${c.source.version}`, embeddingDim: c.embeddingDim,
        inputSize: `${c.input.width} × ${c.input.height}`, inRecipe: inRecipe.has(c.id),
      })),
      recipe: { parts: recipe.parts.map((p) => ({ model: p.model, pooling: p.pooling })), flip: recipe.flip, postprocess: recipe.postprocess, aggregation: recipe.aggregation },
      provider: opened?.provider ?? null,
      skippedProviders: opened?.skippedProviders ?? [],
    };
  }
}

/** Photos with every descriptor the recipe needs (the fewest over its parts; none from a model file not `installed`), and those without. */
function embeddingStatus(recipe: DescriptorRecipe, stats: ReturnType<Catalogue['stats']>, installed: (modelId: string) => boolean): EmbeddingStatus {
  const counts = recipe.parts.map((p) => (installed(p.model) ? stats.embeddings.find((e) => e.modelId === p.model && e.preprocessing === storageKey(p, recipe.flip))?.count ?? 0 : 0));
  const embedded = Math.min(...counts);
  return { models: recipe.parts.map((p) => `${p.model} (${p.pooling})`), embedded, missing: stats.photos - embedded };
}
