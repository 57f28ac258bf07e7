/**
 * Inputs shared by test/browser/membrane-webgl.test.ts (Node) and its page (membrane-webgl.ts): the
 * shipped grid LGN (`membrane-lgn`, trained on 4 × 4) on a non-square 12 × 10 membrane, seeded states,
 * and the result type the page publishes.
 */
import { createRng } from '../../../src/math/random';
import { membraneModeFrequency, membraneModeShape } from '../../../src/systems/Membrane';

/** The run grid: nx ≠ ny, so that a swap of the two changes every index. */
export const GRID: { readonly nx: number; readonly ny: number } = { nx: 12, ny: 10 };

/** Node spacing of the shipped model's training system (`spacing` 0.1). */
const H = 0.1;

/** A seeded batch of states inside the model's training box (|q| ≤ 0.1, |q̇| ≤ 1). */
export function membraneCase(): { q: Float64Array; qd: Float64Array; batch: number; nx: number; ny: number } {
  const { nx, ny } = GRID;
  const batch = 6;
  const n = nx * ny;
  const rng = createRng(2027);
  const q = Float64Array.from({ length: batch * n }, () => 0.08 * (2 * rng() - 1));
  const qd = Float64Array.from({ length: batch * n }, () => 0.6 * (2 * rng() - 1));
  return { q, qd, batch, nx, ny };
}

/**
 * A smooth start for the energy run on `nx` × `ny`: q = A φ₂₁ and q̇ = A ω₂₁ φ₁₂ (two modes a quarter
 * period apart), peak |q| = A = 0.07 (inside the training box): 100 RK4 steps of 1/60 s, 1.67 s or
 * 1.5 periods of ω₂₁ (ω·dt ≤ 0.47 for every mode of the grid; RK4 is stable to 2.8).
 */
export function energyCase(
  nx = GRID.nx,
  ny = GRID.ny,
): { q: Float64Array; qd: Float64Array; dt: number; steps: number } {
  const n = nx * ny;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  membraneModeShape(nx, ny, 2, 1, a);
  membraneModeShape(nx, ny, 1, 2, b);
  const amplitude = 0.07;
  const omega = membraneModeFrequency(nx, ny, 2, 1, H, 1);
  const q = Float64Array.from(a, (v) => amplitude * v);
  const qd = Float64Array.from(b, (v) => amplitude * omega * v);
  return { q, qd, dt: 1 / 60, steps: 100 };
}

/** q̈ `[batch * n]`, flags `[batch]` and the report of one call on one route. */
export interface RouteQdd {
  qdd: number[];
  flags: number[];
  route: string;
  path: string;
  backend: string;
}

/** A timed resident RK4 advance on an `nx` × `ny` grid. */
export interface StepTiming {
  nx: number;
  ny: number;
  route: string;
  path: string;
  steps: number;
  msPerStep: number;
  /** Microseconds per step per node. */
  usPerNode: number;
  flags: number[];
}

/** What the page publishes on `window.__membraneWebgl`. */
export interface MembraneWebglResult {
  error?: string;
  backend: string;
  warnings: string[];
  float32: boolean;
  availableRoutes: string[];
  grid: { nx: number; ny: number } | null;
  /** q̈ of {@link membraneCase} per route of a webgl engine (`webgl`, `wasm` next to it, `js`). */
  routes: Record<string, RouteQdd>;
  /** q̈ of the grid kernel of the resident route (`lgnAccelerations` on webgl) and its flags. */
  residentQdd: number[];
  residentFlags: number[];
  /** {@link membraneCase} after {@link TRAJECTORY} resident RK4 steps (flags: the worst per state). */
  trajectory: { q: number[]; qd: number[]; path: string; route: string; flags: number[] };
  /**
   * Learned energy (float64 evaluation) of {@link energyCase} at every step of a resident RK4 run (the
   * same run as the trajectory's, one more state), and that state's flag per step.
   */
  energy: { values: number[]; flags: number[]; path: string };
  /** Tensors: before the first engine, after warm-up, after 3 more rounds of calls, after dispose. */
  tensors: { before: number; warm: number; repeated: number; disposed: number };
  timings: StepTiming[];
}

/** Resident RK4 steps (of the energy run's dt) after which the page records the batch's trajectory. */
export const TRAJECTORY = { steps: 20, dt: 1 / 60 } as const;
