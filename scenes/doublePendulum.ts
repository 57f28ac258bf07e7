import type { SceneDefinition } from '../src/index.js';
import { engineColors, engineLabels } from './palette.js';
import type { SceneModule } from './types.js';

/** Engines compared side by side: id → model (learned engines). */
const ENGINES: readonly { engine: string; model?: string }[] = [
  { engine: 'analytic' },
  { engine: 'cannon' },
  { engine: 'lnn', model: 'assets/models/double-pendulum-lnn' },
  { engine: 'baseline', model: 'assets/models/double-pendulum-baseline' },
];

/**
 * The double pendulum of Cranmer et al. (2020), started from the same state under the exact
 * closed-form equations, cannon-es rigid bodies, a learned Lagrangian and a black-box network.
 * Headless: `three-lnn scene scenes/doublePendulum.ts --duration 10 --out run.json`.
 */
export function doublePendulumScene(
  options: { theta1?: number; theta2?: number; omega1?: number; omega2?: number; duration?: number } = {},
): SceneDefinition {
  const q0 = [options.theta1 ?? (3 * Math.PI) / 7, options.theta2 ?? (3 * Math.PI) / 4];
  const qd0 = [options.omega1 ?? 0, options.omega2 ?? 0];
  return {
    name: 'double-pendulum',
    description:
      'The same double pendulum under four engines: exact, cannon-es, LNN and a black-box network.',
    dt: 1 / 120,
    duration: options.duration ?? 20,
    systems: ENGINES.map(({ engine, model }) => ({
      id: engine,
      system: 'double-pendulum',
      engine,
      ...(model ? { model } : {}),
      integrator: 'rk4' as const,
      q0,
      qd0,
      view: { color: engineColors[engine], label: engineLabels[engine], trail: 240 },
    })),
    recorders: ENGINES.map(({ engine }) => ({ target: engine, quantities: ['q', 'qd', 'energy'] as const })),
    camera: { position: [0, -0.2, 9.5], target: [0, -0.2, 0], fov: 45 },
  };
}

/** The app's default scene. */
export const doublePendulum: SceneModule = {
  id: 'double-pendulum',
  title: 'Double pendulum, four engines',
  summary:
    'One initial state, four engines: exact physics, cannon-es, a Lagrangian Neural Network and a black-box network. Watch energy drift and chaos pull them apart.',
  coordinates: ['θ₁', 'θ₂'],
  build: () => doublePendulumScene(),
  view: { kind: 'rigs', layout: 'side', spacing: 4.3, labelY: 2.3 },
};

export default doublePendulumScene();
