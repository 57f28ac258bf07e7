import type { SceneDefinition } from '../src/index.js';
import { engineColors } from './palette.js';
import type { SceneModule } from './types.js';

/** Options of {@link chaosFieldScene}. */
export interface ChaosFieldOptions {
  /** Pendulums per side of the grid of initial angles. @default 64 */
  grid?: number;
  /** Also run the learned LNN on the same grid (its tiles then show the error from the exact run). @default false */
  learned?: boolean;
  /** Length of the run in seconds. @default 30 */
  duration?: number;
}

/** Initial angles of a `grid × grid` field: θ₁ along x, θ₂ along y, both over (−π, π), at rest. */
export function fieldStates(grid: number): number[][] {
  const q: number[][] = [];
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      q.push([-Math.PI + ((c + 0.5) * 2 * Math.PI) / grid, -Math.PI + ((r + 0.5) * 2 * Math.PI) / grid]);
    }
  }
  return q;
}

/**
 * Thousands of double pendulums released from rest on a grid of initial angles, stepped as one batch
 * — the classic flip-time fractal. With `learned`, the LNN runs the same grid and each of its tiles
 * shows how far the learned motion is from the exact one.
 */
export function chaosFieldScene(options: ChaosFieldOptions = {}): SceneDefinition {
  const grid = options.grid ?? 64;
  const q0 = fieldStates(grid);
  const common = {
    system: 'double-pendulum',
    integrator: 'rk4' as const,
    q0,
    qd0: [0, 0],
    count: grid * grid,
  };
  return {
    name: 'chaos-field',
    description:
      'A grid of double pendulums released from rest, coloured by the time the pendulum first flips over.',
    dt: 1 / 60,
    duration: options.duration ?? 30,
    systems: [
      {
        id: 'analytic',
        engine: 'analytic',
        ...common,
        view: { color: engineColors.analytic, label: 'Exact — flip time' },
      },
      ...(options.learned
        ? [
            {
              id: 'lnn',
              engine: 'lnn',
              model: 'assets/models/double-pendulum-lnn',
              ...common,
              view: { color: engineColors.lnn, label: 'LNN' },
            },
          ]
        : []),
    ],
    camera: { position: [0, 0, 9], target: [0, 0, 0], fov: 45 },
  };
}

export const chaosField: SceneModule = {
  id: 'chaos-field',
  title: 'Chaos field',
  summary:
    'Thousands of double pendulums released from rest on a grid of initial angles, one InstancedMesh, coloured by the time each first flips over — or by the learned engine’s distance from the exact one.',
  options: [
    { name: 'grid', label: 'Grid (per side)', default: 64, min: 8, max: 128, step: 8 },
    {
      name: 'colour',
      label: 'Colour by',
      default: 'flip',
      choices: { flip: 'Flip time (exact)', error: 'Learned vs exact error' },
    },
  ],
  build: (o) => chaosFieldScene({ grid: Number(o.grid), learned: o.colour === 'error' }),
  view: (o) => ({
    kind: 'field',
    columns: Number(o.grid),
    rows: Number(o.grid),
    colorBy: o.colour === 'error' ? 'error' : 'flip',
    xLabel: 'θ₁(0)',
    yLabel: 'θ₂(0)',
  }),
  coordinates: ['θ₁', 'θ₂'],
  initialStateControls: false,
};
