import {
  Color,
  type ColorRepresentation,
  DataTexture,
  FloatType,
  GLSL3,
  Mesh,
  NearestFilter,
  PlaneGeometry,
  RawShaderMaterial,
  RGBAFormat,
  ShaderMaterial,
  SRGBColorSpace,
  type Texture,
  type WebGLRenderer,
  WebGLRenderTarget,
} from 'three';
import { FullScreenQuad } from 'three/examples/jsm/postprocessing/Pass.js';
import { DoublePendulum, type DoublePendulumParams } from '../../src/index.js';
import {
  bobsFragment,
  copyFragment,
  fieldFragment,
  fieldVertex,
  mapColorFragment,
  mapFragment,
  rk4Fragment,
} from './fieldShaders.js';

/** Options of {@link DoublePendulumField}. */
export interface DoublePendulumFieldOptions {
  /** Number of pendulums (1 … the square of the GPU's largest texture side). */
  count: number;
  /** Parameters of every pendulum (see `DoublePendulum`). @default the system's defaults */
  params?: Partial<DoublePendulumParams>;
  /** Start angles `[count * 2]` (θ1, θ2 per pendulum, from hanging straight down). @default all 0 */
  q0?: ArrayLike<number>;
  /** Start angular velocities `[count * 2]`. @default all 0 */
  qd0?: ArrayLike<number>;
  /** Width and height of the field's plane in world units. @default 16 × 9 */
  width?: number;
  height?: number;
  /** Cells per row. @default the count that makes cells about square on the plane */
  columns?: number;
  /**
   * How each cell shows its pendulum: `figures` draws the two rods and bobs (readable from about 10
   * pixels per cell), `map` fills the cell with one colour from the angles — hue from θ1 around the
   * colour wheel, brightness from (1 − cos θ2) / 2 — which stays legible down to one pixel per pendulum
   * and costs one texture read per pixel.
   * @default 'figures' up to 10,000 pendulums, 'map' above
   */
  style?: 'figures' | 'map';
  /** Colours of the drawing. */
  colors?: {
    background?: ColorRepresentation;
    rod?: ColorRepresentation;
    bob1?: ColorRepresentation;
    bob2?: ColorRepresentation;
  };
}

/** Angles and angular velocities read back from the GPU (float32 values, widened). */
export interface FieldState {
  /** `[count * 2]` angles, wrapped to [−π, π). */
  q: Float64Array;
  /** `[count * 2]` angular velocities. */
  qd: Float64Array;
}

/** Float32 RGBA render target of `w × h` texels, sampled texel for texel. */
function floatTarget(w: number, h: number): WebGLRenderTarget {
  return new WebGLRenderTarget(w, h, {
    type: FloatType,
    format: RGBAFormat,
    minFilter: NearestFilter,
    magFilter: NearestFilter,
    depthBuffer: false,
    generateMipmaps: false,
  });
}

function pass(fragmentShader: string, uniforms: Record<string, { value: unknown }>): RawShaderMaterial {
  return new RawShaderMaterial({
    glslVersion: GLSL3,
    uniforms,
    vertexShader: /* glsl */ `
      in vec3 position;
      void main() { gl_Position = vec4(position.xy, 0.0, 1.0); }
    `,
    fragmentShader,
    depthTest: false,
    depthWrite: false,
  });
}

/**
 * Many exact double pendulums stepped and drawn entirely on the GPU: the state of every pendulum lives
 * in a float32 texture, one fragment-shader pass per step advances all of them with classic RK4 on the
 * closed-form equations of motion, a second pass turns angles into what is drawn (bob positions, or
 * one colour per pendulum), and {@link mesh} — a plane to add to any scene — shows each pendulum in its
 * own cell straight from that texture (see {@link DoublePendulumFieldOptions.style}). Nothing is read back unless asked ({@link readState}), so the CPU cost per frame does
 * not grow with the count.
 *
 * This is the large-count path for the exact engine in a browser (tens of thousands to a million
 * pendulums); it computes in float32, where the CPU engines compute in float64, and wraps angles to
 * [−π, π) after every step. For a few systems, learned engines, events or recording, use `LNNPhysics`.
 * @example
 * const field = new DoublePendulumField(renderer, { count: 100_000, q0 });
 * scene.add(field.mesh);
 * renderer.setAnimationLoop(() => { field.step(1 / 60); renderer.render(scene, camera); });
 */
