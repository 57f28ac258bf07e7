import type { ModelMetadata } from './metadata';

/**
 * How an angle coordinate enters the network (`input.angleEmbedding`, docs/model-format.md):
 * - `wrap` (default): one input, wrap(θ)·qScale — cheap, but not smooth where θ crosses ±π;
 * - `sincos`: two inputs, (cos θ, sin θ)·qScale — smooth and exactly periodic.
 */
export type AngleEmbedding = 'wrap' | 'sincos';

/** Every {@link AngleEmbedding}. */
export const ANGLE_EMBEDDINGS: readonly AngleEmbedding[] = ['wrap', 'sincos'];

/**
 * What a q input of the network is as a function of its coordinate: `identity` (q_i, or wrap(q_i) for an
 * angle under `wrap`; slope 1), `cos` (cos q_i; slope −sin q_i), `sin` (sin q_i; slope cos q_i).
 */
export const Feature = { identity: 0, cos: 1, sin: 2 } as const;

/**
 * The map from a state (q, q̇) with n coordinates to the network input x of an `lnn`/`baseline` model:
 *
 *     x = [ f_1(q), …, f_{qWidth}(q),  q̇_1·qdScale_1, …, q̇_n·qdScale_n ]
 *
 * where the q features are, coordinate by coordinate, `q_i·qScale_i` (not an angle), `wrap(q_i)·qScale_i`
 * (angle, `wrap`) or `cos q_i·qScale_i, sin q_i·qScale_i` (angle, `sincos`). Every route of the learned
 * engines builds its input and maps ∂L/∂x back to ∂L/∂q through this one description:
 * ∂L/∂q_i = Σ_{k: coord[k] = i} slope_k(q_i) · ∂L/∂x_k (with the scales folded into the first kernel).
 */
export interface InputMap {
  embedding: AngleEmbedding;
  /** n. */
  dof: number;
  /** Number of q inputs (n for `wrap`; n + number of angles for `sincos`). */
  qWidth: number;
  /** Network input width, qWidth + n (= architecture.layers[0]). */
  width: number;
  /** Per q input: the coordinate it is a function of. */
  coord: Int32Array;
  /** Per q input: the {@link Feature}. */
  feature: Uint8Array;
  /** Per q input: whether it is wrapped (an angle under `wrap`). */
  wrapped: Uint8Array;
  /** Per network input (width entries): its scale (qScale of its coordinate, then qdScale). */
  scale: Float64Array;
  /** Whether every q input is the identity of its coordinate (the `wrap` layout: x = (wrap(q), q̇)). */
  identity: boolean;
}

/** wrap(θ) = θ − 2π·floor((θ + π) / 2π): maps an angle into [−π, π). */
export function wrapAngle(theta: number): number {
  return theta - 2 * Math.PI * Math.floor((theta + Math.PI) / (2 * Math.PI));
}

/** The `input.angleEmbedding` of a model (`wrap` when absent). */
export function angleEmbeddingOf(meta: Pick<ModelMetadata, 'input'>): AngleEmbedding {
  return meta.input.angleEmbedding ?? 'wrap';
}

/**
 * The input map of an `lnn`/`baseline` model from its metadata (dof, angles, input scales, embedding).
 * @example const map = inputMapOf(model.metadata); // map.width === model.metadata.architecture.layers[0]
 */
export function inputMapOf(meta: Pick<ModelMetadata, 'dof' | 'angles' | 'input'>): InputMap {
  const n = meta.dof;
  const embedding = angleEmbeddingOf(meta);
  const coord: number[] = [];
  const feature: number[] = [];
  const wrapped: number[] = [];
  const scale: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = meta.input.qScale[i];
    if (meta.angles[i] && embedding === 'sincos') {
      coord.push(i, i);
      feature.push(Feature.cos, Feature.sin);
      wrapped.push(0, 0);
      scale.push(s, s);
    } else {
      coord.push(i);
      feature.push(Feature.identity);
      wrapped.push(meta.angles[i] ? 1 : 0);
      scale.push(s);
    }
  }
  for (let i = 0; i < n; i++) scale.push(meta.input.qdScale[i]);
  const qWidth = coord.length;
  return {
    embedding,
    dof: n,
    qWidth,
    width: qWidth + n,
    coord: Int32Array.from(coord),
    feature: Uint8Array.from(feature),
    wrapped: Uint8Array.from(wrapped),
    scale: Float64Array.from(scale),
    identity: qWidth === n,
  };
}

/**
 * Unscaled value of q input k for coordinate value `qi` (wrap(qi), qi, cos qi or sin qi).
 */
export function featureValue(map: InputMap, k: number, qi: number): number {
  switch (map.feature[k]) {
    case Feature.cos:
      return Math.cos(qi);
    case Feature.sin:
      return Math.sin(qi);
    default:
      return map.wrapped[k] ? wrapAngle(qi) : qi;
  }
}

/** d(unscaled q input k)/dq_{coord[k]} at coordinate value `qi`: 1, −sin qi or cos qi. */
export function featureSlope(map: InputMap, k: number, qi: number): number {
  switch (map.feature[k]) {
    case Feature.cos:
      return -Math.sin(qi);
    case Feature.sin:
      return Math.cos(qi);
    default:
      return 1;
  }
}

/**
 * Write the network input of one state into `x[xo … xo + width)`.
 * @param scaled multiply by the input scales (false when they are folded into the first kernel)
 */
export function fillInput(
  map: InputMap,
  q: ArrayLike<number>,
  qo: number,
  qd: ArrayLike<number>,
  vo: number,
  x: { [i: number]: number },
  xo: number,
  scaled: boolean,
): void {
  const { qWidth, dof, coord, scale } = map;
  for (let k = 0; k < qWidth; k++) {
    const v = featureValue(map, k, q[qo + coord[k]]);
    x[xo + k] = scaled ? v * scale[k] : v;
  }
  for (let i = 0; i < dof; i++) {
    const v = qd[vo + i];
    x[xo + qWidth + i] = scaled ? v * scale[qWidth + i] : v;
  }
}
