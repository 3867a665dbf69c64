/**
 * Every call and event between the window (renderer) and the engine, declared once and
 * imported by both sides: the preload, the Electron main process, the test bridge and the
 * Vue app. Each call carries a runtime check of its argument, so nothing unchecked reaches
 * the engine whichever transport delivered it. Plain data only: no engine classes, no paths
 * to photos in results (photos are shown through photoUrl ids).
 */
import { UserError, type UserErrorCode } from './engine/errors';
import type { DescriptorVariant } from './engine/evaluation/descriptors';
import type { ProtocolName } from './engine/evaluation/protocols';
import type { ClassifierStatus } from './engine/identify/instance-classifier';
import { DEFAULT_RECIPE, RECIPE_FIT_ON } from './engine/identify/recipe';
import type { EvaluationReport } from './engine/evaluation/report';
import type { ClassifierKind } from './engine/evaluation/scoring';
import type { MatchExplanation } from './engine/explain/explain-match';

// ---------------------------------------------------------------- data that crosses

/** An error as the window sees it: what happened and what to do, never a stack. */
export interface ErrorData {
  code: UserErrorCode | 'INTERNAL';
  what: string;
  hint: string;
}

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export interface EmbeddingStatus {
  /** Models of the catalogue's recipe, e.g. ['mobilenet-v2-140 (mean)']. */
  models: string[];
  /** Photos that have every descriptor the recipe needs. */
  embedded: number;
  missing: number;
}

export interface CatalogueInfo {
  path: string;
  name: string;
  objects: number;
  photos: number;
  subcollections: { name: string | null; objects: number; photos: number }[];
  embedding: EmbeddingStatus;
  /** The instance classifier trained on this catalogue; null if none has been. */
  classifier: ClassifierStatus | null;
  /** Unlabelled field photos learned for centring (single-photo catalogues); null if none. */
  fieldDomain: { photos: number; folder: string } | null;
}

export interface ObjectSummary {
  id: number;
  instanceId: string;
  title: string | null;
  subcollection: string | null;
  photoCount: number;
  /** A photo to show for the object; null if it has none. */
  coverPhotoId: number | null;
}

export interface PhotoSummary {
  id: number;
  fileName: string;
  originalPath: string;
  width: number;
  height: number;
  format: string;
  addedAt: string;
  metadata: Record<string, string>;
}

export interface ObjectDetail extends ObjectSummary {
  collection: string;
  metadata: Record<string, string>;
  photos: PhotoSummary[];
}

export type ImportSource =
  | { kind: 'manifest'; path: string }
  | { kind: 'folder'; path: string }
  | { kind: 'files'; path: string; pattern?: string };

export type ColumnRole = 'photo' | 'accession number' | 'sub-collection' | 'title' | 'checksum' | 'metadata';

export interface RowFailure {
  where: string;
  code: string;
  reason: string;
}

export interface ImportPreview {
  columns: { name: string; role: ColumnRole }[];
  /** The first rows as the import will read them. */
  rows: { where: string; fileName: string; instanceId: string; subcollection: string | null; title: string | null }[];
  rowCount: number;
  objectCount: number;
  /** Rows refused while reading the source, before any photo is opened. */
  refused: RowFailure[];
}

/**
 * Imports and embeddings write to the catalogue (training and the field domain only add to it);
 * explanations and maps only read it; evaluations use a manifest of their own.
 */
export type JobKind = 'import' | 'embed' | 'train' | 'domain' | 'occlusion' | 'map' | 'evaluation';

export interface JobProgress {
  jobId: number;
  kind: JobKind;
  phase: string;
  done: number;
  total: number;
  perSecond: number;
  etaSeconds: number | null;
}

export interface ImportSummary {
  total: number;
  imported: number;
  alreadyPresent: number;
  failed: RowFailure[];
}

export interface EmbedSummary {
  embedded: number;
  failed: { photoId: number; reason: string }[];
  /** What became of field photos learned with a model file since replaced, in a sentence; null when none were. */
  fieldPhotos: string | null;
}