export class DoublePendulumField {
  /** The plane that shows the field (centred on the origin, in the xy plane). */
  readonly mesh: Mesh<PlaneGeometry, ShaderMaterial>;
  readonly count: number;
  readonly columns: number;
  readonly rows: number;
  /** How cells are drawn (see {@link DoublePendulumFieldOptions.style}). */
  readonly style: 'figures' | 'map';
  /** The pendulums' parameters (validated by `DoublePendulum`). */
  readonly system: DoublePendulum;
  /** Simulated time (s) since the last {@link setState}. */
  time = 0;
  private readonly renderer: WebGLRenderer;
  private readonly states: [WebGLRenderTarget, WebGLRenderTarget];
  private current = 0;
  /** What the mesh reads: bob positions (`figures`) or cell colours (`map`), updated after each step. */
  private readonly drawn: WebGLRenderTarget;
  private readonly rk4: RawShaderMaterial;
  private readonly drawPass: RawShaderMaterial;
  private readonly copy: RawShaderMaterial;
  private readonly quad: FullScreenQuad;
  private readonly scratch: Float32Array;
  private disposed = false;
  /** The last state known on the CPU (set or read back) and its time: what a lost context restores. */
  private checkpoint: { q: Float64Array; qd: Float64Array; time: number };
  private lost = false;
  private readonly canvas: HTMLCanvasElement | OffscreenCanvas;
  private readonly onLost = () => {
    this.lost = true;
  };
  private readonly onRestored = () => {
    this.lost = false;
    const { q, qd, time } = this.checkpoint;
    this.setState(q, qd);
    this.time = time;
    this.checkpoint.time = time;
    this.restoredFrom = time;
  };
  /**
   * After the WebGL context was lost and restored: the simulated time of the checkpoint the field went
   * back to (the last {@link setState} or {@link readState}); null while that never happened.
   */
  restoredFrom: number | null = null;

