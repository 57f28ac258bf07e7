import type { SceneDefinition } from '../src/index.js';
import { engineColors } from './palette.js';
import { SPHERICAL_LNN, sphericalStart } from './sphericalRide.js';
import type { SceneModule } from './types.js';

/** Options of {@link sphericalFieldScene}. */
export interface SphericalFieldOptions {
  /** Pendulums per side of the grid. @default 16 */
  grid?: number;
  /** Cone angle of the start, varied by ±`spread` across the grid's columns, radians. @default 0.7 */
  cone?: number;
  /** Spin (share of the conical speed, as in the ride), varied by ±`spread` across the rows. @default 0.4 */
  spin?: number;
  /** Half-width of the ranges of cone angle and spin over the grid. @default 0.15 */
  spread?: number;
  /** Also run the learned LNN on the same starts (`assets/models/spherical-lnn`). @default false */
  learned?: boolean;
  /** Length of the run in seconds. @default 30 */
  duration?: number;
}

/**
 * Starts of a grid × grid field (copy r·grid + c: row r, column c): cone angle `cone ± spread` along the
 * columns and spin `spin ± spread` along the rows (see `sphericalStart`).
 */
export function sphericalFieldStates(
  grid: number,
  cone: number,
  spin: number,
  spread: number,
): { q0: number[][]; qd0: number[][] } {
  const q0: number[][] = [];
  const qd0: number[][] = [];
  const at = (k: number) => (grid > 1 ? (2 * k) / (grid - 1) - 1 : 0);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const s = sphericalStart(cone + spread * at(c), spin + spread * at(r));
      q0.push(s.q0);
      qd0.push(s.qd0);
    }
  }
  return { q0, qd0 };
}

/**
 * Many spherical pendulums from nearby starts, stepped as one batch: the precession rate and the period
 * depend on the amplitude, so neighbours that start almost together drift apart and the grid breaks into
 * waves. With `learned`, the LNN runs the same starts.
 */
export function sphericalFieldScene(options: SphericalFieldOptions = {}): SceneDefinition {
  const grid = Math.max(1, Math.round(options.grid ?? 16));
  const { q0, qd0 } = sphericalFieldStates(
    grid,
    options.cone ?? 0.7,
    options.spin ?? 0.4,
    options.spread ?? 0.15,
  );
  const common = {
    system: 'spherical-pendulum',
    integrator: 'rk4' as const,
    q0,
    qd0,
    count: grid * grid,
  };
  return {
    name: 'spherical-field',
    description: `${grid * grid} spherical pendulums from nearby starts, one batch.`,
    dt: 1 / 120,
    duration: options.duration ?? 30,
    systems: [
      {
        id: 'analytic',
        engine: 'analytic',
        ...common,
        view: { color: engineColors.analytic, label: 'Exact (closed form)' },
      },
      ...(options.learned
        ? [
            {
              id: 'lnn',
              engine: 'lnn',
              model: SPHERICAL_LNN,
              ...common,
              view: { color: engineColors.lnn, label: 'LNN (learned L)' },
            },
          ]
        : []),
    ],
    recorders: [{ target: 'analytic', every: 60, quantities: ['q', 'energy'] as const }],
    camera: { position: [0, 9, 12], target: [0, -0.8, 0], fov: 45 },
  };
}

export const sphericalField: SceneModule = {
  id: 'spherical-field',
  title: 'Field of spherical pendulums',
  summary:
    '256 spherical pendulums hung from a grid, two InstancedMeshes, started a few hundredths of a radian apart (cone angle 0.7 ± 0.15 rad across, spin 0.4 ± 0.15 down the grid): the period and the precession depend on the amplitude, so neighbours drift apart and the grid breaks into waves of colour (a bob’s hue is its azimuth). Option: the learned spherical LNN (assets/models/spherical-lnn) on the same starts, side by side.',
  options: [
    { name: 'grid', label: 'Grid (per side)', default: 16, min: 2, max: 32, step: 1 },
    { name: 'learned', label: 'Learned lane', default: 'off', choices: { off: 'Off', on: 'On' } },
  ],
  build: (o) => sphericalFieldScene({ grid: Number(o.grid), learned: o.learned === 'on' }),
  view: (o) => ({ kind: 'pendulums', columns: Number(o.grid), rows: Number(o.grid), pitch: 0.9 }),
  coordinates: ['α', 'β'],
  phaseCoordinate: () => 1,
  initialStateControls: false,
};

export default sphericalFieldScene();