export interface TrainSummary {
  objects: number;
  photos: number;
  epochs: number;
  /** Top-1 on the photos held out for early stopping; null when no object has three photos. */
  validationTop1: number | null;
  seconds: number;
}

export interface DomainSummary {
  photos: number;
  /** Photos that could not be read, with why (the first 1,000). */
  failed: string[];
}

/** A thorough (occlusion) explanation. Events travel as JSON, so the map is a plain list. */
export interface OcclusionSummary {
  /** columns x rows, row-major, over the query photo (its crop, if boxed): the fall in similarity when covered. */
  map: number[];
  columns: number;
  rows: number;
  baseScore: number;
}

/** A map is fetched with map.get once made: 100,000 points do not belong in an event. */
export interface MapSummary {
  method: MapMethod;
  points: number;
  fromCache: boolean;
}

/** What the Evaluate view asks for; each entry of `models` is one backbone, or several joined into one descriptor. */
export interface EvaluationRequest {
  manifest: string;
  protocol: ProtocolName;
  minImages: number[];
  seeds: number[];
  classifiers: ClassifierKind[];
  models: string[][];
  catalogueSplits?: string[];
  querySplits?: string[];
  /** How photos become descriptors; absent: as identification computes them. */
  descriptors?: DescriptorChoice;
}

/** `recipe` pools each model as the identification recipe does (GeM for InceptionV3, mean for MobileNetV2). */
export interface DescriptorChoice {
  pooling: 'recipe' | 'mean' | 'gem';
  flip: boolean;
  postprocess: DescriptorVariant['postprocess'];
  fitOn: DescriptorVariant['fitOn'];
}

/** What identification does: the recipe's pooling, flip and post-processing, learnt as it learns them. */
export const RECIPE_DESCRIPTORS: DescriptorChoice = { pooling: 'recipe', flip: DEFAULT_RECIPE.flip, postprocess: DEFAULT_RECIPE.postprocess, fitOn: RECIPE_FIT_ON };

/**
 * An evaluation's results, averaged over the seeds (the per-seed figures are in the JSON export).
 * Open-set rows have no top-3 and beyond, so they come as openSetMeans, never as NaN.
 */
export type EvaluationSummary = Pick<EvaluationReport, 'protocol' | 'manifest' | 'dataset' | 'means' | 'openSetMeans' | 'seconds' | 'modelBytes' | 'settings'> & { seeds: number[] };

export type JobFinished =
  | { jobId: number; kind: 'import'; summary: ImportSummary }
  | { jobId: number; kind: 'embed'; summary: EmbedSummary }
  | { jobId: number; kind: 'train'; summary: TrainSummary }
  | { jobId: number; kind: 'domain'; summary: DomainSummary }
  | { jobId: number; kind: 'occlusion'; summary: OcclusionSummary }
  | { jobId: number; kind: 'map'; summary: MapSummary }
  | { jobId: number; kind: 'evaluation'; summary: EvaluationSummary }
  | { jobId: number; kind: JobKind; error: ErrorData };

/** A photo given to Identify, kept by the engine until the catalogue closes. */
export interface QueryPhoto {
  id: string;
  name: string;
  width: number;
  height: number;
}

/** A region of the photo as fractions of its width and height. */
export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Match {
  rank: number;
  objectId: number;
  instanceId: string;
  title: string | null;
  subcollection: string | null;
  collection: string;
  /** Similarity to the object, on the threshold's scale. */
  score: number;
  /** When the list is ranked by probability (classifier fusion or the models' ensemble), this object's, 0-1. */
  probability: number | null;
  /** The object's photo most like the query, and that photo's own (centred) similarity to it. */
  bestPhoto: { photoId: number; score: number };
}

