import { buildModels } from '../src-main/engine/models/build-models';

try {
  buildModels();
} catch (e) {
  console.error(`artefact-lens: ${(e as Error).message}`);
  process.exit(1);
}
