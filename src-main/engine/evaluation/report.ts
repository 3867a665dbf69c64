import type { EvaluationResult, RunResult } from './protocols';

/** Everything the JSON and HTML reports carry besides the results. */
export interface EvaluationReport extends EvaluationResult {
  manifest: string;
  dataset: { photos: number; objects: number; unreadable: number };
  settings: Record<string, unknown>;
  /** Bytes of each model file (Fig. 5's x axis). */
  modelBytes: Record<string, number>;
  seconds: number;
}

type Mean = Omit<RunResult, 'seed'>;

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}` : '–');
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' } as Record<string, string>)[c]};`);
const COLOURS = ['#1b6ca8', '#d1495b', '#3f8f4f', '#edae49', '#6c4f9c', '#00798c'];

function table({ head, rows }: TextTable): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export const thresholdLabel = (m: { minImages: number | null }) => (m.minImages === null ? 'all' : `≥${m.minImages}`);

/** A table as text cells: what the HTML report and the Evaluate view both show. */
export interface TextTable {
  head: string[];
  rows: string[][];
}

/** Table 3: top-k per threshold, classifier and model. */
export function topKTable(means: readonly Mean[]): TextTable {
  return {
    head: ['photos per object', 'classifier', 'model', 'top-1', 'top-3', 'top-5', 'top-10', 'test photos', 'unseen'],
    rows: means.map((m) => [thresholdLabel(m), m.classifier, m.model, pct(m.overall.top1), pct(m.overall.top3), pct(m.overall.top5), pct(m.overall.top10), m.overall.n.toFixed(0), m.unseen.toFixed(1)]),
  };
}

/** Table 4: top-1 per sub-collection for each classifier and model, at the lowest threshold. */
export function subcollectionTable(means: readonly Mean[]): TextTable {
  const first = means.filter((m) => m.minImages === means[0]?.minImages);
  const groups = [...new Set(first.flatMap((m) => Object.keys(m.bySubcollection)))].sort();
  return {
    head: ['sub-collection', 'photos', ...first.map((m) => `${m.classifier} ${m.model}`)],
    rows: groups.map((g) => [g, (first[0]!.bySubcollection[g]?.n ?? 0).toFixed(0), ...first.map((m) => pct(m.bySubcollection[g]?.top1 ?? NaN))]),
  };
}

export interface Series {
  label: string;
  points: { x: number; y: number; label?: string }[];
}

/** A self-contained SVG line (or scatter) chart, y in percent. */
function chart(title: string, xLabel: string, series: Series[], options: { xTicks: { x: number; label: string }[]; lines: boolean }): string {
  const [w, h, left, bottom, top, right] = [560, 300, 50, 40, 30, 150];
  const xs = options.xTicks.map((t) => t.x);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const y0 = Math.max(0, Math.floor(Math.min(...ys, 100) / 10) * 10 - 10);
  const px = (x: number) => left + ((x - x0) / Math.max(x1 - x0, 1e-9)) * (w - left - right);
  const py = (y: number) => h - bottom - ((y - y0) / (100 - y0)) * (h - bottom - top);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => y0 + f * (100 - y0)).map((y) =>
    `<line x1="${left}" x2="${w - right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/><text x="${left - 6}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(0)}</text>`).join('');
  const ticks = options.xTicks.map((t) => `<text x="${px(t.x)}" y="${h - bottom + 16}" text-anchor="middle">${esc(t.label)}</text>`).join('');
  const drawn = series.map((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const path = options.lines && s.points.length > 1 ? `<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>` : '';
    const dots = s.points.map((p) => `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="4" fill="${c}"><title>${esc(s.label)}: ${p.y.toFixed(1)} %</title></circle>`).join('');
    const legend = `<rect x="${w - right + 10}" y="${top + i * 18}" width="10" height="10" fill="${c}"/><text x="${w - right + 26}" y="${top + i * 18 + 9}">${esc(s.label)}</text>`;
    return path + dots + legend;
  }).join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-size="11" font-family="sans-serif">
<text x="${left}" y="16" font-weight="bold">${esc(title)}</text>${grid}${ticks}
<text x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle">${esc(xLabel)}</text>${drawn}</svg></figure>`;
}

/** The best (classifier, model) at the lowest threshold: the one Fig. 4 follows. */
function headline(means: readonly Mean[]): Mean | undefined {
  const first = means.filter((m) => m.minImages === means[0]?.minImages);
  return [...first].sort((a, b) => b.overall.top1 - a.overall.top1)[0];
}

export const PHOTO_BUCKETS = ['3', '4', '5', '6', '7', '8', '9', '10+'] as const;

/** Fig. 4's data: top-1 (in %) by photos per object of the best (classifier, model), one line per threshold; x indexes PHOTO_BUCKETS. */
export function photosSeries(means: readonly Mean[]): { classifier: string; model: string; lines: Series[] } | null {
  const best = headline(means);
  if (!best) return null;
  const lines = means.filter((m) => m.classifier === best.classifier && m.model === best.model).map((m) => ({
    label: `${thresholdLabel(m)} photos`,
    points: PHOTO_BUCKETS.flatMap((b, x) => (m.byPhotos[b] ? [{ x, y: 100 * m.byPhotos[b].top1 }] : [])),
  }));
  return { classifier: best.classifier, model: best.model, lines };
}

/** Fig. 4: top-1 by photos per object, one line per threshold. */
function photosChart(means: readonly Mean[]): string {
  const series = photosSeries(means);
  if (!series) return '';
  return chart(`Top-1 by photos per object (${series.classifier}, ${series.model})`, 'photos of the object', series.lines,
    { xTicks: PHOTO_BUCKETS.map((label, x) => ({ x, label })), lines: true });
}

