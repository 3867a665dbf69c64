import { UserError } from '../../engine/errors';
import { Describer } from '../../engine/identify/describe';
import type { DescriptorRecipe } from '../../engine/identify/recipe';
import type { PoolSettings } from '../../engine/inference/pool';
import { PROVIDERS, type ProviderName } from '../../engine/inference/session';
import { optionalString, type OptionSpec, type OptionValues } from '../command';

/** Options of every command that runs a model. */
export const SESSION_OPTIONS: Record<string, OptionSpec> = {
  provider: { type: 'string', value: 'NAME', description: `Where models run: auto (default: best available), ${PROVIDERS.join(', ')}.` },
};

export function sessionSettings(values: OptionValues): PoolSettings {
  const provider = optionalString(values, 'provider') ?? 'auto';
  if (provider !== 'auto' && !PROVIDERS.includes(provider as ProviderName)) {
    throw new UserError('INVALID_ARGUMENT', `"${provider}" is not an execution provider.`, `Use auto or one of ${PROVIDERS.join(', ')}.`);
  }
  return { provider: provider as ProviderName | 'auto' };
}

/** Opens the models of `recipe` for the length of `work`, closing them however `work` ends. */
export async function withDescriber<T>(values: OptionValues, recipe: DescriptorRecipe, work: (describer: Describer) => Promise<T>): Promise<T> {
  const describer = await Describer.open(recipe, sessionSettings(values));
  try {
    return await work(describer);
  } finally {
    await describer.close();
  }
}
