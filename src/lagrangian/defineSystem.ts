import { LagrangianSystem, type SystemDefinition } from './LagrangianSystem.js';

/**
 * Script a new system from its Lagrangian alone. q̈, energy E = q̇·∂L/∂q̇ − L and momentum ∂L/∂q̇ are
 * computed exactly by forward-mode automatic differentiation; positions, segments and the sampler are
 * optional.
 * @example
 * const spring = defineSystem({
 *   id: 'spring',
 *   dof: 1,
 *   params: { m: 1, k: 4 },
 *   L: (o, q, qd, p) => o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5 * p.m), o.scale(o.mul(q[0], q[0]), 0.5 * p.k)),
 * });
 * spring.accelerations(Float64Array.of(0.5), Float64Array.of(0), qdd, 1); // qdd = [-2]
 */
export function defineSystem(definition: SystemDefinition): LagrangianSystem {
  return new LagrangianSystem(definition);
}
