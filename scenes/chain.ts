import type { SceneDefinition } from '../src/index.js';
import { engineColors, engineLabels } from './palette.js';
import type { SceneModule } from './types.js';

/** Options of {@link chainScene}. */
export interface ChainOptions {
  /** Number of links (unit links up to 3, then 3 units long in total). @default 3 */
  links?: number;
  /** Initial angle of every link from the downward vertical, radians. @default 1.2 */
  angle?: number;
  /** Length of the run in seconds. @default 20 */
  duration?: number;
}

/**
 * An N-link pendulum chain released from a bent state under the closed-form equations, the generic exact
 * Euler–Lagrange solver (jets on the chain's own L) and cannon-es. The shipped learned chain
 * (`assets/models/chain3-lnn`) is not in this scene: the gallery shows a learned model once its energy
 * error under the paper's protocol is within 5× of the double pendulum's, and the chain's is 6.6×
 * (docs/results.md). It runs anywhere else (`engine: 'lnn'`, `three-lnn rollout`, `three-lnn eval`).
 */
export function chainScene(options: ChainOptions = {}): SceneDefinition {
  const links = options.links ?? 3;
  const angle = options.angle ?? 1.2;
  // A gentle curl so the links do not start collinear.
  const q0 = Array.from({ length: links }, (_, i) => angle + 0.25 * i);
  const engines: { id: string; model?: string }[] = [
    { id: 'analytic' },
    { id: 'lagrangian' },
    { id: 'cannon' },
  ];
  return {
    name: 'chain',
    description: `A ${links}-link pendulum chain under three exact engines.`,
    dt: 1 / 120,
    duration: options.duration ?? 20,
    systems: engines.map(({ id, model }) => ({
      id,
      system: 'chain',
      // Unit links up to three (the shipped chain model's), then a chain 3 units long.
      params: { links, l: Math.min(1, 3 / links) },
      engine: id,
      ...(model ? { model } : {}),
      integrator: 'rk4' as const,
      q0,
      qd0: new Array(links).fill(0),
      view: { color: engineColors[id], label: engineLabels[id] },
    })),
    camera: { position: [0, -0.2, 9.5], target: [0, -0.2, 0], fov: 45 },
  };
}

export const chain: SceneModule = {
  id: 'chain',
  title: 'N-link chain',
  summary:
    'A pendulum chain of up to 24 links: closed form vs the generic Euler–Lagrange solver vs cannon-es constraints (the learned chain stays out until it conserves energy within 5× of the double pendulum).',
  options: [
    { name: 'links', label: 'Links', default: 3, min: 2, max: 24, step: 1 },
    { name: 'angle', label: 'Initial angle', default: 1.2, min: -3.1, max: 3.1, step: 0.05 },
  ],
  build: (o) => chainScene({ links: Number(o.links), angle: Number(o.angle) }),
  view: { kind: 'rigs', layout: 'side', spacing: 6.4, labelY: 3.3, pointRadius: 0.07, rodRadius: 0.022 },
  coordinates: Array.from({ length: 24 }, (_, i) => `θ${i + 1}`),
  initialStateControls: false,
};
