import sharp from 'sharp';
import type { PhotoSize } from '../../contract';

const LONG_SIDE: Record<PhotoSize, number> = { thumb: 320, full: 1600 };

/**
 * A photo as the window shows it: re-encoded as JPEG at screen size, so a 40-megapixel TIFF
 * from a museum's archive arrives as something small that any browser engine can draw.
 */
export async function screenCopy(path: string, size: PhotoSize): Promise<Buffer> {
  return sharp(path, { pages: 1 })
    .rotate()
    .resize(LONG_SIDE[size], LONG_SIDE[size], { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: size === 'thumb' ? 80 : 90 })
    .toBuffer();
}
