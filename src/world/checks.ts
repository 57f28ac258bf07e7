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
