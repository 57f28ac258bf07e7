import type { Integrator, IntegratorId } from '../core/types.js';
import { DormandPrince5, type DormandPrince5Options } from './DormandPrince5.js';
import { Leapfrog } from './Leapfrog.js';
import { RungeKutta4 } from './RungeKutta4.js';
import { SymplecticEuler } from './SymplecticEuler.js';

/** Options of {@link createIntegrator}; only the adaptive method reads them. */
export type IntegratorOptions = DormandPrince5Options;

/** What {@link listIntegrators} reports about each method. */
export interface IntegratorInfo {
  readonly id: IntegratorId;
  readonly name: string;
  readonly order: number;
  readonly symplectic: boolean;
  readonly adaptive: boolean;
}

const factories: Record<IntegratorId, (options: IntegratorOptions) => Integrator> = {
  'symplectic-euler': () => new SymplecticEuler(),
  leapfrog: () => new Leapfrog(),
  rk4: () => new RungeKutta4(),
  dopri5: (options) => new DormandPrince5(options),
};

/** Ids of every integrator, cheapest first. */
export const INTEGRATOR_IDS = Object.keys(factories) as IntegratorId[];

/** Whether `id` names an integrator. */
export function isIntegratorId(id: unknown): id is IntegratorId {
  return typeof id === 'string' && Object.hasOwn(factories, id);
}

/**
 * A new integrator instance (each owns its scratch buffers; do not share one between threads of work
 * that interleave steps with different batch sizes if allocation matters).
 * @throws Error naming the unknown id and listing the known ones.
 * @example const rk4 = createIntegrator('rk4');
 * @example const truth = createIntegrator('dopri5', { rtol: 1e-13, atol: 1e-13 });
 */
export function createIntegrator(id: IntegratorId, options: IntegratorOptions = {}): Integrator {
  if (!isIntegratorId(id)) {
    throw new Error(`Unknown integrator '${String(id)}'. Known integrators: ${INTEGRATOR_IDS.join(', ')}`);
  }
  return factories[id](options);
}

/** Every integrator with its order and properties. */
export function listIntegrators(): IntegratorInfo[] {
  return INTEGRATOR_IDS.map((id) => {
    const { name, order, symplectic, adaptive } = createIntegrator(id);
    return { id, name, order, symplectic, adaptive };
  });
}
