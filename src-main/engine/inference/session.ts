import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../errors';

export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';
export const PROVIDERS: readonly ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

export interface SessionSettings {
  /** 'auto' tries the platform's accelerators first and always ends with the CPU. */
  provider?: ProviderName | 'auto';
  /** Threads inside one inference (onnxruntime's intra-op pool); 0 lets onnxruntime choose. */
  threads?: number;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** Providers tried before the one that runs, with why each was passed over. */
  skipped: { provider: ProviderName; reason: string }[];
}

/** onnxruntime-node's CUDA provider is a separate download (skipped at install); look for it. */
function cudaInstalled(): boolean {
  try {
    const binding = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
    const libDir = join(binding, '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(libDir, 'libonnxruntime_providers_cuda.so')) || existsSync(join(libDir, 'onnxruntime_providers_cuda.dll'));
  } catch {
    return false;
  }
}

/**
 * WebGPU reaches the GPU through Vulkan on Linux. Without the Vulkan loader it can only fail
 * (and its native layer prints a warning on every start), so it is not tried.
 */
function vulkanLoaderInstalled(): boolean {
  const named = (dir: string) => existsSync(join(dir, 'libvulkan.so.1'));
  if ((process.env.LD_LIBRARY_PATH ?? '').split(':').some((d) => d && named(d))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some(named);
  }
}

/** Accelerators worth trying on this platform, best first; the CPU always closes the list. */
export function providerOrder(platform = process.platform): ProviderName[] {
  const order: ProviderName[] = [];
  if (cudaInstalled()) order.push('cuda');
  if (platform === 'win32') order.push('dml', 'webgpu');
  if (platform === 'darwin') order.push('coreml');
  if (platform === 'linux' && vulkanLoaderInstalled()) order.push('webgpu');
  return [...order, 'cpu'];
}

/**
 * Opens a session on the first provider that works. Providers are tried one at a time:
 * onnxruntime-node throws on a list such as ['cuda', 'cpu'] instead of falling back.
 */
export async function openSession(modelPath: string, settings: SessionSettings = {}): Promise<OpenedSession> {
  const wanted = settings.provider ?? 'auto';
  if (wanted !== 'auto' && !PROVIDERS.includes(wanted)) {
    throw new UserError('INVALID_ARGUMENT', `"${wanted}" is not an execution provider.`, `Choose auto or one of ${PROVIDERS.join(', ')}.`);
  }
  const candidates = wanted === 'auto' ? providerOrder() : [wanted];
  const skipped: OpenedSession['skipped'] = [];
  for (const provider of candidates) {
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        intraOpNumThreads: settings.threads ?? 0,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
      return { session, provider, skipped };
    } catch (e) {
      skipped.push({ provider, reason: (e as Error).message.split('\n')[0].slice(0, 300) });
    }
  }
  const last = skipped[skipped.length - 1];
  // The CPU provider is always there: when it fails, the model is at fault.
  if (wanted !== 'auto' && wanted !== 'cpu') {
    throw new UserError('PROVIDER_UNAVAILABLE', `The execution provider "${wanted}" cannot run on this computer (${last.reason}).`,
      'Choose "auto" to use the best one available.');
  }
  throw new UserError('MODEL_CORRUPT', `The model file ${modelPath} cannot be loaded (${last.reason}).`,
    'Regenerate it with `npm run models`, or copy it again from where you obtained it.');
}
