import type { SceneDefinition } from '../src/index.js';
import { rideLanes } from './sphericalRide.js';
import type { SceneModule } from './types.js';

/** Where the double spherical pendulum's learned Lagrangian ships. */
export const DOUBLE_SPHERICAL_LNN = 'assets/models/double-spherical-lnn';

/**
 * The start of {@link doubleSphericalRideScene}, in the tilt–swing chart with absolute angles
 * (docs/systems3d.md), defaults m1 = m2 = l1 = l2 = 1, g = 9.8: rod 1 at (α1, β1) = (0.3, −0.4), 28° from
 * the downward vertical, rod 2 at (0.2, 0.55), 33° from it (cos α1 = 0.955, cos α2 = 0.980), moving at
 * q̇ = (0.45, −0.5, 0.25, 0.5) rad/s. Its energy above rest, E − E_rest = 4.59 J, is 0.937 of the sampler's
 * bound D = ½ g min((m1+m2) l1, m2 l2) = 4.9 J, so the whole trajectory stays in the sampler's box (each
 * rod within 60° of the vertical, cos α_i ≥ ½), the states a learned model is trained on. The motion is
 * chaotic, weakly: the largest Lyapunov exponent from this start is about 0.1 s⁻¹ (0.18 s⁻¹ over the first
 * 150 s), so a difference between two lanes grows about tenfold every 13–23 s. At this energy most starts
 * are quasi-periodic; this one was picked for its positive exponent.
 */
export const DOUBLE_SPHERICAL_START: { readonly q0: readonly number[]; readonly qd0: readonly number[] } = {
  q0: [0.3, -0.4, 0.2, 0.55],
  qd0: [0.45, -0.5, 0.25, 0.5],
};

/** Options of {@link doubleSphericalRideScene}. */
export interface DoubleSphericalRideOptions {
  /** Also run the learned LNN (`assets/models/double-spherical-lnn`). @default true */
  learned?: boolean;
  /** Length of the run in seconds (the lanes part within it). @default 60 */
  duration?: number;
}

/**
 * A double spherical pendulum from {@link DOUBLE_SPHERICAL_START} under the closed-form q̈, the generic
 * exact Euler–Lagrange solver (jets on the system's own L) and cannon-es (two spheres on distance
 * constraints, pivot–bob1 and bob1–bob2: two ball-and-socket rods) and the double-spherical-pendulum LNN
 * (`learned: false` leaves it out).
 * @example const run = await runScene(doubleSphericalRideScene({ duration: 5 }));
 */
export function doubleSphericalRideScene(options: DoubleSphericalRideOptions = {}): SceneDefinition {
  const q0 = [...DOUBLE_SPHERICAL_START.q0];
  const qd0 = [...DOUBLE_SPHERICAL_START.qd0];
  const engines: { id: string; model?: string }[] = [
    { id: 'analytic' },
    { id: 'lagrangian' },
    { id: 'cannon' },
    ...(options.learned === false ? [] : [{ id: 'lnn', model: DOUBLE_SPHERICAL_LNN }]),
  ];
  return {
    name: 'double-spherical-ride',
    description:
      'A chaotic double spherical pendulum under the closed form, the Euler–Lagrange solver and cannon-es. ' +
      'Watch the lanes agree at first, then part as chaos amplifies each engine’s small differences tenfold ' +
      'every 13–23 s (cannon-es within about a minute), while every lane keeps its energy bounded.',
    dt: 1 / 120,
    duration: options.duration ?? 60,
    ...rideLanes('double-spherical-pendulum', engines, q0, qd0),
    // From the front and above the pivots, so the lower bobs' paths read as curves over the ground.
    camera: { position: [0, 3.2, 8], target: [0, -1.2, 0], fov: 45 },
  };
}

export const doubleSphericalRide: SceneModule = {
  id: 'double-spherical-ride',
  title: 'Double spherical pendulum (3D)',
  summary:
    'A chaotic double spherical pendulum, in 3D: closed form vs the generic Euler–Lagrange solver vs two cannon-es ball-and-socket rods vs the learned Lagrangian (assets/models/double-spherical-lnn). The lanes agree at first, then chaos pulls them apart; every lane keeps its energy bounded.',
  options: [{ name: 'learned', label: 'Learned lane', default: 'on', choices: { on: 'On', off: 'Off' } }],
  build: (o) => doubleSphericalRideScene({ learned: o.learned !== 'off' }),
  view: {
    kind: 'rigs',
    layout: 'side',
    // From this start the bobs stay within 0.75 of their pivot sideways (1.73 at most in the sampler's box).
    spacing: 2.6,
    labelY: 0.55,
    pointRadius: 0.1,
    rodRadius: 0.02,
    trailLength: 360,
    threeD: true,
  },
  coordinates: ['α₁', 'β₁', 'α₂', 'β₂'],
  phaseCoordinate: () => 3,
};

export default doubleSphericalRideScene();
