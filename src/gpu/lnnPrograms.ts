/**
 * The layer programs of the fused WebGL LNN (TF.js `GPGPUProgram`s): Act_0, Lin_l, Act_l and G_l. One q̈
 * of a network with H hidden layers is 3H − 1 shader passes (5 for 4→128→128→1) instead of dozens of
 * op-by-op dispatches: these 3H − 2 and the Solve pass (`programs/solve.ts`); an RK4 step is four of
 * those plus one combine pass (`programs/rk4Combine.ts`), with the state kept in textures between them.
 * The GLSL they share is in `glsl/` (maths library, network input); the shapes in `programs/shape.ts`.
 *
 * Layout (per state b, n degrees of freedom, k = n + 1 tangent directions e_{q̇_1} … e_{q̇_n}, u = (q̇, 0),
 * R = 2k + 3 rows per state):
 * - `X_l` `[B·R, w_l]`, layer l after its activation: row 0 σ(z), rows 1…k σ'(z)·T_r (tangents of the
 *   activation), row k+1 σ'(z), row k+2 σ''(z), rows k+3…2k+2 T_r = ∂z/∂(direction r).
 * - `Y_l` `[B·(k+1), w_l]`, layer l ≥ 1 before its activation: row 0 z, rows 1…k T_r.
 * - `G_l` `[B, w_l]`: adjoints ḡ_l = ∂L/∂a_l (the last hidden layer's is the output kernel).
 * - state `S0` `[B, 2n]` (q wrapped, q̇) at the start of a frame, increment `D` `[B, 2n+1]` since then
 *   (last column: worst solve flag), accelerations `A` `[B, n+1]` (last column: solve flag).
 * Weights are folded (input and output scales applied), float32.
 *
 * The network input is built in the layer-0 pass from the stage state through the model's input map
 * (src/model/inputMap.ts): per q input k a feature of coordinate coord[k] (q, wrap(q), cos q or sin q),
 * then q̇ (or atanh q̇ under the `rapidity` velocity embedding). The map is known when the programs are
 * generated, so its GLSL is straight-line code with no per-element branching; the `wrap` layout
 * (x = (wrap(q), q̇)) keeps its plain loops.
 *
 * Under `rapidity` every pass up to the Solve works against the velocity INPUTS φ = atanh(q̇) exactly as
 * for identity velocities (unit tangents e_{φ_r}, scales folded into W0); the Solve pass then maps the
 * sums to q̇ (src/model/inputMap.ts `applyVelocityMap`): with D = diag φ'(q̇) = diag 1/(1 − q̇²),
 * H_vv = D·h_vv·D + diag(φ''(q̇) ⊙ ∂L/∂φ), H_vq q̇ = D·h_vu, and flags a state with |q̇| ≥ 1 (outside the
 * embedding's domain) as failed with q̈ = 0.
 */

import { featureGlsl, inputFunctionsGlsl, isRapidity, stageStateGlsl, trigGlsl } from './glsl/input.js';
import { activationGlsl } from './glsl/math.js';
import { type LnnProgram, type LnnShape, rowsPerState } from './programs/shape.js';

/**
 * A read of `name[row, col]`: a direct texelFetch when the texture is known to have the logical 2-D shape
 * (weights always; state-sized textures while they fit the maximum texture size), else TF.js's sampler,
 * which maps a flat index onto a reshaped texture. texelFetch skips the normalised-coordinate arithmetic,
 * which software GL pays for on every read.
 */
function texelRead(name: string, row: string, col: string, direct: boolean): string {
  return direct ? `texelFetch(${name}, ivec2(${col}, ${row}), 0).r` : `get${name}(${row}, ${col})`;
}

/**
 * Pass Act_0: layer 0 with activation, straight from the stage state
 * q = q0 + cqv·q̇0 + cqa·Aq, q̇ = q̇0 + cva·Av where (q0, q̇0) = S0 + D. The input x = (features of q, q̇)
 * is formed from the input map; the tangent along u is T0_u = u_x·W0 with u_x[k] = slope_k · q̇_{coord k}
 * (the motion of the q inputs), along e_{q̇_r} the kernel row qWidth + r. Output `X_0`.
 */