export interface Identification {
  notInCatalogue: boolean;
  threshold: number;
  /** What the threshold was learned from and how it did there, as a sentence. */
  thresholdBasis: string;
  /** Why the list is in its order when that is not by score (see Match.probability); null when by score. */
  ranking: string | null;
  results: Match[];
  /** Entry in the catalogue's identification log. */
  logId: number;
}

/** A query photo as Identify sends it: by id, boxed or not. */
export interface QueryRef {
  id: string;
  crop?: CropBox;
}

/**
 * Where in both photos the evidence for a match lies, on the model's feature-map grid
 * (row-major, columns x rows): positive cells support the match, negative ones argue against it.
 * The engine's own result: plain data and typed arrays only.
 */
export type MatchEvidence = MatchExplanation;

/** A photo an overlay is drawn on. */
export type OverlayPhoto = { kind: 'query'; id: string; crop?: CropBox } | { kind: 'catalogue'; id: number };

export type MapMethod = 'pca' | 'tsne' | 'umap';

/**
 * The open catalogue's photos on a 2-D map, as compact arrays: point i is at
 * (points[2i], points[2i + 1]), shows photo photoIds[i] of object objects[objectOf[i]].
 */
export interface CatalogueMapData {
  method: MapMethod;
  points: Float32Array;
  photoIds: Int32Array;
  objectOf: Int32Array;
  objects: { id: number; instanceId: string; title: string | null; subcollection: number }[];
  /** Sub-collection names; null for objects in none. */
  subcollections: (string | null)[];
}

export interface ModelsInfo {
  cards: { id: string; title: string; description: string; licence: string; source: string; embeddingDim: number; inputSize: string; inRecipe: boolean }[];
  recipe: { parts: { model: string; pooling: string }[]; flip: boolean; postprocess: string; aggregation: string } | null;
  /** Where the models run; null until they are first loaded. */
  provider: string | null;
  skippedProviders: { provider: string; reason: string }[];
}

export type MenuCommand = 'open-catalogue' | 'new-catalogue' | 'import' | 'identify' | 'catalogue' | 'explore' | 'evaluate' | 'models';

export type DialogPurpose = 'open-catalogue' | 'new-catalogue' | 'manifest' | 'folder' | 'photos';

/** What a save dialog saves: an explanation overlay (PNG), a list of objects (CSV) or an evaluation report (HTML or JSON). */
export type SavePurpose = 'overlay' | 'objects-csv' | 'evaluation-html' | 'evaluation-json';

// ---------------------------------------------------------------- runtime checks

export type Check<T> = (value: unknown, at: string) => T;

function invalid(at: string, expected: string): UserError {
  return new UserError('INVALID_ARGUMENT', `The window sent ${at} that is not ${expected}.`,
    'This is a fault in Artefact Lens; restart it and try again.');
}

const MAX_TEXT = 4096;
export const text: Check<string> = (v, at) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT || v.includes('\0')) throw invalid(at, 'a piece of text');
  return v;
};

export function int(min: number, max: number): Check<number> {
  return (v, at) => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw invalid(at, `a whole number from ${min} to ${max}`);
    return v as number;
  };
}

export const flag: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw invalid(at, 'true or false');
  return v;
};

export const fraction: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalid(at, 'a fraction from 0 to 1');
  return v;
};

export function oneOf<T extends string>(...values: T[]): Check<T> {
  return (v, at) => {
    if (!values.includes(v as T)) throw invalid(at, `one of ${values.join(', ')}`);
    return v as T;
  };
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, at) => (v === undefined || v === null ? undefined : check(v, at));
}

export function list<T>(check: Check<T>, max: number): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v) || v.length > max) throw invalid(at, `a list of at most ${max}`);
    return v.map((item, i) => check(item, `${at}[${i}]`));
  };
}

export const finite: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(at, 'a number');
  return v;
};

