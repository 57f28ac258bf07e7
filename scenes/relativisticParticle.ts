import type { SceneDefinition } from '../src/index.js';
import { engineColors } from './palette.js';
import type { SceneModule } from './types.js';

/** Options of {@link relativisticParticleScene}. */
export interface RelativisticParticleOptions {
  /** Initial speed as a fraction of c. @default 0 */
  speed?: number;
  /** Constant force per unit mass. @default 1 */
  force?: number;
  /** Length of the run in seconds. @default 6 */
  duration?: number;
}

/**
 * A particle pushed by a constant force (c = m = 1): the relativistic Lagrangian keeps it below the
 * speed of light, its Newtonian counterpart passes c after 1/g seconds, and an LNN trained on the
 * relativistic particle follows the exact one.
 */
export function relativisticParticleScene(options: RelativisticParticleOptions = {}): SceneDefinition {
  const params = { g: options.force ?? 1 };
  const q0 = [0];
  const qd0 = [options.speed ?? 0];
  return {
    name: 'relativistic-particle',
    description: 'Constant force: relativistic vs Newtonian motion, and a learned relativistic Lagrangian.',
    dt: 1 / 120,
    duration: options.duration ?? 6,
    systems: [
      {
        id: 'analytic',
        system: 'relativistic-particle',
        params,
        engine: 'analytic',
        q0,
        qd0,
        view: { color: engineColors.analytic, label: 'Relativistic (exact)' },
      },
      {
        id: 'lnn',
        system: 'relativistic-particle',
        params,
        engine: 'lnn',
        model: 'assets/models/relativistic-lnn',
        q0,
        qd0,
        view: { color: engineColors.lnn, label: 'LNN (learned relativistic L)' },
      },
      {
        id: 'newtonian',
        system: 'newtonian-particle',
        params,
        engine: 'analytic',
        q0,
        qd0,
        view: { color: '#facc15', label: 'Newtonian (same force)' },
      },
    ],
    camera: { position: [1.6, -0.6, 9], target: [1.6, -0.6, 0], fov: 45 },
  };
}

export const relativisticParticle: SceneModule = {
  id: 'relativistic-particle',
  title: 'Relativistic particle',
  summary:
    'A constant force on a particle: the relativistic Lagrangian never reaches c, the Newtonian one passes it, and a learned LNN stays with the exact relativistic motion.',
  options: [
    { name: 'speed', label: 'Initial speed (c)', default: 0, min: -0.9, max: 0.9, step: 0.05 },
    { name: 'force', label: 'Force', default: 1, min: 0.1, max: 3, step: 0.1 },
  ],
  build: (o) => relativisticParticleScene({ speed: Number(o.speed), force: Number(o.force) }),
  view: {
    kind: 'rigs',
    layout: 'side',
    stackVertically: true,
    spacing: 0.8,
    offset: [-2, 0, 0],
    pointRadius: 0.12,
    trailLength: 400,
    labelY: 0.4,
    ruler: { from: 0, to: 9, step: 0.5 },
    lightFront: true,
  },
  coordinates: ['x'],
  initialStateControls: false,
  loopAfter: 6,
};