  /**
   * @throws Error for a bad count or start state, or a renderer without float32 render targets
   */
  constructor(renderer: WebGLRenderer, options: DoublePendulumFieldOptions) {
    const { count } = options;
    const maxSide = renderer.capabilities.maxTextureSize;
    if (!Number.isInteger(count) || count < 1 || count > maxSide * maxSide) {
      throw new Error(
        `DoublePendulumField: count must be an integer from 1 to ${maxSide * maxSide} (this GPU's largest texture, ${maxSide}², holds one pendulum per texel); got ${count}.`,
      );
    }
    if (renderer.getContext().isContextLost()) {
      throw new Error(
        'DoublePendulumField: the WebGL context is lost; create the field after it is restored.',
      );
    }
    if (!renderer.capabilities.isWebGL2 || !renderer.extensions.has('EXT_color_buffer_float')) {
      throw new Error(
        'DoublePendulumField needs WebGL2 with float32 render targets (EXT_color_buffer_float); step the pendulums on the CPU with LNNPhysics instead.',
      );
    }
    this.renderer = renderer;
    this.count = count;
    this.system = new DoublePendulum(options.params ?? {});
    const width = options.width ?? 16;
    const height = options.height ?? 9;
    if (!(width > 0 && height > 0)) {
      throw new Error(`DoublePendulumField: width and height must be positive; got ${width} × ${height}.`);
    }
    // Texels form the same grid as the cells, so a cell finds its pendulum without index arithmetic.
    const columns = options.columns ?? Math.max(1, Math.round(Math.sqrt((count * width) / height)));
    if (!Number.isInteger(columns) || columns < 1 || columns > maxSide) {
      throw new Error(
        `DoublePendulumField: columns must be an integer from 1 to ${maxSide}; got ${columns}.`,
      );
    }
    const rows = Math.ceil(count / columns);
    if (rows > maxSide) {
      throw new Error(
        `DoublePendulumField: ${count} pendulums in ${columns} columns need ${rows} rows, more than this GPU's ${maxSide}; give more columns.`,
      );
    }
    this.columns = columns;
    this.rows = rows;
    this.states = [floatTarget(columns, rows), floatTarget(columns, rows)];
    this.style = options.style ?? (count <= 10_000 ? 'figures' : 'map');
    if (this.style !== 'figures' && this.style !== 'map') {
      throw new Error(`DoublePendulumField: style must be 'figures' or 'map'; got '${String(this.style)}'.`);
    }
    const c = options.colors ?? {};
    const background = new Color(c.background ?? 0x111111);
    this.drawn =
      this.style === 'figures'
        ? floatTarget(columns, rows)
        : new WebGLRenderTarget(columns, rows, {
            minFilter: NearestFilter,
            magFilter: NearestFilter,
            depthBuffer: false,
            generateMipmaps: false,
          });
    this.scratch = new Float32Array(4 * columns * rows);
    const p = this.system.params;
    this.rk4 = pass(rk4Fragment, {
      state: { value: null },
      dt: { value: 0 },
      substeps: { value: 1 },
      m1: { value: p.m1 },
      m2: { value: p.m2 },
      l1: { value: p.l1 },
      l2: { value: p.l2 },
      g: { value: p.g },
    });
    this.drawPass =
      this.style === 'figures'
        ? pass(bobsFragment, { state: { value: null }, l1: { value: p.l1 }, l2: { value: p.l2 } })
        : pass(mapColorFragment, {
            state: { value: null },
            columns: { value: columns },
            count: { value: count },
            // The map pass writes displayed (sRGB) values; the colour uniforms hold linear ones.
            background: { value: Object.values(background.getRGB({ r: 0, g: 0, b: 0 }, SRGBColorSpace)) },
          });
    this.copy = pass(copyFragment, { source: { value: null } });
    this.quad = new FullScreenQuad(this.rk4);

    const cellW = width / columns;
    const cellH = height / rows;
    // 1 in cell-local units = the reach l1 + l2; 0.42 of the shorter side leaves room for the bobs.
    const unit = 0.42 * Math.min(cellW, cellH);
    const material = new ShaderMaterial({
      glslVersion: GLSL3,
      vertexShader: fieldVertex,
      fragmentShader: this.style === 'figures' ? fieldFragment : mapFragment,
      uniforms: {
        colors: { value: this.drawn.texture },
        bobs: { value: this.drawn.texture },
        grid: { value: [columns, rows] },
        count: { value: count },
        cellShape: { value: [cellW / unit, cellH / unit] },
        rodWidth: { value: 0.025 },
        bobRadius: { value: 0.11 },
        background: { value: background },
        rodColor: { value: new Color(c.rod ?? 0xaaaaaa) },
        bob1Color: { value: new Color(c.bob1 ?? 0x66ccff) },
        bob2Color: { value: new Color(c.bob2 ?? 0xff8844) },
      },
    });
    this.mesh = new Mesh(new PlaneGeometry(width, height), material);
    this.mesh.name = 'DoublePendulumField';
    this.checkpoint = { q: new Float64Array(2 * count), qd: new Float64Array(2 * count), time: 0 };
    this.setState(options.q0 ?? new Float64Array(2 * count), options.qd0 ?? new Float64Array(2 * count));
    // The GPU holds the only copy of the state: a lost context takes it away, so the field goes back
    // to its checkpoint when the context comes back (see restoredFrom).
    this.canvas = renderer.domElement;
    this.canvas.addEventListener('webglcontextlost', this.onLost);
    this.canvas.addEventListener('webglcontextrestored', this.onRestored);
  }

  /** Whether the WebGL context is lost (stepping and reading throw until it is restored). */
  get contextLost(): boolean {
    return this.lost;
  }

  /** The texture holding (θ1, θ2, ω1, ω2) per texel (row-major, pendulum i at texel i). */
  get stateTexture(): Texture {
    return this.states[this.current].texture;
  }

  /**
   * Replace every pendulum's state and reset {@link time} to 0.
   * @throws Error for wrong lengths or a non-finite value (naming the pendulum)
   */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void {
    this.checkAlive();
    const n = 2 * this.count;
    if (q.length !== n || qd.length !== n) {
      throw new Error(
        `DoublePendulumField.setState: q and qd need ${n} numbers (2 per pendulum); got ${q.length} and ${qd.length}.`,
      );
    }
    const data = this.scratch;
    data.fill(0);
    for (let i = 0; i < this.count; i++) {
      const a = [q[2 * i], q[2 * i + 1], qd[2 * i], qd[2 * i + 1]];
      if (!a.every(Number.isFinite)) {
        throw new Error(
          `DoublePendulumField.setState: pendulum ${i} has a non-finite state (q = [${a[0]}, ${a[1]}], q̇ = [${a[2]}, ${a[3]}]).`,
        );
      }
      data.set(a, 4 * i);
    }
    this.checkpoint.q.set(Array.from(q));
    this.checkpoint.qd.set(Array.from(qd));
    this.checkpoint.time = 0;
    const upload = new DataTexture(data, this.columns, this.rows, RGBAFormat, FloatType);
    upload.needsUpdate = true;
    this.copy.uniforms.source.value = upload;
    this.run(this.copy, this.states[this.current]);
    upload.dispose();
    this.updateDrawn();
    this.time = 0;
  }