/** A photo's bytes; 200 MB is more than any camera writes. */
export const bytes: Check<Uint8Array> = (v, at) => {
  if (!(v instanceof Uint8Array) || v.length === 0 || v.length > 200_000_000) throw invalid(at, 'the bytes of a file');
  return v;
};

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends ReturnType<S[K]> ? K : never }[keyof S];
type Checked<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: ReturnType<S[K]> } & { [K in OptionalKeys<S>]?: ReturnType<S[K]> };

/** An object with exactly these keys (optional ones may be absent); anything else is refused. */
export function record<S extends Shape>(shape: S): Check<Checked<S>> {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(at, 'a set of named values');
    const extra = Object.keys(v).find((k) => !(k in shape));
    if (extra !== undefined) throw invalid(`${at}.${extra}`, 'expected');
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const value = check((v as Record<string, unknown>)[key], `${at}.${key}`);
      if (value !== undefined) out[key] = value;
    }
    return out as Checked<S>;
  };
}

/** A union told apart by its `kind` field. */
export function variant<T>(checks: Record<string, Check<T>>): Check<T> {
  return (v, at) => {
    const kind = (v as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || !Object.hasOwn(checks, kind)) throw invalid(`${at}.kind`, `one of ${Object.keys(checks).join(', ')}`);
    return checks[kind](v, at);
  };
}

const none = record({});
/** Query photos are named by 16 hex digits the engine made up, never by a path. */
const queryId: Check<string> = (v, at) => {
  if (typeof v !== 'string' || !/^[0-9a-f]{16}$/.test(v)) throw invalid(at, 'a query photo id');
  return v;
};
const rowId = int(1, 2 ** 31 - 1);
const cropBox: Check<CropBox> = (v, at) => {
  const box = record({ x: fraction, y: fraction, width: fraction, height: fraction })(v, at);
  if (box.width < 0.01 || box.height < 0.01 || box.x + box.width > 1.0001 || box.y + box.height > 1.0001) throw invalid(at, 'a box inside the photo');
  return box;
};
const queryRef: Check<QueryRef> = record({ id: queryId, crop: optional(cropBox) });
const mapMethod = oneOf<MapMethod>('pca', 'tsne', 'umap');
const MAX_GRID = 64;
const modelId: Check<string> = (v, at) => {
  if (typeof v !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,99}$/.test(v)) throw invalid(at, 'a model id');
  return v;
};
const evaluationRequest: Check<EvaluationRequest> = (v, at) => {
  const request = record({
    manifest: text,
    protocol: oneOf<ProtocolName>('paper', 'field', 'open'),
    minImages: list(int(1, 1000), 20),
    seeds: list(int(0, 1_000_000), 100),
    classifiers: list(oneOf<ClassifierKind>('knn', 'prototype', 'linear'), 3),
    models: list(list(modelId, 8), 16),
    catalogueSplits: optional(list(text, 20)),
    querySplits: optional(list(text, 20)),
    descriptors: optional(record({
      pooling: oneOf('recipe', 'mean', 'gem'),
      flip: flag,
      postprocess: oneOf('none', 'centre', 'whiten'),
      fitOn: oneOf('catalogue', 'catalogue+prototypes', 'queries'),
    })),
  })(v, at);
  for (const key of ['minImages', 'seeds', 'classifiers', 'models'] as const) if (request[key].length === 0) throw invalid(`${at}.${key}`, 'a list of at least one');
  if (request.models.some((m) => m.length === 0)) throw invalid(`${at}.models`, 'a list of models for each entry');
  return request;
};
/** An evidence map to draw: columns x rows finite values. */
const gridMap: Check<{ map: number[]; columns: number; rows: number }> = (v, at) => {
  const grid = record({ map: list(finite, MAX_GRID * MAX_GRID), columns: int(1, MAX_GRID), rows: int(1, MAX_GRID) })(v, at);
  if (grid.map.length !== grid.columns * grid.rows) throw invalid(`${at}.map`, `a list of ${grid.columns} x ${grid.rows} values`);
  return grid;
};
const overlayPhoto: Check<OverlayPhoto> = variant<OverlayPhoto>({
  query: record({ kind: oneOf('query'), id: queryId, crop: optional(cropBox) }),
  catalogue: record({ kind: oneOf('catalogue'), id: rowId }),
});
const importSource: Check<ImportSource> = variant<ImportSource>({
  manifest: record({ kind: oneOf('manifest'), path: text }),
  folder: record({ kind: oneOf('folder'), path: text }),
  files: record({ kind: oneOf('files'), path: text, pattern: optional(text) }),
});

