/**
 * Page of the `rendered` benchmark (bench/suites/rendered.ts): N double pendulums in a three.js scene
 * built with the project's plugin (`LNNPhysics`, every copy's bobs in one `InstancedBobs` mesh, every
 * copy's rods in one `SystemHelper` line set), drawn by a `WebGLRenderer` on a canvas of a fixed size.
 *
 * One timed frame = one fixed physics step of all N (RK4, dt = 1/60) + the instance-matrix and
 * rod-vertex update + `renderer.render` followed by a 1-pixel `readPixels`, which waits until the GPU
 * (software GL included) has drawn it, so the draw cost is counted and not deferred. Timed frames run
 * back to back without presenting: inside a presenting page such a GPU sync also waits for the
 * display's frame pacing, which is not a cost of the frame. `display` then runs the same N as an app
 * does, one frame per `requestAnimationFrame` callback without the sync, and reports the frame rate the
 * display reached, presentation included. `physics.stepN(1)` is exactly the first two parts of a frame;
 * they are called separately here to time each.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import {
  AmbientLight,
  BufferAttribute,
  BufferGeometry,
  Color,
  DirectionalLight,
  OrthographicCamera,
  PerspectiveCamera,
  Points,
  PointsMaterial,
  Scene,
  SphereGeometry,
  WebGLRenderer,
} from 'three';
import {
  DoublePendulumField,
  LNNPhysics,
  type LNNPhysicsInstance,
  type PhysicsSystem,
} from '../../plugins/three';
import type { Engine } from '../../src/core/types';
import { LNNEngine } from '../../src/engines/LNNEngine';
import { createSystem } from '../../src/systems/registry';
import { benchModel } from './bench';

// An error while the page sets up (no WebGL, a failed import) is reported to the driver at once.
window.addEventListener('error', (e) => {
  window.__renderedError ??= String(e.error?.stack ?? e.message);
});
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};
setWasmPaths(wasmPaths);

/**
 * What steps the pendulums: `lnn-auto` the learned engine as the app builds it (the browser's default
 * backend, `route: 'auto'`, `threads: 'auto'`), `lnn-wasm` the learned engine forced onto the wasm route
 * on one thread, `lnn-wasm-threads` the same on `threads: 'auto'` (worker threads; the page is
 * cross-origin isolated), `analytic` the exact engine (fused analytic RK4 kernel), `analytic-gpu` the exact
 * equations stepped and drawn on the GPU (`DoublePendulumField`: float32 RK4 in a fragment pass, every
 * pendulum drawn per pixel in its cell from the state texture, no readback; the `bobs` setting does not
 * apply).
 */
export type RenderedEngine = 'lnn-auto' | 'lnn-wasm' | 'lnn-wasm-threads' | 'analytic' | 'analytic-gpu';

/** Scene settings, fixed for a whole run. */
export interface RenderedScene {
  /** Canvas size in CSS pixels (device pixel ratio 1). @default 1280×720 */
  width: number;
  height: number;
  /** WebGLRenderer `antialias` (the app uses true). @default true */
  antialias: boolean;
  /** Width and height segments of each bob's sphere (InstancedBobs' own default is 16×12). */
  sphereSegments: [number, number];
  /**
   * How the bobs are drawn: `instanced` with the plugin's `InstancedBobs` (one InstancedMesh of spheres),
   * or `points`, one vertex per bob in a `THREE.Points` cloud (one non-instanced draw), to show what
   * the per-instance cost of the renderer is. The rods are the plugin's `SystemHelper` lines either way.
   * @default 'instanced'
   */
  bobs: 'instanced' | 'points';
  /** How the `analytic-gpu` engine's field draws its cells (`DoublePendulumField` style). @default 'map' */
  field: 'figures' | 'map';
}

