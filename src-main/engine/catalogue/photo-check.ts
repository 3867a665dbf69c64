import sharp from 'sharp';
import { UserError } from '../errors';
import { MAX_IMAGE_PIXELS, probeImage, type ImageInfo } from '../inference/image';
import { sha256File } from './hash';

export interface CheckedPhoto extends ImageInfo {
  sha256: string;
}

/**
 * The header alone does not show a photo cut short by a failed copy, so the photo is decoded once
 * (shrunk on load, which is cheap for JPEG) before the catalogue vouches for it.
 */
async function checkDecodes(path: string): Promise<void> {
  try {
    await sharp(path, { failOn: 'truncated', limitInputPixels: MAX_IMAGE_PIXELS, pages: 1 })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new UserError('IMAGE_CORRUPT', `${path} is damaged or incomplete (${reason}).`,
      'Copy the photo again from its source, or re-save it in an image editor.', { cause });
  }
}

/** Checks a photo is a readable image of acceptable size and hashes its content. */
export async function checkPhoto(path: string): Promise<CheckedPhoto> {
  const info = await probeImage(path);
  await checkDecodes(path);
  return { ...info, sha256: await sha256File(path) };
}