// ---------------------------------------------------------------- the calls

interface CallSpec<A, R> {
  args: Check<A>;
  /** Never set: carries the result type. */
  result?: R;
}

const returns = <R>() => <A>(args: Check<A>): CallSpec<A, R> => ({ args });

export const CALLS = {
  'catalogue.current': returns<CatalogueInfo | null>()(none),
  'catalogue.recent': returns<string[]>()(none),
  'catalogue.open': returns<CatalogueInfo>()(record({ path: text })),
  'catalogue.create': returns<CatalogueInfo>()(record({ path: text })),
  'catalogue.close': returns<null>()(none),
  'catalogue.objects': returns<{ total: number; objects: ObjectSummary[] }>()(record({
    search: optional(text), subcollection: optional(text), offset: int(0, 2 ** 31 - 1), limit: int(1, 500),
  })),
  'catalogue.object': returns<ObjectDetail>()(record({ id: rowId })),
  'import.preview': returns<ImportPreview>()(record({ source: importSource })),
  'import.start': returns<{ jobId: number }>()(record({ source: importSource, copy: optional(flag) })),
  'embed.start': returns<{ jobId: number }>()(none),
  /** Trains the open catalogue's instance classifier (the paper's method): a job whose summary is a TrainSummary. */
  'classifier.train': returns<{ jobId: number }>()(record({ hidden: optional(int(0, 4096)) })),
  /** Learns the field domain from a folder of unlabelled photos taken the way queries are: a job whose summary is a DomainSummary. */
  'domain.learn': returns<{ jobId: number }>()(record({ folder: text })),
  'job.cancel': returns<null>()(record({ jobId: rowId })),
  'query.addBytes': returns<QueryPhoto>()(record({ name: text, bytes })),
  'query.addFile': returns<QueryPhoto>()(record({ path: text })),
  'identify.run': returns<Identification>()(record({
    photos: list(queryRef, 20), top: optional(int(1, 50)),
  })),
  'models.list': returns<ModelsInfo>()(none),
  /** Evidence maps for both photos of a match, from one forward pass of each. */
  'explain.match': returns<MatchEvidence>()(record({ query: queryRef, photoId: rowId })),
  /** The thorough explanation: a job whose summary is an OcclusionSummary; starting another cancels it. */
  'explain.occlusion': returns<{ jobId: number }>()(record({ query: queryRef, photoId: rowId })),
  /** A map drawn over a photo as the export saves it: PNG bytes. */
  'explain.overlay': returns<{ png: Uint8Array; fileName: string }>()(record({ photo: overlayPhoto, grid: gridMap, opacity: fraction })),
  /** Makes (or reads back) the catalogue's map: a job whose summary is a MapSummary; starting another cancels it. */
  'map.start': returns<{ jobId: number }>()(record({ method: mapMethod })),
  /** The map made last for this method and the catalogue as it is now; null if there is none. */
  'map.get': returns<CatalogueMapData | null>()(record({ method: mapMethod })),
  /** Where query photos fall on that map: n x 2 values. */
  'map.place': returns<Float32Array>()(record({ method: mapMethod, photos: list(queryRef, 20) })),
  /** Measures accuracy on a labelled manifest: a job whose summary is an EvaluationSummary; starting another cancels it. */
  'evaluation.start': returns<{ jobId: number }>()(record({ request: evaluationRequest })),
  /** The last evaluation's report as a self-contained HTML page or as JSON with every figure. */
  'evaluation.export': returns<{ bytes: Uint8Array; fileName: string }>()(record({ format: oneOf('html', 'json') })),
  /** A native file dialog; only the desktop app has one. */
  'dialog.open': returns<string[] | null>()(record({ purpose: oneOf<DialogPurpose>('open-catalogue', 'new-catalogue', 'manifest', 'folder', 'photos') })),
  /** A native save dialog, then the bytes written where the person chose; the path, or null if cancelled. Desktop app only. */
  'dialog.save': returns<string | null>()(record({ purpose: oneOf<SavePurpose>('overlay', 'objects-csv', 'evaluation-html', 'evaluation-json'), fileName: text, bytes })),
} satisfies Record<string, CallSpec<unknown, unknown>>;