/** Timing of one N: medians over the measured frames (ms), and what ran. */
export interface FrameTiming {
  count: number;
  frames: number;
  /** Median frame time (the capacity criterion): physics + update + render with GPU sync. */
  frameMs: number;
  /** Mean frame time: the sum of the three parts below. */
  frameMeanMs: number;
  /** 90th percentile of the frame time. */
  frameP90Ms: number;
  /** Mean per frame of each part (ms); they add up to `frameMeanMs`. */
  physicsMs: number;
  updateMs: number;
  renderMs: number;
  /** Medians of the parts, for comparison with the means (a mean is pulled up by a few slow frames). */
  medians: { physicsMs: number; updateMs: number; renderMs: number };
  /** Route the learned engine took for N states (`engine.routeFor(N)`), or 'analytic'. */
  route: string;
  /** Copies whose state became non-finite (frozen by the world); should be 0. */
  invalid: number;
}

/**
 * The same N run as an app runs it: a frame (step, update, render, no GPU sync) per
 * `requestAnimationFrame` callback, the browser presenting the canvas in between.
 */
export interface DisplayCheck {
  count: number;
  frames: number;
  /** Median time between callbacks: 16.7 ms while the display keeps 60 fps, a multiple when not. */
  frameMs: number;
  frameP90Ms: number;
  /** 1000 / frameMs. */
  fps: number;
  /** Share of intervals under 1.5 display periods of 60 Hz (frames not dropped). */
  onTime: number;
}

/** What the page exposes to the driver. */
export interface RenderedPage {
  /** The renderer string of three.js's context (UNMASKED_RENDERER_WEBGL when exposed). */
  renderer: string;
  /** The model the learned engines use. */
  model(): Promise<string>;
  /** Build (or rebuild) the engine for `engine`; returns its route summary. */
  useEngine(engine: RenderedEngine): Promise<string>;
  /** The scene settings in use (from the page's query string). */
  scene: RenderedScene;
  /** Put N pendulums in the scene (replacing the previous ones), run `warmup` frames, time `frames`. */
  measure(count: number, frames: number, warmup: number): Promise<FrameTiming>;
  /** Put N pendulums in the scene and run `frames` display frames (see {@link DisplayCheck}). */
  display(count: number, frames: number): Promise<DisplayCheck>;
  /** Remove the pendulums and free the engine. */
  release(): void;
}

declare global {
  interface Window {
    __rendered?: RenderedPage;
    __renderedError?: string;
  }
}

const DT = 1 / 60;
/** Grid pitch between pendulum pivots: two unit rods reach 2 from the pivot. */
const PITCH = 4.5;

const params = new URLSearchParams(location.search);
const sceneSettings: RenderedScene = {
  width: Number(params.get('width') ?? 1280),
  height: Number(params.get('height') ?? 720),
  antialias: (params.get('antialias') ?? 'true') === 'true',
  sphereSegments: [Number(params.get('segW') ?? 16), Number(params.get('segH') ?? 12)],
  bobs: params.get('bobs') === 'points' ? 'points' : 'instanced',
  field: params.get('field') === 'figures' ? 'figures' : 'map',
};

const renderer = new WebGLRenderer({ antialias: sceneSettings.antialias });
renderer.setPixelRatio(1);
renderer.setSize(sceneSettings.width, sceneSettings.height);
document.body.appendChild(renderer.domElement);
const gl = renderer.getContext();
const pixel = new Uint8Array(4);
const scene = new Scene();
scene.background = new Color(0x111111);
scene.add(new AmbientLight(0xffffff, 0.6));
const sun = new DirectionalLight(0xffffff, 1.5);
sun.position.set(3, 5, 8);
scene.add(sun);
const camera = new PerspectiveCamera(45, sceneSettings.width / sceneSettings.height, 0.1, 1e5);
const sphere = new SphereGeometry(0.12, sceneSettings.sphereSegments[0], sceneSettings.sphereSegments[1]);

let physics: LNNPhysicsInstance | null = null;
/** The `analytic-gpu` engine: its field (rebuilt per N) and the camera that frames it. */
let gpuField: { field: DoublePendulumField } | null = null;
let gpuEngine = false;
const fieldCamera = new OrthographicCamera(-8, 8, 4.5, -4.5, -1, 1);
let engine: Engine | null = null;
let current: PhysicsSystem | null = null;
/** The `points` bob style: the cloud and its position buffer, refilled every frame. */
let cloud: Points | null = null;
const cloudPoints = new Float64Array(3 * 3);
const cloudMaterial = new PointsMaterial({ color: 0xff8844, size: 3, sizeAttenuation: false });