/** Fig. 5's data at the lowest threshold: MB of model files per model entry (joined models and ensembles count every file). */
function modelSizes(means: readonly Mean[], modelBytes: Record<string, number>): { first: Mean[]; models: string[]; sizeOf: (model: string) => number } {
  const first = means.filter((m) => m.minImages === means[0]?.minImages);
  const models = [...new Set(first.map((m) => m.model))];
  const singles = models.filter((m) => m !== 'ensemble' && !m.includes('+'));
  const sizeOf = (model: string) => (model === 'ensemble' ? singles : model.split('+')).reduce((s, m) => s + (modelBytes[m] ?? 0), 0) / 1e6;
  return { first, models, sizeOf };
}

/** Megabytes to read: the colour histogram's model is a couple of kilobytes, the backbones several MB. */
const megabytes = (x: number) => (x < 0.1 ? x.toPrecision(1) : x.toFixed(1));

/** Fig. 5 as a table: each model entry's size and its top-1 with each classifier. */
export function sizeTable(means: readonly Mean[], modelBytes: Record<string, number>): TextTable {
  const { first, models, sizeOf } = modelSizes(means, modelBytes);
  const classifiers = [...new Set(first.map((m) => m.classifier))];
  const top1 = (model: string, c: string) => first.find((m) => m.model === model && m.classifier === c)?.overall.top1 ?? NaN;
  return {
    head: ['model', 'MB', ...classifiers.map((c) => `top-1 ${c}`)],
    rows: [...models].sort((a, b) => sizeOf(a) - sizeOf(b)).map((m) => [m, megabytes(sizeOf(m)), ...classifiers.map((c) => pct(top1(m, c)))]),
  };
}

/** Fig. 5: top-1 against model size (MB on disk). */
function sizeChart(means: readonly Mean[], modelBytes: Record<string, number>): string {
  const { first, sizeOf } = modelSizes(means, modelBytes);
  const classifiers = [...new Set(first.map((m) => m.classifier))];
  const series = classifiers.map((c) => ({ label: c, points: first.filter((m) => m.classifier === c).map((m) => ({ x: sizeOf(m.model), y: 100 * m.overall.top1 })) }));
  const sizes = [...new Set(first.map((m) => sizeOf(m.model)))].sort((a, b) => a - b);
  return chart('Top-1 against model size', 'MB of model files', series, { xTicks: sizes.map((x) => ({ x, label: megabytes(x) })), lines: false })
    + table(sizeTable(means, modelBytes));
}

/** The open set: how often photos of objects not in the catalogue are answered "not in the catalogue". */
export function openSetTable(openSetMeans: EvaluationReport['openSetMeans']): TextTable {
  return {
    head: ['model', 'threshold', 'basis', 'unknown rejected', 'known answered', 'known correct & answered', 'known top-1 (no threshold)', 'unknown rejected at 95 % known', 'known / unknown photos'],
    rows: openSetMeans.map((o) => [o.model, o.threshold.toFixed(3), o.calibrationBasis, pct(o.unknownRejected), pct(o.knownAnswered), pct(o.knownCorrectAnswered), pct(o.knownTop1), pct(o.unknownRejectedAt95), `${o.knownQueries.toFixed(0)} / ${o.unknownQueries.toFixed(0)}`]),
  };
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:70em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}`;

/** One self-contained HTML file: inline CSS and SVG, nothing fetched. */
export function renderHtmlReport(report: EvaluationReport): string {
  const closed = report.means.length > 0;
  const sections = [
    `<h1>Artefact Lens evaluation: ${esc(report.protocol)} protocol</h1>`,
    `<p>${esc(report.manifest)}: ${report.dataset.objects} objects, ${report.dataset.photos} photos${report.dataset.unreadable ? ` (${report.dataset.unreadable} unreadable)` : ''}. Accuracies in %, mean over seeds ${esc(String(report.settings.seeds))}. ${esc(String(report.settings.descriptors))}.</p>`,
    closed ? `<h2>Accuracy by model and classifier (cf. the paper's Table 3)</h2>${table(topKTable(report.means))}` : '',
    closed ? `<h2>Top-1 by sub-collection (cf. Table 4)</h2>${table(subcollectionTable(report.means))}` : '',
    closed ? `<h2>Accuracy by photos per object (cf. Fig. 4)</h2>${photosChart(report.means)}` : '',
    closed ? `<h2>Accuracy against model size (cf. Fig. 5)</h2>${sizeChart(report.means, report.modelBytes)}` : '',
    report.openSetMeans.length > 0 ? `<h2>Open set: objects not in the catalogue</h2>${table(openSetTable(report.openSetMeans))}` : '',
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Artefact Lens evaluation</title><style>${STYLE}</style></head><body>${sections.join('\n')}</body></html>\n`;
}

/** Plain-text table of the summary for the terminal. */
export function summaryText(report: EvaluationReport): string {
  const lines = report.summary.map((s) => `${String(s.minImages ?? '').padStart(4)}  ${s.classifier.padEnd(9)}  ${s.model.padEnd(36)}  ${[s.top1, s.top3, s.top5, s.top10].map((v) => pct(v).padStart(5)).join(' ')}  ${String(Math.round(s.nTest)).padStart(5)}`);
  const open = report.openSetMeans.map((o) => `open set ${o.model}: ${pct(o.unknownRejected)} % of unknown objects' photos rejected, ${pct(o.knownAnswered)} % of known answered (threshold ${o.threshold.toFixed(3)}); at 95 % known answered ${pct(o.unknownRejectedAt95)} % rejected`);
  return [' min  classifier model                                 top-1 top-3 top-5 top10  tests', ...lines, ...open, `Descriptors: ${report.settings.descriptors}.`].join('\n');
}

