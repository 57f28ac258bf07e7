import type { SceneDefinition } from '../src/scene/types';
import { engineColors, engineLabels } from './palette';
import type { SceneModule } from './types';

/** Options of {@link chainScene}. */
export interface ChainOptions {
  /** Number of links (the chain is 2 units long whatever their number). @default 5 */
  links?: number;
  /** Initial angle of every link from the downward vertical, radians. @default 1.2 */
  angle?: number;
  /** Length of the run in seconds. @default 20 */
  duration?: number;
}

/**
 * An N-link pendulum chain released from a bent state under the closed-form equations, the generic exact
 * Euler–Lagrange solver (jets on the chain's own L), cannon-es and a learned model of the chain.
 */
export function chainScene(options: ChainOptions = {}): SceneDefinition {
  const links = options.links ?? 5;
  const angle = options.angle ?? 1.2;
  // A gentle curl so the links do not start collinear.
  const q0 = Array.from({ length: links }, (_, i) => angle + 0.25 * i);
  const engines: { id: string; model?: string }[] = [
    { id: 'analytic' },
    { id: 'lagrangian' },
    { id: 'cannon' },
    { id: 'lnn', model: 'assets/models/chain-lnn' },
  ];
  return {
    name: 'chain',
    description: `A ${links}-link pendulum chain under four engines.`,
    dt: 1 / 120,
    duration: options.duration ?? 20,
    systems: engines.map(({ id, model }) => ({
      id,
      system: 'chain',
      params: { links, l: 2 / links },
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
    'A pendulum chain of up to 24 links: closed form vs the generic Euler–Lagrange solver vs cannon-es constraints vs a learned model.',
  options: [
    { name: 'links', label: 'Links', default: 5, min: 2, max: 24, step: 1 },
    { name: 'angle', label: 'Initial angle', default: 1.2, min: -3.1, max: 3.1, step: 0.05 },
  ],
  build: (o) => chainScene({ links: Number(o.links), angle: Number(o.angle) }),
  view: { kind: 'rigs', layout: 'side', spacing: 4.3, labelY: 2.3, pointRadius: 0.06, rodRadius: 0.02 },
  coordinates: Array.from({ length: 24 }, (_, i) => `θ${i + 1}`),
  initialStateControls: false,
};
