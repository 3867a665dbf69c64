/**
 * JSON for the test bridge, which must carry photo bytes: a Uint8Array travels as
 * {"$bytes": base64}. Plain JavaScript, so the Node server and the browser client share it.
 */
const CHUNK = 0x8000;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? { $bytes: toBase64(v) } : v));
}

export function decode(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    const b = (v as { $bytes?: unknown } | null)?.$bytes;
    return typeof b === 'string' && Object.keys(v as object).length === 1 ? fromBase64(b) : v;
  });
}