function rendererName(): string {
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

async function useEngine(kind: RenderedEngine): Promise<string> {
  release();
  physics = await LNNPhysics({ fixedTimeStep: DT });
  gpuEngine = kind === 'analytic-gpu';
  if (gpuEngine) return 'analytic on the GPU (DoublePendulumField: float32 RK4 pass, per-pixel drawing)';
  if (kind === 'analytic') return 'analytic (fused RK4 kernel)';
  const { model } = await benchModel();
  const system = createSystem('double-pendulum');
  const lnn =
    kind === 'lnn-auto'
      ? await LNNEngine.load(model, system, { threads: 'auto', wasmPaths })
      : await LNNEngine.load(model, system, {
          backend: 'wasm',
          route: 'wasm',
          threads: kind === 'lnn-wasm-threads' ? 'auto' : 1,
          wasmPaths,
        });
  engine = lnn;
  const threads = lnn.threads > 1 ? `; ${lnn.threads} threads` : (lnn.threadsProblem ?? '');
  return `${lnn.backend} backend; ${lnn.routeSummary}${threads}`;
}

/** Lay N pivots on a grid of the canvas's aspect and aim the camera at all of them. */
function layout(count: number): Float64Array {
  const aspect = sceneSettings.width / sceneSettings.height;
  const cols = Math.max(1, Math.ceil(Math.sqrt(count * aspect)));
  const rows = Math.ceil(count / cols);
  const offsets = new Float64Array(3 * count);
  for (let i = 0; i < count; i++) {
    offsets[3 * i] = ((i % cols) - (cols - 1) / 2) * PITCH;
    offsets[3 * i + 1] = ((rows - 1) / 2 - Math.floor(i / cols)) * PITCH;
  }
  const halfH = (rows * PITCH) / 2 + 2;
  const halfW = (cols * PITCH) / 2 + 2;
  const fit = Math.max(halfH, halfW / aspect) / Math.tan((camera.fov * Math.PI) / 360);
  camera.position.set(0, 0, fit * 1.05);
  camera.near = fit / 100;
  camera.far = fit * 2;
  camera.lookAt(0, 0, 0);
  camera.updateProjectionMatrix();
  return offsets;
}

async function place(count: number): Promise<void> {
  if (!physics) throw new Error('rendered bench: call useEngine before measure');
  if (current) physics.removeSystem(current);
  current = null;
  removeCloud();
  removeField();
  // Spread start angles inside the model's training box (q in [0, 2π), q̇ = 0), each copy different.
  const q0 = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    q0[2 * i] = 1.2 + 1.6 * ((i * 0.618034) % 1);
    q0[2 * i + 1] = 0.8 + 2.0 * ((i * 0.414214) % 1);
  }
  if (gpuEngine) {
    const aspect = sceneSettings.width / sceneSettings.height;
    const field = new DoublePendulumField(renderer, {
      count,
      q0,
      width: 9 * aspect,
      height: 9,
      style: sceneSettings.field,
    });
    fieldCamera.left = -4.5 * aspect;
    fieldCamera.right = 4.5 * aspect;
    fieldCamera.updateProjectionMatrix();
    scene.add(field.mesh);
    gpuField = { field };
    return;
  }
  current = await physics.addSystem('double-pendulum', {
    name: 'fan',
    engine: engine ?? 'analytic',
    integrator: 'rk4',
    count,
    q0,
    qd0: new Float64Array(2 * count),
    offsets: layout(count),
  });
  if (sceneSettings.bobs === 'instanced') {
    scene.add(physics.createInstancedBobs(current, { geometry: sphere, color: 0xff8844 }));
  } else {
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(new Float32Array(6 * count), 3));
    cloud = new Points(geometry, cloudMaterial);
    cloud.frustumCulled = false;
    scene.add(cloud);
    updateCloud();
  }
  scene.add(physics.createSystemHelper(current, { index: 'all', color: 0xaaaaaa }));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};

