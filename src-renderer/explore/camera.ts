import type { Bounds } from './point-grid';

/** What part of the map the canvas shows: the data point at its centre and CSS pixels per data unit. */
export interface Camera {
  x: number;
  y: number;
  zoom: number;
}

export interface Viewport {
  width: number;
  height: number;
}

/** Room left around the points when the whole map is shown. */
const MARGIN = 0.06;

export function fitCamera(b: Bounds, view: Viewport): Camera {
  const spanX = b.maxX - b.minX || 1;
  const spanY = b.maxY - b.minY || 1;
  const zoom = (1 - 2 * MARGIN) * Math.min(view.width / spanX, view.height / spanY);
  return { x: (b.minX + b.maxX) / 2, y: (b.minY + b.maxY) / 2, zoom: zoom > 0 ? zoom : 1 };
}

/** Data to CSS pixels; y grows upwards on the map and downwards on the screen. */
export function toScreen(c: Camera, view: Viewport, x: number, y: number): [number, number] {
  return [view.width / 2 + (x - c.x) * c.zoom, view.height / 2 - (y - c.y) * c.zoom];
}

export function toData(c: Camera, view: Viewport, sx: number, sy: number): [number, number] {
  return [c.x + (sx - view.width / 2) / c.zoom, c.y - (sy - view.height / 2) / c.zoom];
}

/** The camera after the map was dragged by (dx, dy) CSS pixels. */
export function panned(c: Camera, dx: number, dy: number): Camera {
  return { x: c.x - dx / c.zoom, y: c.y + dy / c.zoom, zoom: c.zoom };
}

/** The camera zoomed by `factor`, keeping the data point under (sx, sy) where it is. */
export function zoomedAt(c: Camera, view: Viewport, sx: number, sy: number, factor: number): Camera {
  const [x, y] = toData(c, view, sx, sy);
  const zoom = c.zoom * factor;
  return { x: x - (sx - view.width / 2) / zoom, y: y + (sy - view.height / 2) / zoom, zoom };
}

/** The uniform a vertex shader needs: clip = data * scale + offset, as [scaleX, scaleY, offsetX, offsetY]. */
export function clipTransform(c: Camera, view: Viewport): [number, number, number, number] {
  const sx = (2 * c.zoom) / view.width;
  const sy = (2 * c.zoom) / view.height;
  return [sx, sy, -c.x * sx, -c.y * sy];
}
