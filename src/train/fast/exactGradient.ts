import { inputMapOf } from '../../model/inputMap.js';
import type { ModelMetadata } from '../../model/metadata.js';
import type { LossName } from '../options.js';
import type { GradKernels } from './kernels.js';
import { type LnnNet, type LossGradient, lnnLossGradient } from './lnnLossGradient.js';
import { SimdKernels, trainKernelsAvailable } from './simdKernels.js';

/**
 * How the trainer differentiates the q̈ loss: `exact` — the hand-derived backward of
 * {@link lnnLossGradient} (lnn models with softplus or tanh and q̇ inputs); `autodiff` — TF.js autodiff
 * through the tensor q̈ (every kind); `auto` — exact where it applies, else autodiff.
 */
export type GradientMethod = 'auto' | 'exact' | 'autodiff';

/** Every {@link GradientMethod}. */
export const GRADIENT_METHODS: readonly GradientMethod[] = ['auto', 'exact', 'autodiff'];

/** Why the exact gradient does not apply to a model of this metadata on this backend, or null when it does. */
export function exactGradientUnsupported(meta: ModelMetadata, backend: string): string | null {
  if (meta.kind !== 'lnn') return `it differentiates lnn models (this one is ${meta.kind})`;
  const act = meta.architecture.activation;
  if (act !== 'softplus' && act !== 'tanh') return `it needs σ‴ (softplus or tanh), not ${act}`;
  if ((meta.input.velocityEmbedding ?? 'identity') !== 'identity') return 'it takes q̇ inputs, not atanh(q̇)';
  if (meta.architecture.layers.length < 3) return 'it needs a hidden layer';
  if (!trainKernelsAvailable()) return 'its kernels need WebAssembly SIMD, which this runtime lacks';
  if (backend !== 'wasm' && backend !== 'cpu')
    return `it reads every GEMM back and runs on the wasm or cpu backend (active: ${backend})`;
  return null;
}

/**
 * The exact loss gradient of an `lnn` model's q̈ for the trainer: the network description fixed at
 * construction, the weights passed per call (manifest order, raw).
 */
export class ExactLnnGradient {
  private readonly net: LnnNet;

  constructor(
    meta: ModelMetadata,
    private readonly kernels: GradKernels<unknown> = new SimdKernels() as GradKernels<unknown>,
  ) {
    this.net = {
      layers: meta.architecture.layers,
      activation: meta.architecture.activation as 'softplus' | 'tanh',
      map: inputMapOf(meta),
      outputScale: meta.output.scale,
      hvvEpsilon: meta.solver?.hvvEpsilon,
    };
  }

  /** Loss and gradient of a batch (`q`, `qd`, `target`: `[batch * n]`). */
  lossAndGradient(
    weights: readonly ArrayLike<number>[],
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    target: ArrayLike<number>,
    batch: number,
    loss: LossName,
    huberDelta: number,
  ): LossGradient {
    return lnnLossGradient(this.net, weights, q, qd, target, batch, loss, huberDelta, this.kernels);
  }
}