export type CallName = keyof typeof CALLS;
export type CallArgs<K extends CallName> = ReturnType<(typeof CALLS)[K]['args']>;
export type CallResult<K extends CallName> = Exclude<(typeof CALLS)[K]['result'], undefined>;

export interface Events {
  'job.progress': JobProgress;
  'job.finished': JobFinished;
  'catalogue.changed': CatalogueInfo | null;
  'menu.command': { command: MenuCommand };
}
export type EventName = keyof Events;
export interface EventMessage<K extends EventName = EventName> {
  name: K;
  payload: Events[K];
}
export const EVENT_NAMES: readonly EventName[] = ['job.progress', 'job.finished', 'catalogue.changed', 'menu.command'];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(CALLS, name);
}

/** The one gate every transport passes a call through before it reaches the engine. */
export function checkCall(name: unknown, args: unknown): { name: CallName; args: unknown } {
  if (!isCallName(name)) {
    throw new UserError('INVALID_ARGUMENT', `The window asked for "${String(name)}", which Artefact Lens does not offer.`,
      'This is a fault in Artefact Lens; restart it and try again.');
  }
  return { name, args: CALLS[name].args(args ?? {}, name) };
}

/** What the preload exposes as window.lens, and what the bridge client imitates. */
export interface LensTransport {
  call(name: CallName, args: unknown): Promise<Envelope<unknown>>;
  on(listener: (message: EventMessage) => void): () => void;
  /** An address the window can show a catalogue photo or a query photo from. */
  photoUrl(kind: PhotoKind, id: number | string, size: PhotoSize): string;
  /** The path of a dropped file, where the desktop app can tell it. */
  pathForFile?(file: unknown): string | null;
  readonly hasDialogs: boolean;
}

// ---------------------------------------------------------------- photos

export type PhotoKind = 'catalogue' | 'query';
export type PhotoSize = 'thumb' | 'full';
export interface PhotoRequest {
  kind: PhotoKind;
  id: string;
  size: PhotoSize;
}

/**
 * Reads `<kind>/<id>?size=` from a photo address (lens-photo://catalogue/12?size=thumb or
 * /photo/catalogue/12 on the bridge). Anything else, a path or a traversal included, is null.
 */
export function parsePhotoPath(pathname: string, search: string): PhotoRequest | null {
  const match = /^\/?(catalogue|query)\/([0-9a-f]{1,16})$/.exec(pathname);
  if (!match) return null;
  const [, kind, id] = match;
  if (kind === 'catalogue' && !/^[1-9]\d{0,9}$/.test(id)) return null;
  if (kind === 'query' && id.length !== 16) return null;
  const size = new URLSearchParams(search).get('size') ?? 'full';
  if (size !== 'thumb' && size !== 'full') return null;
  return { kind: kind as PhotoKind, id, size };
}

/**
 * The window's Content-Security-Policy, sent as a header by the desktop app's protocol and the
 * bridge, and written into index.html: only the app's own scripts and styles, photos only
 * through the photo protocol, no other address at all.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' lens-photo: blob:",
  "connect-src 'self'", "font-src 'self'", "base-uri 'none'", "form-action 'none'",
].join('; ');
