/**
 * Browser page for test/browser/field.test.ts: builds `DoublePendulumField`s on one WebGLRenderer and
 * exposes runs of them (read-back states, rendered pixels, resource counts, errors) on `window.__field`.
 */
import { Color, OrthographicCamera, Scene, SRGBColorSpace, WebGLRenderer } from 'three';
import { DoublePendulumField, type DoublePendulumFieldOptions } from '../../../plugins/three';

const SIZE = 256;
const renderer = new WebGLRenderer({ antialias: false });
renderer.setPixelRatio(1);
renderer.setSize(SIZE, SIZE);
document.body.appendChild(renderer.domElement);
const gl = renderer.getContext();

/** States after stepping, as read back. */
export interface FieldRun {
  q: number[];
  qd: number[];
  time: number;
  columns: number;
  rows: number;
  style: string;
}

/** The field page's API. */
export interface FieldPage {
  /** Build a field, take `steps` steps of `dt` (`substeps` each), read the state back; `every` > 0 reads it every that many steps too. */
  run(
    options: Omit<DoublePendulumFieldOptions, 'q0' | 'qd0'> & { q0: number[]; qd0: number[] },
    steps: number,
    dt: number,
    substeps?: number,
    every?: number,
  ): { final: FieldRun; snapshots: number[][] };
  /** Draw a field filling the canvas (its plane seen by an orthographic camera) and return the canvas pixels (RGBA, row 0 at the top). */
  draw(options: Omit<DoublePendulumFieldOptions, 'q0' | 'qd0'> & { q0: number[]; qd0: number[] }): number[];
  canvasSize: number;
  /** sRGB bytes of a colour as the renderer shows it. */
  displayed(hex: number): number[];
  /** What `fn` throws, or null. */
  error(kind: 'count' | 'nan' | 'dt' | 'disposed' | 'length' | 'style'): string | null;
  /** renderer.info.memory.textures before a field, with it, and after its dispose(). */
  textures(): number[];
  /** Checkpoint at 0.25 s, step on, lose and restore the context: what the field says and holds. */
  contextLoss(): Promise<{
    checkpoint: number[];
    whileLost: string | null;
    restoredFrom: number | null;
    time: number;
    after: number[];
    stepsAfter: boolean;
  }>;
}

declare global {
  interface Window {
    __field?: FieldPage;
  }
}

function build(o: Parameters<FieldPage['run']>[0]): DoublePendulumField {
  return new DoublePendulumField(renderer, { ...o, q0: o.q0, qd0: o.qd0 });
}

const api = {
  canvasSize: SIZE,
  run(options, steps, dt, substeps = 1, every = 0) {
    const field = build(options);
    const snapshots: number[][] = [];
    for (let s = 1; s <= steps; s++) {
      field.step(dt, substeps);
      if (every > 0 && s % every === 0) {
        const st = field.readState();
        snapshots.push([...st.q, ...st.qd]);
      }
    }
    const st = field.readState();
    const final = {
      q: Array.from(st.q),
      qd: Array.from(st.qd),
      time: field.time,
      columns: field.columns,
      rows: field.rows,
      style: field.style,
    };
    field.dispose();
    return { final, snapshots };
  },
  draw(options) {
    const width = options.width ?? 1;
    const height = options.height ?? 1;
    const field = build({ ...options, width, height });
    const scene = new Scene();
    scene.add(field.mesh);
    const camera = new OrthographicCamera(-width / 2, width / 2, height / 2, -height / 2, -1, 1);
    renderer.setRenderTarget(null);
    renderer.render(scene, camera);
    const px = new Uint8Array(4 * SIZE * SIZE);
    gl.readPixels(0, 0, SIZE, SIZE, gl.RGBA, gl.UNSIGNED_BYTE, px);
    field.dispose();
    // Flip to row 0 at the top.
    const out: number[] = new Array(px.length);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < 4 * SIZE; x++) out[y * 4 * SIZE + x] = px[(SIZE - 1 - y) * 4 * SIZE + x];
    }
    return out;
  },
  displayed(hex) {
    const c = new Color(hex).getRGB({ r: 0, g: 0, b: 0 }, SRGBColorSpace);
    return [c.r, c.g, c.b].map((v) => Math.round(v * 255));
  },
  error(kind) {
    try {
      const base = { count: 2, q0: [0, 0, 0, 0], qd0: [0, 0, 0, 0] };
      if (kind === 'count') build({ ...base, count: 0 });
      else if (kind === 'nan') build({ ...base, q0: [0, 0, Number.NaN, 0] });
      else if (kind === 'length') build({ ...base, q0: [0, 0, 0] });
      else if (kind === 'style') build({ ...base, style: 'dots' as never });
      else if (kind === 'dt') {
        const f = build(base);
        try {
          f.step(-1 / 60);
        } finally {
          f.dispose();
        }
      } else {
        const f = build(base);
        f.dispose();
        f.step(1 / 60);
      }
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  },
  textures() {
    const before = renderer.info.memory.textures;
    const f = build({ count: 1000, q0: new Array(2000).fill(0.5), qd0: new Array(2000).fill(0) });
    f.step(1 / 60);
    const during = renderer.info.memory.textures;
    f.dispose();
    return [before, during, renderer.info.memory.textures];
  },
} as FieldPage;

api.contextLoss = async () => {
  const field = build({ count: 4, q0: [1, 2, 0.5, -1, 3, 0, -2, 2.5], qd0: [0, 0, 1, 0, 0, -1, 0, 0] });
  for (let s = 0; s < 15; s++) field.step(1 / 60);
  const cp = field.readState();
  const checkpoint = [...cp.q, ...cp.qd];
  for (let s = 0; s < 15; s++) field.step(1 / 60);
  const restored = new Promise<void>((resolve) =>
    renderer.domElement.addEventListener('webglcontextrestored', () => resolve(), { once: true }),
  );
  const lost = new Promise<void>((resolve) =>
    renderer.domElement.addEventListener('webglcontextlost', () => resolve(), { once: true }),
  );
  renderer.forceContextLoss();
  await lost;
  let whileLost: string | null = null;
  try {
    field.step(1 / 60);
  } catch (e) {
    whileLost = (e as Error).message;
  }
  // Chromium allows restoreContext only once the lost event's dispatch is over.
  await new Promise((resolve) => setTimeout(resolve, 50));
  renderer.forceContextRestore();
  await restored;
  const st = field.readState();
  const result = {
    checkpoint,
    whileLost,
    restoredFrom: field.restoredFrom,
    time: field.time,
    after: [...st.q, ...st.qd],
    stepsAfter: false,
  };
  field.step(1 / 60);
  result.stepsAfter = field.readState().q.every(Number.isFinite) && field.time > result.time;
  field.dispose();
  return result;
};

window.__field = api;
