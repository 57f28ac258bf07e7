import type { System } from '../core/types.js';
import { createIntegrator, isIntegratorId } from '../integrators/registry.js';
import type { AddOptions } from './addOptions.js';
import { fillState } from './SystemHandle.js';
import type { WorldClock } from './types.js';

/** @throws Error unless `dt` is a finite number > 0 */
export function checkDt(dt: number, what: string): void {
  if (typeof dt !== 'number' || !Number.isFinite(dt) || dt <= 0) {
    throw new Error(`World: ${what} must be a finite number > 0, got ${dt}`);
  }
}

/** @throws Error unless `n` is an integer >= 1 */
export function checkMaxSubSteps(n: number): void {
  if (!(Number.isInteger(n) && n >= 1))
    throw new Error(`World: maxSubSteps must be an integer >= 1, got ${n}`);
}

/** @throws Error unless `s` is a finite number >= 0 */
export function checkTimeScale(s: number): void {
  if (!(typeof s === 'number' && Number.isFinite(s) && s >= 0)) {
    throw new Error(`World: timeScale must be a finite number >= 0, got ${s}`);
  }
}

/**
 * The clock, checked: a finite time, an integer step count >= 0, a finite accumulator >= 0, alpha in [0, 1].
 * @throws Error naming the first bad field and its value
 */
export function checkClock(clock: WorldClock): WorldClock {
  const { time, stepCount, accumulator = 0, alpha = 0 } = clock;
  if (!(typeof time === 'number' && Number.isFinite(time))) {
    throw new Error(`World.setClock: time must be a finite number, got ${time}`);
  }
  if (!(Number.isInteger(stepCount) && stepCount >= 0)) {
    throw new Error(`World.setClock: stepCount must be an integer >= 0, got ${stepCount}`);
  }
  if (!(typeof accumulator === 'number' && Number.isFinite(accumulator) && accumulator >= 0)) {
    throw new Error(`World.setClock: accumulator must be a finite number >= 0, got ${accumulator}`);
  }
  if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) {
    throw new Error(`World.setClock: alpha must be in [0, 1], got ${alpha}`);
  }
  return clock;
}

/**
 * Check `World.add`'s options against `system` before an engine is created (which may be expensive):
 * the count, a free name, a known integrator and initial states of the right length.
 * @throws Error naming the option and the fix
 */
export function checkAddOptions(
  world: { get(name: string): unknown },
  system: System,
  options: AddOptions,
): void {
  const count = options.count ?? 1;
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new Error(`World.add: count must be an integer >= 1, got ${count}`);
  }
  if (options.name !== undefined && world.get(options.name)) {
    throw new Error(`World.add: a system named '${options.name}' already exists; choose another name`);
  }
  const integrator = options.integrator ?? 'rk4';
  if (typeof integrator === 'string' && !isIntegratorId(integrator)) {
    createIntegrator(integrator); // throws the error listing the known integrators
  }
  const scratch = new Float64Array(system.dof * count);
  fillState(scratch, options.q0 ?? new Float64Array(system.dof), system.dof, count, 'World.add: q0');
  fillState(scratch, options.qd0 ?? new Float64Array(system.dof), system.dof, count, 'World.add: qd0');
}
