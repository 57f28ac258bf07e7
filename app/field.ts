/**
 * The GPU field page (`/field.html`): a grid of exact double pendulums released from rest, θ1 along x
 * and θ2 along y, stepped and drawn by `DoublePendulumField` — the chaos map, live. lil-gui controls the
 * grid size, the drawing style, substeps and pause; the HUD shows the count, simulated time and frame
 * rate. A test hook is exposed on `window.__fieldApp`.
 */
import GUI from 'lil-gui';
import { MOUSE, OrthographicCamera, Scene, TOUCH, WebGLRenderer } from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { DoublePendulumField } from '../plugins/three/index.js';

/** What the page exposes to tests. */
export interface FieldApp {
  count(): number;
  time(): number;
  style(): string;
  /** Frames drawn so far. */
  frames(): number;
  /** Rebuild with `side × side` pendulums. */
  resize(side: number): void;
}

declare global {
  interface Window {
    __fieldApp?: FieldApp;
  }
}

const settings = { side: 512, style: 'map' as 'map' | 'figures', substeps: 2, paused: false };
const renderer = new WebGLRenderer({ antialias: false });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setSize(window.innerWidth, window.innerHeight);
document.body.prepend(renderer.domElement);
renderer.setClearColor(0x0d1117);
const scene = new Scene();
const camera = new OrthographicCamera(-1, 1, 1, -1, -1, 1);
// A flat map: dragging (mouse or one finger) pans, the wheel or a two-finger pinch zooms.
const controls = new OrbitControls(camera, renderer.domElement);
controls.enableRotate = false;
controls.screenSpacePanning = true;
controls.mouseButtons = { LEFT: MOUSE.PAN, MIDDLE: MOUSE.DOLLY, RIGHT: MOUSE.PAN };
controls.touches = { ONE: TOUCH.PAN, TWO: TOUCH.DOLLY_PAN };
const hud = document.getElementById('hud')!;
document.getElementById('legend')!.textContent =
  'Each cell is one double pendulum released from rest: θ₁ from −π to π left to right, θ₂ from π to −π top to bottom. ' +
  'Map colours: hue = θ₁ around the colour wheel, brightness = how far the second rod is from hanging down. ' +
  'Exact equations of motion, RK4 in float32 on the GPU. Scroll or pinch to zoom, drag to pan.';

let field: DoublePendulumField | null = null;
let frames = 0;

/** θ1 along x (−π … π), θ2 along y (π at the top … −π), at rest. */
function chaosGrid(side: number): Float64Array {
  const q0 = new Float64Array(2 * side * side);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      q0[2 * (r * side + c)] = -Math.PI + ((c + 0.5) * 2 * Math.PI) / side;
      q0[2 * (r * side + c) + 1] = Math.PI - ((r + 0.5) * 2 * Math.PI) / side;
    }
  }
  return q0;
}

function fitCamera(): void {
  const aspect = window.innerWidth / window.innerHeight;
  const half = 1.05;
  camera.left = -half * Math.max(1, aspect);
  camera.right = half * Math.max(1, aspect);
  camera.top = half * Math.max(1, 1 / aspect);
  camera.bottom = -half * Math.max(1, 1 / aspect);
  camera.updateProjectionMatrix();
}

/** Say what went wrong where the HUD is, and stop drawing (the page has nothing else to show). */
function fail(err: unknown): void {
  renderer.setAnimationLoop(null);
  hud.textContent = `The field could not run: ${(err as Error)?.message ?? String(err)}`;
  console.error(err);
}

function rebuild(): void {
  field?.dispose();
  field = null;
  const side = settings.side;
  try {
    field = new DoublePendulumField(renderer, {
      count: side * side,
      columns: side,
      q0: chaosGrid(side),
      width: 2,
      height: 2,
      style: settings.style,
    });
    scene.add(field.mesh);
  } catch (err) {
    fail(err);
  }
}

// In the page's overlay grid (beside the HUD; under it on phones, where it starts closed).
const gui = new GUI({ title: 'Pendulum field', container: document.getElementById('gui')! });
if (window.matchMedia('(max-width: 600px), (max-height: 500px)').matches) gui.close();
gui
  .add(settings, 'side', [64, 128, 256, 512, 1024])
  .name('grid side')
  .onChange(() => rebuild());
gui
  .add(settings, 'style', ['map', 'figures'])
  .name('drawing')
  .onChange(() => rebuild());
gui.add(settings, 'substeps', 1, 8, 1).name('RK4 substeps / frame');
gui.add(settings, 'paused').name('pause');
gui.add({ reset: () => rebuild() }, 'reset').name('release again');

window.addEventListener('resize', () => {
  renderer.setSize(window.innerWidth, window.innerHeight);
  fitCamera();
});
fitCamera();
rebuild();

let last = performance.now();
let fps = 0;
renderer.setAnimationLoop((now: number) => {
  const f = field;
  if (!f) return;
  try {
    if (!settings.paused && !f.contextLost) f.step(1 / 60, settings.substeps);
  } catch (err) {
    // A context lost between the event and this frame: the field steps again once it is restored.
    if (!f.contextLost) fail(err);
    return;
  }
  controls.update();
  renderer.render(scene, camera);
  frames++;
  const dt = now - last;
  last = now;
  if (dt > 0) fps = fps === 0 ? 1000 / dt : 0.95 * fps + 0.05 * (1000 / dt);
  if (frames % 10 === 0) {
    hud.innerHTML = `<b>${f.count.toLocaleString('en-US')}</b> exact double pendulums · t = ${f.time.toFixed(2)} s · ${fps.toFixed(0)} fps · ${settings.substeps} RK4 substeps of ${(1000 / 60 / settings.substeps).toFixed(1)} ms per frame`;
  }
});

window.__fieldApp = {
  count: () => field?.count ?? 0,
  time: () => field?.time ?? 0,
  style: () => field?.style ?? '',
  frames: () => frames,
  resize(side: number) {
    settings.side = side;
    for (const c of gui.controllersRecursive()) c.updateDisplay();
    rebuild();
  },
};
