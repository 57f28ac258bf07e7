import * as tf from '@tensorflow/tfjs-core';

/** Adam's decay rates and the ε under the square root. */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** The learning-rate schedule: linear warm-up to `lr`, then cosine decay to `lrMin` over `decaySteps`. */
export interface LrSchedule {
  lr: number;
  lrMin: number;
  warmup: number;
  decaySteps: number;
}

/** Learning rate of (0-based) step `t` under `s`. */
export function lrAt(t: number, s: LrSchedule): number {
  if (t < s.warmup) return (s.lr * (t + 1)) / s.warmup;
  const x = Math.min(1, Math.max(0, (t - s.warmup) / Math.max(1, s.decaySteps - s.warmup)));
  return s.lrMin + 0.5 * (s.lr - s.lrMin) * (1 + Math.cos(Math.PI * x));
}

/** Factor that scales gradients of global norm `gradNorm` down to norm `clip` (1 when already below). */
export function clipScale(gradNorm: number, clip: number): number {
  return Math.min(1, clip / (gradNorm + 1e-12));
}

/** Squared global L2 norm of `grads` (one scalar tensor; its square root in float64 is the norm). */
export function squaredNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.addN(grads.map((x) => tf.sum(tf.square(x)))) as tf.Scalar;
}

/**
 * Adam's moment estimates for a list of variables, and its update. The moments are variables themselves,
 * so a checkpoint can read and restore them ({@link Adam.moments}).
 */
export class Adam {
  /** First moments, one per variable. */
  readonly m: tf.Variable[];
  /** Second moments, one per variable. */
  readonly v: tf.Variable[];

  /** @param id prefix of the moments' variable names (unique per trainer) */
  constructor(vars: readonly tf.Variable[], id: string) {
    this.m = tf.tidy(() => vars.map((x, i) => tf.variable(tf.zerosLike(x), false, `${id}/m${i}`)));
    this.v = tf.tidy(() => vars.map((x, i) => tf.variable(tf.zerosLike(x), false, `${id}/v${i}`)));
  }

  /** Every moment variable: the first moments, then the second (checkpoint order). */
  get moments(): tf.Variable[] {
    return [...this.m, ...this.v];
  }

  /**
   * Apply update number `t` (1-based, for the bias correction) to `vars` with gradients `grads` scaled
   * by `scale` (clipping) at learning rate `lr`. Call inside `tf.tidy`.
   */
  update(
    vars: readonly tf.Variable[],
    grads: readonly tf.Tensor[],
    scale: number,
    lr: number,
    t: number,
  ): void {
    const { beta1: b1, beta2: b2, epsilon } = ADAM;
    const c1 = 1 / (1 - b1 ** t);
    const c2 = 1 / (1 - b2 ** t);
    for (let i = 0; i < vars.length; i++) {
      const gi = tf.mul(grads[i], scale);
      this.m[i].assign(tf.add(tf.mul(this.m[i], b1), tf.mul(gi, 1 - b1)));
      this.v[i].assign(tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(gi), 1 - b2)));
      const upd = tf.div(tf.mul(this.m[i], c1), tf.add(tf.sqrt(tf.mul(this.v[i], c2)), epsilon));
      vars[i].assign(tf.sub(vars[i], tf.mul(upd, lr)));
    }
  }

  /** Free the moments. */
  dispose(): void {
    for (const x of this.moments) x.dispose();
  }
}
