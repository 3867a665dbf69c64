import { UserError } from '../../engine/errors';
import type { CropBox } from '../../engine/inference/image';
import { Identifier, type Identification } from '../../engine/identify/identifier';
import { catalogueRecipe } from '../../engine/identify/recipe';
import { describeCalibration } from '../../engine/search/calibrate';
import { optionalString, withCatalogue, type CliIO, type Command, type OptionValues } from '../command';
import { SESSION_OPTIONS, withDescriber } from './session-options';

function crops(values: OptionValues, photos: number): (CropBox | undefined)[] {
  const given = (values.crop as string[] | undefined) ?? [];
  if (given.length > photos) throw new UserError('INVALID_ARGUMENT', `${given.length} crop boxes for ${photos} photos.`, 'Give at most one --crop per photo, in the order of the photos.');
  return given.map((text) => {
    const [x, y, width, height] = text.split(',').map(Number);
    if ([x, y, width, height].some((v) => !Number.isFinite(v))) {
      throw new UserError('INVALID_ARGUMENT', `--crop ${text} is not four numbers.`, 'Write it as x,y,width,height in fractions of the photo, e.g. 0.1,0.2,0.5,0.6.');
    }
    return { x, y, width, height };
  });
}

const percent = (p: number) => `${Math.round(100 * p)} %`;

function printTable(answer: Identification, io: CliIO): void {
  const best = answer.results[0];
  io.out(answer.notInCatalogue
    ? `NOT IN THE CATALOGUE: the closest object scores below the catalogue's threshold (${answer.threshold.toFixed(3)}).`
    : `Best match: ${best.instanceId} (${best.probability === undefined ? '' : `probability ${percent(best.probability)}; `}score ${best.score.toFixed(3)}; threshold ${answer.threshold.toFixed(3)}).`);
  io.out(describeCalibration(answer.calibration));
  if (answer.ranking) io.out(answer.ranking);
  const byProbability = answer.results.some((r) => r.probability !== undefined);
  io.out(`rank  score  ${byProbability ? 'probability  ' : ''}accession number      sub-collection        title`);
  for (const r of answer.results) {
    const probability = byProbability ? `${percent(r.probability ?? 0).padStart(11)}  ` : '';
    io.out(`${String(r.rank).padStart(4)}  ${r.score.toFixed(3)}  ${probability}${r.instanceId.padEnd(20)}  ${(r.subcategory ?? '').padEnd(20)}  ${r.title ?? ''}`);
  }
}

export const identifyCommand: Command = {
  name: 'identify',
  summary: 'Find which catalogued object one or more photos of the same object show.',
  usage: '--db FILE [--top K] [--json] [--crop x,y,w,h …] PHOTO [PHOTO…]',
  positionals: { min: 1 },
  options: {
    db: { type: 'string', value: 'FILE', description: 'The catalogue (.sqlite), embedded with `embed`.' },
    top: { type: 'string', value: 'K', description: 'How many objects to list (default 10).' },
    json: { type: 'boolean', description: 'Print the answer as JSON.' },
    crop: { type: 'string', value: 'BOX', multiple: true, description: 'Region of the n-th photo as x,y,width,height fractions; repeat per photo.' },
    ...SESSION_OPTIONS,
  },
  async run(values, io, _signal, photos) {
    const top = Number(optionalString(values, 'top') ?? 10);
    if (!Number.isInteger(top) || top < 1) throw new UserError('INVALID_ARGUMENT', `--top ${values.top} is not a positive whole number.`, 'Give e.g. --top 5.');
    const boxes = crops(values, photos.length);
    await withCatalogue(values, {}, async (catalogue) => {
      await withDescriber(values, catalogueRecipe(catalogue), async (describer) => {
        const answer = await new Identifier(catalogue, describer).identify(photos.map((path, i) => ({ path, crop: boxes[i] })), { top });
        if (!values.json) return printTable(answer, io);
        io.out(JSON.stringify({
          notInCatalogue: answer.notInCatalogue,
          threshold: answer.threshold,
          thresholdBasis: describeCalibration(answer.calibration),
          classifier: answer.classifier,
          ensemble: answer.ensemble,
          local: answer.local,
          ranking: answer.ranking,
          results: answer.results.map((r) => ({
            rank: r.rank, instanceId: r.instanceId, score: r.score, probability: r.probability, subcategory: r.subcategory, title: r.title,
            bestPhoto: r.bestPhoto.path, bestPhotoScore: r.bestPhoto.score, collection: r.collection,
          })),
          logId: answer.logId,
        }, null, 2));
      });
    });
  },
};
