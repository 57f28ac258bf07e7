import type { ModelMetadata } from './metadata.js';

/**
 * How an angle coordinate enters the network (`input.angleEmbedding`, docs/model-format.md):
 * - `wrap` (default): one input, wrap(θ)·qScale — cheap, but not smooth where θ crosses ±π;
 * - `sincos`: two inputs, (cos θ, sin θ)·qScale — smooth and exactly periodic.
 */
export type AngleEmbedding = 'wrap' | 'sincos';

/** Every {@link AngleEmbedding}. */
export const ANGLE_EMBEDDINGS: readonly AngleEmbedding[] = ['wrap', 'sincos'];

/**
 * How velocities enter the network (`input.velocityEmbedding`):
 * - `identity` (default): q̇_i·qdScale_i;
 * - `rapidity`: atanh(q̇_i)·qdScale_i, for systems with a speed limit c = 1. The Lagrangian is then defined
 *   only for |q̇| < 1 and its H_vv can grow without bound as |q̇| → 1, so the learned flow can keep every
 *   speed below c (a network fed q̇ itself is smooth through |q̇| = 1 and cannot).
 */
export type VelocityEmbedding = 'identity' | 'rapidity';

/** Every {@link VelocityEmbedding}. */
export const VELOCITY_EMBEDDINGS: readonly VelocityEmbedding[] = ['identity', 'rapidity'];

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
  /** How the velocity inputs are formed (see {@link velocityValue}). */
  velocity: VelocityEmbedding;
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

/** The `input.velocityEmbedding` of a model (`identity` when absent). */
export function velocityEmbeddingOf(meta: Pick<ModelMetadata, 'input'>): VelocityEmbedding {
  return meta.input.velocityEmbedding ?? 'identity';
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
    velocity: velocityEmbeddingOf(meta),
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
    const v = velocityValue(map, qd[vo + i]);
    x[xo + qWidth + i] = scaled ? v * scale[qWidth + i] : v;
  }
}

/** Unscaled velocity input φ(v): v, or atanh(v) (`rapidity`; not finite for |v| ≥ 1). */
export function velocityValue(map: InputMap, v: number): number {
  return map.velocity === 'rapidity' ? Math.atanh(v) : v;
}

/** φ'(v): 1, or 1/(1 − v²) (`rapidity`). */
export function velocitySlope(map: InputMap, v: number): number {
  return map.velocity === 'rapidity' ? 1 / (1 - v * v) : 1;
}

/** φ''(v): 0, or 2v/(1 − v²)² (`rapidity`). */
export function velocityCurvature(map: InputMap, v: number): number {
  if (map.velocity !== 'rapidity') return 0;
  const w = 1 / (1 - v * v);
  return 2 * v * w * w;
}

/**
 * Turn derivatives taken against the velocity INPUTS into derivatives against q̇, in place, for one state
 * (a no-op for `identity`). Routes compute, with the scales folded into the first kernel and the velocity
 * tangents along the unit input directions: `hvv` `[n·n]` = ∂²L/∂φ_i∂φ_j, `hvu` `[n]` = ∂²L/∂φ_i∂u
 * (u = q-motion along q̇), `gv` `[n]` = ∂L/∂φ_i. With D = diag φ'(q̇):
 * H_vv = D·hvv·D + diag(φ''(q̇) ⊙ gv), H_vq q̇ = D·hvu, ∂L/∂q̇ = D·gv.
 * @param qd `[n]` velocities of the state at offset `vo`
 */
export function applyVelocityMap(
  map: InputMap,
  qd: ArrayLike<number>,
  vo: number,
  hvv: { [i: number]: number },
  hvu: { [i: number]: number },
  gv: { [i: number]: number },
): void {
  if (map.velocity === 'identity') return;
  const n = map.dof;
  for (let i = 0; i < n; i++) {
    const di = velocitySlope(map, qd[vo + i]);
    for (let j = 0; j < n; j++) hvv[i * n + j] *= di * velocitySlope(map, qd[vo + j]);
    hvv[i * n + i] += velocityCurvature(map, qd[vo + i]) * gv[i];
    hvu[i] *= di;
    gv[i] *= di;
  }
}