/** Move the `points` bobs (the two moving points of each copy) to the current state. */
function updateCloud(): void {
  if (!cloud || !current) return;
  const attr = cloud.geometry.getAttribute('position') as BufferAttribute;
  const out = attr.array as Float32Array;
  for (let i = 0, k = 0; i < current.count; i++) {
    current.points3(i, cloudPoints);
    for (let j = 3; j < 9; j++) out[k++] = cloudPoints[j];
  }
  attr.needsUpdate = true;
}

function removeField(): void {
  gpuField?.field.dispose();
  gpuField = null;
}

function removeCloud(): void {
  if (!cloud) return;
  cloud.removeFromParent();
  cloud.geometry.dispose();
  cloud = null;
}

/** One physics step of everything in the scene: the world's systems, or the GPU field. */
function stepPhysics(): void {
  if (gpuField) gpuField.field.step(DT);
  else physics!.world.stepN(1, DT);
}

/** Bring drawn objects up to the state (nothing to do for the GPU field, which draws from its texture). */
function updateScene(): void {
  if (gpuField) return;
  physics!.update();
  updateCloud();
}

function frame(times: number[][] | null): void {
  const t0 = performance.now();
  stepPhysics();
  const t1 = performance.now();
  updateScene();
  const t2 = performance.now();
  renderer.render(scene, gpuField ? fieldCamera : camera);
  // One pixel read back waits until the GPU has drawn the frame.
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
  const t3 = performance.now();
  if (times) times.push([t3 - t0, t1 - t0, t2 - t1, t3 - t2]);
}

async function measure(count: number, frames: number, warmup: number): Promise<FrameTiming> {
  await place(count);
  for (let f = 0; f < warmup; f++) frame(null);
  const times: number[][] = [];
  for (let f = 0; f < frames; f++) frame(times);
  const col = (k: number) => times.map((t) => t[k]);
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const sorted = col(0).sort((a, b) => a - b);
  const lnn = engine instanceof LNNEngine ? engine : null;
  return {
    count,
    frames,
    frameMs: median(col(0)),
    frameMeanMs: mean(col(0)),
    frameP90Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))],
    physicsMs: mean(col(1)),
    updateMs: mean(col(2)),
    renderMs: mean(col(3)),
    medians: { physicsMs: median(col(1)), updateMs: median(col(2)), renderMs: median(col(3)) },
    route: lnn ? lnn.routeFor(count) : gpuField ? 'analytic-gpu' : 'analytic',
    invalid: current ? current.handle.invalid.reduce((a, b) => a + b, 0) : 0,
  };
}

/** The next display frame (the browser presents the canvas between two callbacks). */
const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));

async function display(count: number, frames: number): Promise<DisplayCheck> {
  await place(count);
  const draw = () => {
    stepPhysics();
    updateScene();
    renderer.render(scene, gpuField ? fieldCamera : camera);
  };
  for (let f = 0; f < 5; f++) {
    await nextFrame();
    draw();
  }
  const starts: number[] = [];
  for (let f = 0; f < frames; f++) {
    starts.push(await nextFrame());
    draw();
  }
  starts.push(await nextFrame());
  const intervals = starts.slice(1).map((t, i) => t - starts[i]);
  const frameMs = median(intervals);
  const sorted = [...intervals].sort((a, b) => a - b);
  return {
    count,
    frames,
    frameMs,
    frameP90Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))],
    fps: 1000 / frameMs,
    onTime: intervals.filter((x) => x < 1.5 * (1000 / 60)).length / intervals.length,
  };
}

function release(): void {
  if (current && physics) physics.removeSystem(current);
  current = null;
  removeCloud();
  removeField();
  physics?.dispose();
  physics = null;
  engine?.dispose();
  engine = null;
}

window.__rendered = {
  renderer: rendererName(),
  scene: sceneSettings,
  async model() {
    return (await benchModel()).label;
  },
  useEngine,
  measure,
  display,
  release,
};
