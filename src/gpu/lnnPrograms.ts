/**
 * Fused WebGL programs (TF.js `GPGPUProgram`s) for the LNN q̈ and an RK4 step. One q̈ of a network with
 * H hidden layers is 3H − 1 shader passes (5 for 4→128→128→1) instead of dozens of op-by-op dispatches;
 * an RK4 step is four of those plus one combine pass, with the state kept in textures between them.
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
import { Feature, type InputMap } from '../model/inputMap.js';
import type { Activation } from '../model/metadata.js';

/** The subset of TF.js's GPGPUProgram these programs use. */
export interface LnnProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms?: { name: string; type: 'float' }[];
}

/** Shape of the network the programs are generated for. */
export interface LnnShape {
  /** Degrees of freedom n. */
  n: number;
  /** Hidden widths w_0 … w_{H−1}. */
  hidden: readonly number[];
  activation: Activation;
  /**
   * The input map (`inputMapOf(model.metadata)`): which q inputs are which feature of which coordinate;
   * the coordinates of `wrap` inputs are wrapped into [−π, π) at each stage; under the `rapidity` velocity
   * embedding the velocity inputs are atanh(q̇).
   */
  input: Pick<InputMap, 'qWidth' | 'coord' | 'feature' | 'wrapped' | 'identity' | 'velocity'>;
  /** Diagonal shift ε for a non-definite H_vv, or undefined for the relative default. */
  epsilon?: number;
}

/** Rows per state in an `X` texture. */
export function rowsPerState(n: number): number {
  return 2 * (n + 1) + 3;
}

/**
 * A read of `name[row, col]`: a direct texelFetch when the texture is known to have the logical 2-D shape
 * (weights always; state-sized textures while they fit the maximum texture size), else TF.js's sampler,
 * which maps a flat index onto a reshaped texture. texelFetch skips the normalised-coordinate arithmetic,
 * which software GL pays for on every read.
 */
function fetch(name: string, row: string, col: string, direct: boolean): string {
  return direct ? `texelFetch(${name}, ivec2(${col}, ${row}), 0).r` : `get${name}(${row}, ${col})`;
}

const f = (x: number) => (Number.isInteger(x) ? `${x}.0` : `${x}`);

/** GLSL σ, σ', σ'' of z written to the named variables. */
function activationGlsl(act: Activation, z: string, a: string, d1: string, d2: string): string {
  if (act === 'softplus') {
    return `
      float e_ = exp(-abs(${z}));
      float ${a} = max(${z}, 0.0) + log(1.0 + e_);
      float ${d1} = ${z} >= 0.0 ? 1.0 / (1.0 + e_) : e_ / (1.0 + e_);
      float ${d2} = ${d1} * (1.0 - ${d1});`;
  }
  if (act === 'tanh') {
    return `
      float ${a} = tanh(clamp(${z}, -15.0, 15.0));
      float ${d1} = 1.0 - ${a} * ${a};
      float ${d2} = -2.0 * ${a} * ${d1};`;
  }
  throw new Error(`Fused WebGL LNN: activation '${act}' has no second derivative; use softplus or tanh.`);
}

/**
 * GLSL that declares `float q[n]` (and `float v[n]` when `withV`) holding the stage state
 * q = q0 + cqv·q̇0 + cqa·Aq, q̇ = q̇0 + cva·Av with (q0, q̇0) = S0 + D, reading row `b`, and wraps the
 * coordinates of `wrap` inputs into [−π, π). Uniforms `cqv`, `cqa` (and `cva`).
 */
function stageStateGlsl(shape: LnnShape, withV: boolean): string {
  const { n } = shape;
  const { coord, wrapped, qWidth } = shape.input;
  const wrap: string[] = [];
  for (let k = 0; k < qWidth; k++) {
    if (!wrapped[k]) continue;
    const i = coord[k];
    wrap.push(
      `q[${i}] = q[${i}] - 6.283185307179586 * floor((q[${i}] + 3.141592653589793) / 6.283185307179586);`,
    );
  }
  return `
      float q[${n}];
      ${withV ? `float v[${n}];` : ''}
      for (int i = 0; i < ${n}; i++) {
        float v0 = getS0(b, ${n} + i) + getD(b, ${n} + i);
        q[i] = getS0(b, i) + getD(b, i) + cqv * v0 + cqa * getAq(b, i);
        ${withV ? 'v[i] = v0 + cva * getAv(b, i);' : ''}
      }
      ${wrap.join('\n      ')}`;
}

