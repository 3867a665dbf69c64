import { UserError } from '../../engine/errors';
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