export function layer0Program(shape: LnnShape, batch: number): LnnProgram {
  const { n, input } = shape;
  const k = n + 1;
  const R = rowsPerState(n);
  const w = shape.hidden[0];
  const qw = input.qWidth;
  // The velocity inputs: q̇ itself, or atanh(q̇) under `rapidity` (the tangent u keeps the q̇ of q's motion).
  const rap = isRapidity(input);
  const xv = rap ? 'xv[i]' : 'v[i]';
  const xvDecl = rap
    ? `\n      float xv[${n}];\n      for (int i = 0; i < ${n}; i++) xv[i] = atanhF(v[i]);`
    : '';
  let pre: string;
  if (input.identity) {
    // x = (wrap(q), q̇), u_x = (q̇, 0): one loop over the coordinates.
    pre = `${xvDecl}
      float z = getB0(j);
      float u = 0.0;
      for (int i = 0; i < ${n}; i++) {
        float wq = getW0(i, j);
        z += q[i] * wq + ${xv} * getW0(${n} + i, j);
        u += v[i] * wq;
      }`;
  } else {
    const terms: string[] = [];
    for (let kk = 0; kk < qw; kk++) {
      const { value, slope } = featureGlsl(input, kk);
      const vi = `v[${input.coord[kk]}]`;
      terms.push(
        `wq = getW0(${kk}, j); z += ${value} * wq; u += ${slope === null ? vi : `(${slope}) * ${vi}`} * wq;`,
      );
    }
    pre = `${xvDecl}
      ${trigGlsl(input)}
      float z = getB0(j);
      float u = 0.0;
      float wq;
      ${terms.join('\n      ')}
      for (int i = 0; i < ${n}; i++) z += ${xv} * getW0(${qw} + i, j);`;
  }
  return {
    variableNames: ['S0', 'D', 'Aq', 'Av', 'W0', 'B0'],
    outputShape: [batch * R, w],
    customUniforms: [
      { name: 'cqv', type: 'float' },
      { name: 'cqa', type: 'float' },
      { name: 'cva', type: 'float' },
    ],
    userCode: `${inputFunctionsGlsl(input)}
    void main() {
      ivec2 rc = getOutputCoords();
      int b = rc.x / ${R};
      int rr = rc.x - b * ${R};
      int j = rc.y;
      ${stageStateGlsl(shape, true)}
      ${pre}
      ${activationGlsl(shape.activation, 'z', 'a', 's1', 's2')}
      // Tangent r: along e_{q̇_r} the kernel row qWidth+r, along u the sum u.
      int r = rr <= ${k} ? rr - 1 : rr - ${k + 3};
      float t = r < ${n} ? getW0(${qw} + clamp(r, 0, ${n - 1}), j) : u;
      float outV;
      if (rr == 0) outV = a;
      else if (rr <= ${k}) outV = s1 * t;
      else if (rr == ${k + 1}) outV = s1;
      else if (rr == ${k + 2}) outV = s2;
      else outV = t;
      setOutput(outV);
    }`,
  };
}

/**
 * Pass Lin_l (l ≥ 1): z_l = a_{l−1} W_l + b_l and T_l = (σ'·T)_{l−1} W_l, reading rows 0…k of `X_{l−1}`.
 * Output `Y_l`.
 */
export function linearProgram(shape: LnnShape, l: number, batch: number, direct = false): LnnProgram {
  const { n } = shape;
  const k = n + 1;
  const R = rowsPerState(n);
  const wIn = shape.hidden[l - 1];
  const w = shape.hidden[l];
  return {
    variableNames: ['X', 'W', 'Bias'],
    outputShape: [batch * (k + 1), w],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int b = rc.x / ${k + 1};
      int r = rc.x - b * ${k + 1};
      int j = rc.y;
      int src = b * ${R} + r;
      float acc = 0.0;
      for (int i = 0; i < ${wIn}; i++) acc += ${texelRead('X', 'src', 'i', direct)} * ${texelRead('W', 'i', 'j', true)};
      setOutput(r == 0 ? acc + getBias(j) : acc);
    }`,
  };
}

/** Pass Act_l (l ≥ 1): activation of `Y_l` into `X_l`. */
export function activationProgram(shape: LnnShape, l: number, batch: number): LnnProgram {
  const { n } = shape;
  const k = n + 1;
  const R = rowsPerState(n);
  const w = shape.hidden[l];
  return {
    variableNames: ['Y'],
    outputShape: [batch * R, w],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int b = rc.x / ${R};
      int rr = rc.x - b * ${R};
      int j = rc.y;
      float z = getY(b * ${k + 1}, j);
      ${activationGlsl(shape.activation, 'z', 'a', 's1', 's2')}
      int r = rr <= ${k} ? rr - 1 : rr - ${k + 3};
      float t = getY(b * ${k + 1} + 1 + clamp(r, 0, ${k - 1}), j);
      float outV;
      if (rr == 0) outV = a;
      else if (rr <= ${k}) outV = s1 * t;
      else if (rr == ${k + 1}) outV = s1;
      else if (rr == ${k + 2}) outV = s2;
      else outV = t;
      setOutput(outV);
    }`,
  };
}

/**
 * Pass G_l (l ≤ H−2): ḡ_l[i] = Σ_j W_{l+1}[i, j] ḡ_{l+1}[j] σ'(z_{l+1}[j]). `Gnext` is the output kernel
 * `[w_{H−1}]` when l + 1 is the last hidden layer (`lastNext`), else `G_{l+1}` `[B, w_{l+1}]`.
 */
export function adjointProgram(
  shape: LnnShape,
  l: number,
  batch: number,
  lastNext: boolean,
  direct = false,
): LnnProgram {
  const { n } = shape;
  const k = n + 1;
  const R = rowsPerState(n);
  const w = shape.hidden[l];
  const wNext = shape.hidden[l + 1];
  return {
    variableNames: ['Xnext', 'W', 'Gnext'],
    outputShape: [batch, w],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int b = rc.x;
      int i = rc.y;
      int row = b * ${R} + ${k + 1};
      float acc = 0.0;
      for (int j = 0; j < ${wNext}; j++) {
        acc += ${texelRead('W', 'i', 'j', true)} * ${lastNext ? 'getGnext(j)' : 'getGnext(b, j)'} * ${texelRead('Xnext', 'row', 'j', direct)};
      }
      setOutput(acc);
    }`,
  };
}