/**
 * GLSL `vec2 cosSin(float x)` = (cos x, sin x) to float32 accuracy: a Cody–Waite reduction by π/2 (π/2
 * split in three parts) and the Cephes minimax polynomials on [−π/4, π/4]. The built-in GLSL sin/cos
 * carry no accuracy guarantee and differ by vendor (SwiftShader's err by ~2e-4), which would dominate
 * the float32 error of q̈.
 */
const COS_SIN_GLSL = `
    vec2 cosSin(float x) {
      float j = floor(x * 0.6366197723675814 + 0.5);
      float r = ((x - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.549789954891882e-8;
      float z = r * r;
      float s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
      float c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
      float m = j - 4.0 * floor(0.25 * j);
      bool odd = m == 1.0 || m == 3.0;
      float sv = odd ? c : s;
      float cv = odd ? s : c;
      return vec2(m == 1.0 || m == 2.0 ? -cv : cv, m >= 2.0 ? -sv : sv);
    }`;

/** Whether some q input is cos/sin of its coordinate (the program then needs {@link COS_SIN_GLSL}). */
function hasTrig(input: LnnShape['input']): boolean {
  for (let k = 0; k < input.qWidth; k++) if (input.feature[k] !== Feature.identity) return true;
  return false;
}

/** GLSL declaring `cq<i>` = cos q[i] and `sq<i>` = sin q[i] for every coordinate with a cos/sin input. */
function trigGlsl(input: LnnShape['input']): string {
  const done = new Set<number>();
  const lines: string[] = [];
  for (let k = 0; k < input.qWidth; k++) {
    const i = input.coord[k];
    if (input.feature[k] === Feature.identity || done.has(i)) continue;
    done.add(i);
    lines.push(`vec2 cs${i} = cosSin(q[${i}]);`, `float cq${i} = cs${i}.x;`, `float sq${i} = cs${i}.y;`);
  }
  return lines.join('\n      ');
}

/**
 * GLSL `float atanhF(float x)` to float32 accuracy on (−1, 1): the Cephes polynomial for |x| < 0.5 (where
 * 0.5·log((1 + x)/(1 − x)) would lose the relative accuracy of small x), else that logarithm. Not finite,
 * or NaN, for |x| ≥ 1; the Solve pass flags those states from q̇ itself.
 */
const ATANH_GLSL = `
    float atanhF(float x) {
      if (abs(x) < 0.5) {
        float z = x * x;
        return x + x * z * ((((1.81740078349e-1 * z + 8.24370301058e-2) * z + 1.46691431730e-1) * z + 1.99782164500e-1) * z + 3.33337300303e-1);
      }
      return 0.5 * log((1.0 + x) / (1.0 - x));
    }`;

/** Whether the velocity inputs are atanh(q̇) (`rapidity`) rather than q̇. */
function isRapidity(input: LnnShape['input']): boolean {
  return input.velocity === 'rapidity';
}

/** GLSL helper functions a program that forms the network input needs (cos/sin, atanh). */
function inputFunctionsGlsl(input: LnnShape['input']): string {
  return `${hasTrig(input) ? COS_SIN_GLSL : ''}${isRapidity(input) ? ATANH_GLSL : ''}`;
}

