import * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from '../model/metadata.js';
import { disposeParams, foldScales, type MlpParams, type NetworkSpec, paramsFromModel } from '../nn/mlp.js';
import { tidy } from '../nn/tidy.js';
import {
  disposeFusedWeights,
  type FusedWeights,
  prepareFusedWeights,
  registerFusedKernels,
} from '../nn/wasmKernels.js';
import { type BackendName, backendReady, ensureBackend } from './backend.js';

/** The weights of one TF.js backend: folded float32 tensors and, where available, fused-kernel weights. */
export interface WeightSet {
  /** Folded float32 tensors; null on the `js` backend. */
  readonly folded: MlpParams | null;
  /** Weights of the fused wasm/cpu Lagrangian kernels (`lnn`, `lgn`); null on webgl / js and for `baseline`. */
  readonly fused: FusedWeights | null;
}

/** Fold and upload `model`'s weights on `backend`, which must be the active TF.js backend. */
export function uploadWeights(model: LoadedModel, spec: NetworkSpec, backend: BackendName): WeightSet {
  const folded = backend === 'js' ? null : tidy(() => foldScales(paramsFromModel(model), spec));
  // The fused kernels compute Lagrangian terms: a baseline model has none.
  const fused =
    folded && model.metadata.kind !== 'baseline' && registerFusedKernels(backend) && model.layers.length > 1
      ? prepareFusedWeights(folded)
      : null;
  return { folded, fused };
}

/** Free the tensors of a weight set. */
export function disposeWeights(w: WeightSet): void {
  if (w.folded) disposeParams(w.folded);
  if (w.fused) disposeFusedWeights(w.fused);
}

/**
 * An engine's weight sets: one on its backend (`home`), and one on wasm for the `wasm` route of an
 * engine on another backend, uploaded on first use.
 */
export class EngineWeights {
  /** The weights on the engine's backend. */
  readonly home: WeightSet;
  private wasm: WeightSet | null = null;

  constructor(
    private readonly model: LoadedModel,
    private readonly spec: NetworkSpec,
    backend: BackendName,
  ) {
    this.home = uploadWeights(model, spec, backend);
  }

  /**
   * Run `fn` with wasm active and the wasm weights (uploaded on first use), then make the previously
   * active backend active again.
   */
  onWasm<T>(fn: (weights: WeightSet) => T): T {
    const previous = tf.engine().backendName;
    ensureBackend('wasm');
    try {
      this.wasm ??= uploadWeights(this.model, this.spec, 'wasm');
      return fn(this.wasm);
    } finally {
      if (previous && previous !== 'wasm' && backendReady(previous as Exclude<BackendName, 'js'>))
        ensureBackend(previous as Exclude<BackendName, 'js'>);
    }
  }

  /** The wasm weight set once uploaded, else null. */
  get onWasmSet(): WeightSet | null {
    return this.wasm;
  }

  /** Free both weight sets. */
  dispose(): void {
    disposeWeights(this.home);
    if (this.wasm) disposeWeights(this.wasm);
    this.wasm = null;
  }
}