  /**
   * Advance every pendulum by `dt` seconds: `substeps` RK4 steps of dt / substeps in one GPU pass, then
   * the bob positions the mesh draws. No readback.
   * @throws Error for a non-positive or non-finite dt, or a substep count below 1
   */
  step(dt: number, substeps = 1): void {
    this.checkAlive();
    if (!(Number.isFinite(dt) && dt > 0)) {
      throw new Error(`DoublePendulumField.step: dt must be a positive finite number of seconds; got ${dt}.`);
    }
    if (!Number.isInteger(substeps) || substeps < 1) {
      throw new Error(`DoublePendulumField.step: substeps must be an integer ≥ 1; got ${substeps}.`);
    }
    const next = 1 - this.current;
    this.rk4.uniforms.state.value = this.states[this.current].texture;
    this.rk4.uniforms.dt.value = dt / substeps;
    this.rk4.uniforms.substeps.value = substeps;
    this.run(this.rk4, this.states[next]);
    this.current = next;
    this.updateDrawn();
    this.time += dt;
  }

  /** Read every pendulum's state back from the GPU (waits for it; float32 values widened to float64). */
  readState(out?: FieldState): FieldState {
    this.checkAlive();
    const n = 2 * this.count;
    if (out && (out.q.length !== n || out.qd.length !== n)) {
      throw new Error(
        `DoublePendulumField.readState: out.q and out.qd need ${n} numbers (2 per pendulum); got ${out.q.length} and ${out.qd.length}.`,
      );
    }
    const result = out ?? { q: new Float64Array(n), qd: new Float64Array(n) };
    this.renderer.readRenderTargetPixels(
      this.states[this.current],
      0,
      0,
      this.columns,
      this.rows,
      this.scratch,
    );
    const data = this.scratch;
    for (let i = 0; i < this.count; i++) {
      result.q[2 * i] = data[4 * i];
      result.q[2 * i + 1] = data[4 * i + 1];
      result.qd[2 * i] = data[4 * i + 2];
      result.qd[2 * i + 1] = data[4 * i + 3];
    }
    this.checkpoint.q.set(result.q);
    this.checkpoint.qd.set(result.qd);
    this.checkpoint.time = this.time;
    return result;
  }

  /** Free the render targets, materials and geometry. Idempotent; the field cannot be used after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.canvas.removeEventListener('webglcontextlost', this.onLost);
    this.canvas.removeEventListener('webglcontextrestored', this.onRestored);
    this.mesh.removeFromParent();
    for (const t of [...this.states, this.drawn]) t.dispose();
    for (const m of [this.rk4, this.drawPass, this.copy, this.mesh.material]) m.dispose();
    this.mesh.geometry.dispose();
    this.quad.dispose();
  }

  /** Refresh what the mesh draws from the current state (one pass over the pendulums, not the pixels). */
  private updateDrawn(): void {
    this.drawPass.uniforms.state.value = this.states[this.current].texture;
    this.run(this.drawPass, this.drawn);
  }

  /** Render `material` over every texel of `target`, leaving the renderer's target as it was. */
  private run(material: RawShaderMaterial, target: WebGLRenderTarget): void {
    const previous = this.renderer.getRenderTarget();
    const autoClear = this.renderer.autoClear;
    this.renderer.autoClear = false;
    this.quad.material = material;
    this.renderer.setRenderTarget(target);
    this.quad.render(this.renderer);
    this.renderer.setRenderTarget(previous);
    this.renderer.autoClear = autoClear;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('DoublePendulumField used after dispose().');
    // The event may not have arrived yet: ask the context too (reading from a lost one returns nothing).
    if (this.lost || this.renderer.getContext().isContextLost()) {
      throw new Error(
        `DoublePendulumField: the WebGL context is lost, and the pendulums' state with it; wait for 'webglcontextrestored' (the field then goes back to its last checkpoint, t = ${this.checkpoint.time.toFixed(3)} s; readState() sets one).`,
      );
    }
  }
}
