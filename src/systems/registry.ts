import type { System } from '../core/types.js';
import { Chain } from './Chain.js';
import { DoublePendulum } from './DoublePendulum.js';
import { DoubleSphericalPendulum } from './DoubleSphericalPendulum.js';
import { Membrane } from './Membrane.js';
import { NewtonianParticle } from './NewtonianParticle.js';
import type { ParamSpec } from './params.js';
import { RelativisticParticle } from './RelativisticParticle.js';
import { SimplePendulum } from './SimplePendulum.js';
import { SphericalPendulum } from './SphericalPendulum.js';
import { String3D } from './String3D.js';
import { StringSystem } from './StringSystem.js';

/** A registry entry as listed by {@link listSystems} (for `three-lnn systems`, GUIs, docs). */
export interface SystemInfo {
  /** Registry id, e.g. `double-pendulum`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** One-sentence description, including the Lagrangian's form where it matters. */
  readonly description: string;
  /** Degrees of freedom: a number, or a string saying how it depends on the parameters (e.g. `links`). */
  readonly dof: number | string;
  /** Parameters with defaults, meaning and accepted range. */
  readonly params: readonly ParamSpec[];
}

/** A registry entry: its description plus a factory. */
interface Entry extends SystemInfo {
  readonly create: (params: Partial<Record<string, number>>) => System;
}

const entries = new Map<string, Entry>();

/**
 * Add a system to the registry so that {@link createSystem} (and the CLI) can build it by id.
 * Registering an id twice replaces the earlier entry.
 * @example registerSystem({ id: 'spring', name: 'Spring', description: '…', dof: 1, params: [] }, () => spring);
 */
export function registerSystem(
  info: SystemInfo,
  create: (params: Partial<Record<string, number>>) => System,
): void {
  entries.set(info.id, { ...info, create });
}

registerSystem(
  {
    id: 'simple-pendulum',
    name: 'Simple pendulum',
    description: 'Point mass on a massless rod; θ from the downward vertical. L = ½ m l² θ̇² + m g l cos θ.',
    dof: 1,
    params: SimplePendulum.paramSpecs,
  },
  (p) => new SimplePendulum(p),
);
registerSystem(
  {
    id: 'double-pendulum',
    name: 'Double pendulum',
    description: 'Planar double pendulum, absolute angles from the downward vertical (Cranmer et al. 2020).',
    dof: 2,
    params: DoublePendulum.paramSpecs,
  },
  (p) => new DoublePendulum(p),
);
registerSystem(
  {
    id: 'chain',
    name: 'N-link chain',
    description: 'Planar chain of N point masses on massless rods; links = 2 is the double pendulum.',
    dof: 'links',
    params: Chain.paramSpecs,
  },
  (p) => new Chain(p),
);
registerSystem(
  {
    id: 'string',
    name: 'String',
    description:
      'Discretised 1D wave equation: N interior nodes, fixed ends, spacing Δx, density ρ, tension τ.',
    dof: 'nodes',
    params: StringSystem.paramSpecs,
  },
  (p) => new StringSystem(p),
);
registerSystem(
  {
    id: 'relativistic-particle',
    name: 'Relativistic particle',
    description: 'c = m = 1, L = (1 − q̇²)^(−1/2) − 1 + g q (the variant of Cranmer et al. 2020).',
    dof: 1,
    params: RelativisticParticle.paramSpecs,
  },
  (p) => new RelativisticParticle(p),
);
registerSystem(
  {
    id: 'newtonian-particle',
    name: 'Newtonian particle',
    description: 'Small-velocity limit of the relativistic particle: L = ½ q̇² + g q.',
    dof: 1,
    params: NewtonianParticle.paramSpecs,
  },
  (p) => new NewtonianParticle(p),
);
registerSystem(
  {
    id: 'spherical-pendulum',
    name: 'Spherical pendulum',
    description:
      'Point mass on a rod swinging in 3D; tilt–swing chart q = [α, β], bob at l(cos α sin β, −cos α cos β, sin α), singular only at α = ±π/2.',
    dof: 2,
    params: SphericalPendulum.paramSpecs,
  },
  (p) => new SphericalPendulum(p),
);
registerSystem(
  {
    id: 'double-spherical-pendulum',
    name: 'Double spherical pendulum',
    description:
      "Two bobs swinging in 3D; each rod in the spherical pendulum's chart, absolute angles q = [α1, β1, α2, β2].",
    dof: 4,
    params: DoubleSphericalPendulum.paramSpecs,
  },
  (p) => new DoubleSphericalPendulum(p),
);
registerSystem(
  {
    id: 'string-3d',
    name: '3D string',
    description:
      'The string with two transverse polarisations: N interior nodes, q = [y1, z1, y2, z2, …], fixed ends.',
    dof: '2 × nodes',
    params: String3D.paramSpecs,
  },
  (p) => new String3D(p),
);

registerSystem(
  {
    id: 'membrane',
    name: 'Membrane',
    description:
      'Discretised 2D wave equation: nx × ny interior nodes (q row-major, x fastest), fixed boundary, spacing h, density ρ, tension τ.',
    dof: 'nx · ny',
    params: Membrane.paramSpecs,
  },
  (p) => new Membrane(p),
);

/**
 * Build a registered system with optional parameter overrides.
 * @throws Error for an unknown id (listing the known ones), unknown parameter keys or invalid values
 * @example const sys = createSystem('double-pendulum', { g: 1.62 });
 */
export function createSystem(id: string, params: Partial<Record<string, number>> = {}): System {
  const entry = entries.get(id);
  if (!entry) {
    throw new Error(`Unknown system '${id}'. Known systems: ${[...entries.keys()].join(', ')}.`);
  }
  return entry.create(params);
}

/** Every registered system with its degrees of freedom and parameters, in registration order. */
export function listSystems(): SystemInfo[] {
  return [...entries.values()].map(({ create: _create, ...info }) => info);
}