/** GLSL expressions of q input k: its (unscaled) value and its slope d x_k / d q_{coord k}. */
function featureGlsl(input: LnnShape['input'], k: number): { value: string; slope: string | null } {
  const i = input.coord[k];
  switch (input.feature[k]) {
    case Feature.cos:
      return { value: `cq${i}`, slope: `-sq${i}` };
    case Feature.sin:
      return { value: `sq${i}`, slope: `cq${i}` };
    default:
      return { value: `q[${i}]`, slope: null };
  }
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
      for (int i = 0; i < ${wIn}; i++) acc += ${fetch('X', 'src', 'i', direct)} * ${fetch('W', 'i', 'j', true)};
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
        acc += ${fetch('W', 'i', 'j', true)} * ${lastNext ? 'getGnext(j)' : 'getGnext(b, j)'} * ${fetch('Xnext', 'row', 'j', direct)};
      }
      setOutput(acc);
    }`,
  };
}

/**
 * Pass Solve: assembles H (the n velocity rows against all k directions) = Σ_l Σ_j ḡσ'' T_r T_s and
 * ∂L/∂q_i = Σ_{k: coord k = i} slope_k · (W0 (ḡ_0 ⊙ σ'_0))_k (for the `wrap` layout W0[0:n] (ḡ_0 ⊙ σ'_0)),
 * then solves H_vv q̈ = ∂L/∂q − H_vq q̇ with the same definiteness test and regularisation as the float64
 * solver (src/nn/solve64.ts). Output `A` `[B, n+1]`: q̈ and the flag (0 ok, 1 regularised, 2 failed with
 * q̈ = 0). Inputs: `X_0 … X_{H−1}`, `G_0 … G_{H−2}`, `Wout`, `W0`, then the stage-state inputs and
 * uniforms of {@link solveStateInputs} (cos/sin inputs: `S0`, `D`, `Aq`, `cqv`, `cqa` for the slopes;
 * `rapidity`: also `Av`, `cva` for q̇). Under `rapidity` the velocity rows of W0 (ḡ_0 ⊙ σ'_0) give
 * g_v = ∂L/∂φ, and the sums are mapped to q̇ before the definiteness test (see the module comment).
 */
export function solveProgram(shape: LnnShape, batch: number): LnnProgram {
  const { n, input } = shape;
  // withState: ∂L/∂q goes through the feature slopes (cos/sin inputs); rap: the velocity map is applied.
  const withState = !input.identity;
  const rap = isRapidity(input);
  const extra = solveStateInputs(shape);
  const qw = input.qWidth;
  const k = n + 1;
  const R = rowsPerState(n);
  const H = shape.hidden.length;
  const xs = shape.hidden.map((_, l) => `X${l}`);
  const gs = shape.hidden.slice(0, -1).map((_, l) => `G${l}`);
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const layers = shape.hidden
    .map((w, l) => {
      const X = `get${cap(xs[l])}`;
      const g = l === H - 1 ? 'getWout(j)' : `getG${l}(b, j)`;
      const tangents = Array.from({ length: k }, (_, r) => `t[${r}] = ${X}(base + ${k + 3 + r}, j);`).join(
        ' ',
      );
      const grad =
        l === 0
          ? `float delta = gb * ${X}(base + ${k + 1}, j);
             for (int a = 0; a < ${qw}; a++) ${withState ? 'gx' : 'gq'}[a] += getW0(a, j) * delta;${
               rap
                 ? `\n             for (int a = 0; a < ${n}; a++) gv[a] += getW0(${qw} + a, j) * delta;`
                 : ''
             }`
          : '';
      return `
      for (int j = 0; j < ${w}; j++) {
        float gb = ${g};
        float c = gb * ${X}(base + ${k + 2}, j);
        ${tangents}
        for (int r = 0; r < ${n}; r++) {
          float cr = c * t[r];
          for (int s = 0; s < ${k}; s++) hm[r * ${k} + s] += cr * t[s];
        }
        ${grad}
      }`;
    })
    .join('\n');
  // ∂L/∂q from ∂L/∂x (gx) through the slopes of the cos/sin inputs at the stage state.
  let chain = '';
  const terms: string[] = [];
  if (withState) {
    for (let kk = 0; kk < qw; kk++) {
      const { slope } = featureGlsl(input, kk);
      const i = input.coord[kk];
      terms.push(slope === null ? `gq[${i}] += gx[${kk}];` : `gq[${i}] += (${slope}) * gx[${kk}];`);
    }
  }
  if (rap) {
    // H_vv = D·h_vv·D + diag(φ'' ⊙ g_v), H_vq q̇ = D·h_vu with D = diag 1/(1 − q̇²), φ'' = 2q̇/(1 − q̇²)²;
    // (1 − v)(1 + v) keeps 1 − v² accurate near |v| = 1. Outside |q̇| < 1 the state is flagged failed.
    chain = `bool inDomain = true;
      {
      ${stageStateGlsl(shape, true)}
      ${withState ? trigGlsl(input) : ''}
      ${terms.join('\n      ')}
      float dv[${n}];
      for (int i = 0; i < ${n}; i++) {
        if (!(abs(v[i]) < 1.0)) inDomain = false;
        dv[i] = 1.0 / ((1.0 - v[i]) * (1.0 + v[i]));
      }
      for (int r = 0; r < ${n}; r++) {
        for (int s = 0; s < ${n}; s++) hm[r * ${k} + s] *= dv[r] * dv[s];
        hm[r * ${k} + ${n}] *= dv[r];
        hm[r * ${k} + r] += 2.0 * v[r] * dv[r] * dv[r] * gv[r];
      }
      }`;
  } else if (withState) {
    chain = `{
      ${stageStateGlsl(shape, false)}
      ${trigGlsl(input)}
      ${terms.join('\n      ')}
      }`;
  }
  const eps = shape.epsilon;
  return {
    variableNames: [...xs, ...gs, 'Wout', 'W0', ...extra.inputs],
    outputShape: [batch, n + 1],
    ...(extra.uniforms.length > 0
      ? { customUniforms: extra.uniforms.map((name) => ({ name, type: 'float' as const })) }
      : {}),
    userCode: `${hasTrig(input) ? COS_SIN_GLSL : ''}
    bool finiteF(float x) { return abs(x) < 3.0e38; }
    void main() {
      ivec2 rc = getOutputCoords();
      int b = rc.x;
      int col = rc.y;
      int base = b * ${R};
      float hm[${n * k}];
      float gq[${n}];
      float t[${k}];
      for (int i = 0; i < ${n * k}; i++) hm[i] = 0.0;
      for (int i = 0; i < ${n}; i++) gq[i] = 0.0;
      ${withState ? `float gx[${qw}]; for (int i = 0; i < ${qw}; i++) gx[i] = 0.0;` : ''}${
        rap ? `\n      float gv[${n}]; for (int i = 0; i < ${n}; i++) gv[i] = 0.0;` : ''
      }
      ${layers}
      ${chain}
      // Augmented [H_vv | rhs], symmetrised like the float64 solver.
      float A[${n * k}];
      float H0[${n * k}];
      bool finite = true;
      float diagMax = 0.0;
      float diagSum = 0.0;
      float trace = 0.0;
      for (int i = 0; i < ${n}; i++) {
        for (int j = 0; j < ${n}; j++) {
          float hij = i <= j ? hm[i * ${k} + j] : hm[j * ${k} + i];
          A[i * ${k} + j] = hij;
          if (!finiteF(hij)) finite = false;
        }
        float ri = gq[i] - hm[i * ${k} + ${n}];
        A[i * ${k} + ${n}] = ri;
        if (!finiteF(ri)) finite = false;
        float d = abs(A[i * ${k} + i]);
        diagMax = max(diagMax, d);
        diagSum += d;
        trace += A[i * ${k} + i];
      }
      for (int i = 0; i < ${n * k}; i++) H0[i] = A[i];
      float x[${n}];
      for (int i = 0; i < ${n}; i++) x[i] = 0.0;
      float flag = 0.0;
      if (!finite${rap ? ' || !inDomain' : ''}) {
        flag = 2.0;
      } else {
        float tol = ${f(1e-6)} * diagMax;
        float sgn = A[0] < 0.0 ? -1.0 : 1.0;
        bool pd = diagMax > 0.0;
        for (int p = 0; p < ${n}; p++) {
          if (!pd) break;
          float piv = A[p * ${k} + p];
          if (!(sgn * piv > tol)) { pd = false; break; }
          for (int i = p + 1; i < ${n}; i++) {
            float m = A[i * ${k} + p] / piv;
            for (int j = p; j < ${k}; j++) A[i * ${k} + j] -= m * A[p * ${k} + j];
          }
        }
        if (!pd) {
          flag = 1.0;
          float mag = ${eps === undefined ? `diagSum > 0.0 ? ${f(1e-3)} * diagSum / ${f(n)} : ${f(1e-3)}` : f(eps)};
          float shift = trace < 0.0 ? -mag : mag;
          for (int i = 0; i < ${n * k}; i++) A[i] = H0[i];
          for (int i = 0; i < ${n}; i++) A[i * ${k} + i] += shift;
          for (int p = 0; p < ${n}; p++) {
            int best = p;
            for (int i = p + 1; i < ${n}; i++) if (abs(A[i * ${k} + p]) > abs(A[best * ${k} + p])) best = i;
            if (best != p) {
              for (int j = 0; j < ${k}; j++) {
                float tmp = A[p * ${k} + j];
                A[p * ${k} + j] = A[best * ${k} + j];
                A[best * ${k} + j] = tmp;
              }
            }
            float piv = A[p * ${k} + p];
            if (piv == 0.0) { flag = 2.0; break; }
            for (int i = p + 1; i < ${n}; i++) {
              float m = A[i * ${k} + p] / piv;
              for (int j = p; j < ${k}; j++) A[i * ${k} + j] -= m * A[p * ${k} + j];
            }
          }
        }
        if (flag < 2.0) {
          for (int i = ${n - 1}; i >= 0; i--) {
            float s = A[i * ${k} + ${n}];
            for (int j = i + 1; j < ${n}; j++) s -= A[i * ${k} + j] * x[j];
            x[i] = s / A[i * ${k} + i];
          }
          for (int i = 0; i < ${n}; i++) if (!finiteF(x[i])) flag = 2.0;
        }
        if (flag == 2.0) for (int i = 0; i < ${n}; i++) x[i] = 0.0;
      }
      float outV = flag;
      for (int i = 0; i < ${n}; i++) if (col == i) outV = x[i];
      setOutput(outV);
    }`,
  };
}

/**
 * Whether {@link solveProgram} needs the stage state (see {@link solveStateInputs}): when some q input is
 * not the identity of its coordinate (∂L/∂q depends on q through the slopes), or under `rapidity` (the
 * velocity map depends on q̇).
 */
export function solveNeedsState(shape: LnnShape): boolean {
  return !shape.input.identity || isRapidity(shape.input);
}

/** Stage-state inputs (after `W0`) and uniforms of {@link solveProgram}, in order. */
export interface SolveStateInputs {
  inputs: ('S0' | 'D' | 'Aq' | 'Av')[];
  uniforms: ('cqv' | 'cqa' | 'cva')[];
}

/**
 * The stage-state inputs and uniforms {@link solveProgram} takes for this shape: none for identity
 * inputs; `S0`, `D`, `Aq` with `cqv`, `cqa` for cos/sin inputs; all of `S0`, `D`, `Aq`, `Av` with `cqv`,
 * `cqa`, `cva` under `rapidity`.
 */
export function solveStateInputs(shape: LnnShape): SolveStateInputs {
  if (isRapidity(shape.input)) return { inputs: ['S0', 'D', 'Aq', 'Av'], uniforms: ['cqv', 'cqa', 'cva'] };
  if (!shape.input.identity) return { inputs: ['S0', 'D', 'Aq'], uniforms: ['cqv', 'cqa'] };
  return { inputs: [], uniforms: [] };
}

/**
 * Pass Combine of RK4: D ← D + (h q̇0 + h²/6 (a1 + a2 + a3), h/6 (a1 + 2a2 + 2a3 + a4)), the flag column
 * the worst of D's and the four stages'. Uniform `h`.
 */
export function rk4CombineProgram(n: number, batch: number): LnnProgram {
  return {
    variableNames: ['S0', 'D', 'A1', 'A2', 'A3', 'A4'],
    outputShape: [batch, 2 * n + 1],
    customUniforms: [{ name: 'h', type: 'float' }],
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int b = rc.x;
      int c = rc.y;
      float d = getD(b, c);
      if (c == ${2 * n}) {
        float w = max(max(getA1(b, ${n}), getA2(b, ${n})), max(getA3(b, ${n}), getA4(b, ${n})));
        setOutput(max(d, w));
      } else if (c < ${n}) {
        float v0 = getS0(b, ${n} + c) + getD(b, ${n} + c);
        setOutput(d + h * v0 + h * h / 6.0 * (getA1(b, c) + getA2(b, c) + getA3(b, c)));
      } else {
        int i = c - ${n};
        setOutput(d + h / 6.0 * (getA1(b, i) + 2.0 * getA2(b, i) + 2.0 * getA3(b, i) + getA4(b, i)));
      }
    }`,
  };
}
