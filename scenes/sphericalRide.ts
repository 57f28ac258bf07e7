import type { SceneDefinition } from '../src/index.js';
import { engineColors, engineLabels } from './palette.js';
import type { SceneModule } from './types.js';

/** Where the spherical pendulum's learned Lagrangian ships. */
export const SPHERICAL_LNN = 'assets/models/spherical-lnn';

/** Options of {@link sphericalRideScene}. */
export interface SphericalRideOptions {
  /** Cone angle θ₀ of the start from the downward vertical, radians (0 … 1.2). @default 0.7 */
  cone?: number;
  /**
   * Sideways speed as a share of the conical pendulum's (1: a steady cone at Ω² = g / (l cos θ₀); below
   * or above 1 the orbit is an ellipse whose axes precess — a rosette). @default 0.75
   */
  spin?: number;
  /** Also run the learned LNN (`assets/models/spherical-lnn`). @default true */
  learned?: boolean;
  /** Length of the run in seconds. @default 20 */
  duration?: number;
}

/**
 * Initial state of a spherical pendulum (tilt–swing chart q = [α, β], docs/systems3d.md) swung out to the
 * cone angle θ₀ in the x–y plane (α = 0, β = θ₀) and pushed along +z at `spin` × the conical speed
 * l Ω sin θ₀, Ω² = g / (l cos θ₀): at α = 0, ∂u/∂α = (0, 0, 1), so that push is α̇ = spin · Ω sin θ₀.
 */
export function sphericalStart(
  cone: number,
  spin: number,
  l = 1,
  g = 9.8,
): { q0: [number, number]; qd0: [number, number] } {
  const omega = Math.sqrt(g / (l * Math.cos(cone)));
  return { q0: [0, cone], qd0: [spin * omega * Math.sin(cone), 0] };
}

/**
 * The lanes of a pendulum ride: one per engine from the same start (RK4, the engine's colour and label, a
 * 360-point trail), each recorded every 12 steps (q, q̇, energy, positions).
 */
export function rideLanes(
  system: string,
  engines: readonly { id: string; model?: string }[],
  q0: readonly number[],
  qd0: readonly number[],
): Pick<SceneDefinition, 'systems' | 'recorders'> {
  return {
    systems: engines.map(({ id, model }) => ({
      id,
      system,
      engine: id,
      ...(model ? { model } : {}),
      integrator: 'rk4' as const,
      q0: [...q0],
      qd0: [...qd0],
      view: { color: engineColors[id], label: engineLabels[id], trail: 360 },
    })),
    recorders: engines.map(({ id }) => ({
      target: id,
      every: 12,
      quantities: ['q', 'qd', 'energy', 'positions'] as const,
    })),
  };
}

/**
 * A spherical pendulum on a precessing conical orbit under the closed-form equations, the generic exact
 * Euler–Lagrange solver (jets on the system's own L), cannon-es (a sphere on a distance constraint to a
 * fixed pivot: a ball-and-socket rod) and the spherical-pendulum LNN (`learned: false` leaves it out).
 */
export function sphericalRideScene(options: SphericalRideOptions = {}): SceneDefinition {
  const { q0, qd0 } = sphericalStart(options.cone ?? 0.7, options.spin ?? 0.75);
  const engines: { id: string; model?: string }[] = [
    { id: 'analytic' },
    { id: 'lagrangian' },
    { id: 'cannon' },
    ...(options.learned === false ? [] : [{ id: 'lnn', model: SPHERICAL_LNN }]),
  ];
  return {
    name: 'spherical-ride',
    description:
      'A spherical pendulum on a precessing conical orbit under exact, cannon-es and learned engines.',
    dt: 1 / 120,
    duration: options.duration ?? 20,
    ...rideLanes('spherical-pendulum', engines, q0, qd0),
    // Seen from the front, a little above the pivots, so the orbits read as ellipses on the ground.
    camera: { position: [0, 2.4, 7.5], target: [0, -0.7, 0], fov: 45 },
  };
}

export const sphericalRide: SceneModule = {
  id: 'spherical-ride',
  title: 'Spherical pendulum ride (3D)',
  summary:
    'A spherical pendulum on a precessing conical orbit, in 3D: closed form vs the generic Euler–Lagrange solver vs a cannon-es ball-and-socket rod vs the learned Lagrangian (assets/models/spherical-lnn).',
  options: [
    { name: 'cone', label: 'Cone angle θ₀', default: 0.7, min: 0.1, max: 1.2, step: 0.05 },
    { name: 'spin', label: 'Spin (× conical)', default: 0.75, min: 0, max: 1.5, step: 0.05 },
    { name: 'learned', label: 'Learned lane', default: 'on', choices: { on: 'On', off: 'Off' } },
  ],
  build: (o) =>
    sphericalRideScene({ cone: Number(o.cone), spin: Number(o.spin), learned: o.learned !== 'off' }),
  view: {
    kind: 'rigs',
    layout: 'side',
    spacing: 2.6,
    labelY: 0.55,
    pointRadius: 0.1,
    rodRadius: 0.02,
    trailLength: 360,
    threeD: true,
  },
  coordinates: ['α', 'β'],
  phaseCoordinate: () => 1,
};

export default sphericalRideScene();
