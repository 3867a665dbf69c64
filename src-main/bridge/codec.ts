/**
 * JSON for the test bridge, which must carry photo bytes and maps of 100,000 points: a
 * Uint8Array travels as {"$bytes": base64}, a Float32Array as {"$f32": base64} and an
 * Int32Array as {"$i32": base64} (little-endian, as every supported CPU is). Plain
 * JavaScript, so the Node server and the browser client share it.
 */
const CHUNK = 0x8000;

type Typed = Uint8Array | Float32Array | Int32Array;
const TAGS = { $bytes: Uint8Array, $f32: Float32Array, $i32: Int32Array } as const;
type Tag = keyof typeof TAGS;

function tagOf(v: unknown): Tag | null {
  // Float32Array and Int32Array before Uint8Array: a Buffer is a Uint8Array, never the others.
  if (v instanceof Float32Array) return '$f32';
  if (v instanceof Int32Array) return '$i32';
  return v instanceof Uint8Array ? '$bytes' : null;
}

function toBase64(array: Typed): string {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

function fromBase64(text: string, tag: Tag): Typed {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return tag === '$bytes' ? out : new TAGS[tag](out.buffer);
}

export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    const tag = tagOf(v);
    return tag ? { [tag]: toBase64(v as Typed) } : v;
  });
}

export function decode(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null) return v;
    const keys = Object.keys(v);
    const tag = keys[0] as Tag;
    const data = (v as Record<string, unknown>)[tag];
    return keys.length === 1 && Object.hasOwn(TAGS, tag) && typeof data === 'string' ? fromBase64(data, tag) : v;
  });
}
