/**
 * Draws up to hundreds of thousands of map points with WebGL2: one buffer of positions and
 * colours uploaded once, and a uniform transform, so panning and zooming redraw without
 * touching the points. Highlighted points are drawn again, larger and ringed, from an index buffer.
 * The buffer holds the points in a shuffled order, so any first k of them are an even sample:
 * where the graphics are slow (software WebGL), a frame in motion can draw fewer.
 */
const VERTEX = `#version 300 es
in vec2 position;
in vec4 colour;
uniform vec4 transform;
uniform float size;
out vec4 tint;
void main() {
  gl_Position = vec4(position * transform.xy + transform.zw, 0.0, 1.0);
  gl_PointSize = size;
  tint = colour;
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
in vec4 tint;
uniform float alpha;
uniform vec4 ring;
out vec4 colour;
void main() {
  vec2 p = gl_PointCoord * 2.0 - 1.0;
  float r = dot(p, p);
  if (r > 1.0) discard;
  vec4 c = ring.a > 0.0 && r > 0.5 ? vec4(ring.rgb, 1.0) : vec4(tint.rgb, tint.a * alpha);
  colour = vec4(c.rgb * c.a, c.a);
}`;

/** Bytes per point: x and y as float32, then r, g, b, a as bytes. */
const STRIDE = 12;

export interface DrawOptions {
  transform: [number, number, number, number];
  /** Point diameter in device pixels. */
  size: number;
  /** Fades the other points while some are highlighted. */
  dimmed: boolean;
  /** Ring colour of highlighted points, 0 to 1. */
  ring: [number, number, number];
}

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader) ?? 'shader');
  return shader;
}

/** A fixed shuffle (a multiplicative step coprime with n): slots of points, spread evenly. */
function shuffledSlots(n: number): Uint32Array {
  let step = Math.max(1, Math.round(n * 0.6180339887));
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(step, n) !== 1) step++;
  return Uint32Array.from({ length: n }, (_, i) => (i * step) % n);
}

export class PointRenderer {
  private readonly program: WebGLProgram;
  private readonly points: WebGLBuffer;
  private readonly highlights: WebGLBuffer;
  private readonly uniforms: Record<'transform' | 'size' | 'alpha' | 'ring', WebGLUniformLocation>;
  private count = 0;
  private highlighted = 0;
  /** Buffer slot of each point. */
  private slot: Uint32Array = new Uint32Array(0);

  /** Null where the computer offers no WebGL2. */
  static create(canvas: HTMLCanvasElement): PointRenderer | null {
    const gl = canvas.getContext('webgl2', { antialias: false, premultipliedAlpha: true, alpha: true });
    return gl ? new PointRenderer(gl) : null;
  }

  private constructor(private readonly gl: WebGL2RenderingContext) {
    this.program = gl.createProgram();
    gl.attachShader(this.program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(this.program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(this.program);
    const at = (name: string) => gl.getUniformLocation(this.program, name)!;
    this.uniforms = { transform: at('transform'), size: at('size'), alpha: at('alpha'), ring: at('ring') };
    this.points = gl.createBuffer();
    this.highlights = gl.createBuffer();
    gl.bindVertexArray(gl.createVertexArray());
    gl.bindBuffer(gl.ARRAY_BUFFER, this.points);
    const position = gl.getAttribLocation(this.program, 'position');
    const colour = gl.getAttribLocation(this.program, 'colour');
    gl.enableVertexAttribArray(position);
    gl.vertexAttribPointer(position, 2, gl.FLOAT, false, STRIDE, 0);
    gl.enableVertexAttribArray(colour);
    gl.vertexAttribPointer(colour, 4, gl.UNSIGNED_BYTE, true, STRIDE, 8);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.highlights);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
  }

  /** Positions (x, y per point) and colours (RGBA bytes per point), interleaved into the one buffer. */
  setPoints(positions: Float32Array, colours: Uint8Array): void {
    this.count = positions.length / 2;
    if (this.slot.length !== this.count) this.slot = shuffledSlots(this.count);
    const data = new ArrayBuffer(this.count * STRIDE);
    const floats = new Float32Array(data);
    const bytes = new Uint8Array(data);
    for (let i = 0; i < this.count; i++) {
      const at = this.slot[i];
      floats[at * 3] = positions[2 * i];
      floats[at * 3 + 1] = positions[2 * i + 1];
      bytes.set(colours.subarray(i * 4, i * 4 + 4), at * STRIDE + 8);
    }
    this.gl.bindBuffer(this.gl.ARRAY_BUFFER, this.points);
    this.gl.bufferData(this.gl.ARRAY_BUFFER, data, this.gl.STATIC_DRAW);
  }

  /** Points (by index) to draw again on top, ringed; call after setPoints. */
  setHighlighted(indices: Uint32Array): void {
    this.highlighted = indices.length;
    this.gl.bufferData(this.gl.ELEMENT_ARRAY_BUFFER, Uint32Array.from(indices, (i) => this.slot[i]), this.gl.STATIC_DRAW);
  }

  /** Draws `limit` points (all by default; an even sample if fewer), then the highlighted ones on top; returns how many were drawn. */
  draw({ transform, size, dimmed, ring }: DrawOptions, limit = Infinity): number {
    const { gl } = this;
    gl.viewport(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (this.count === 0) return 0;
    gl.useProgram(this.program);
    gl.uniform4fv(this.uniforms.transform, transform);
    gl.uniform1f(this.uniforms.size, size);
    gl.uniform1f(this.uniforms.alpha, dimmed && this.highlighted > 0 ? 0.35 : 0.9);
    gl.uniform4f(this.uniforms.ring, 0, 0, 0, 0);
    const drawn = Math.min(this.count, limit);
    gl.drawArrays(gl.POINTS, 0, drawn);
    if (this.highlighted > 0) {
      gl.uniform1f(this.uniforms.size, size * 2 + 4);
      gl.uniform1f(this.uniforms.alpha, 1);
      gl.uniform4f(this.uniforms.ring, ...ring, 1);
      gl.drawElements(gl.POINTS, this.highlighted, gl.UNSIGNED_INT, 0);
    }
    return drawn;
  }

  dispose(): void {
    this.gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}
