/**
 * The Solve pass of the fused WebGL LNN (see `gpu/lnnPrograms.ts` for the texture layout): assembles
 * H_vv and the right-hand side from the layer textures and solves H_vv q̈ = rhs per state in GLSL with
 * the policy of `nn/solvePolicy.ts`, whose constants are interpolated into the source.
 */
import { DEFAULT_EPSILON_RELATIVE, PD_TOLERANCE, SINGULAR_PIVOT_RELATIVE } from '../../nn/solvePolicy.js';
import { featureGlsl, hasTrig, isRapidity, stageStateGlsl, trigGlsl } from '../glsl/input.js';
import { COS_SIN_GLSL, glslFloat } from '../glsl/math.js';
import { type LnnProgram, type LnnShape, rowsPerState } from './shape.js';

/** The comment that opens the linear solve in the generated source (the policy-governed part). */
export const SOLVE_SECTION_MARKER = '// Solve: policy of nn/solvePolicy.ts.';

/**
 * GLSL expression of the magnitude of the diagonal shift (`shiftMagnitude` of nn/solvePolicy.ts):
 * `epsilon` when given, else DEFAULT_EPSILON_RELATIVE · mean |H_ii| (or DEFAULT_EPSILON_RELATIVE for a
 * zero diagonal), from the GLSL variable `diagSum` = Σ |H_ii|.
 */
function shiftMagnitudeGlsl(n: number, epsilon: number | undefined): string {
  if (epsilon !== undefined) return glslFloat(epsilon);
  const rel = glslFloat(DEFAULT_EPSILON_RELATIVE);
  return `diagSum > 0.0 ? ${rel} * (diagSum / ${glslFloat(n)}) : ${rel}`;
}

/**
 * Pass Solve: assembles H (the n velocity rows against all k directions) = Σ_l Σ_j ḡσ'' T_r T_s and
 * ∂L/∂q_i = Σ_{k: coord k = i} slope_k · (W0 (ḡ_0 ⊙ σ'_0))_k (for the `wrap` layout W0[0:n] (ḡ_0 ⊙ σ'_0)),
 * then solves H_vv q̈ = ∂L/∂q − H_vq q̇ with the policy of src/nn/solvePolicy.ts (definiteness test,
 * shift, failure rule) by the algorithm of the float64 solver (src/nn/solve64.ts). Output `A`
 * `[B, n+1]`: q̈ and the flag (0 ok, 1 regularised, 2 failed with q̈ = 0). Inputs: `X_0 … X_{H−1}`, `G_0 … G_{H−2}`, `Wout`, `W0`, then the stage-state inputs and
 * uniforms of {@link solveStateInputs} (cos/sin inputs: `S0`, `D`, `Aq`, `cqv`, `cqa` for the slopes;
 * `rapidity`: also `Av`, `cva` for q̇). Under `rapidity` the velocity rows of W0 (ḡ_0 ⊙ σ'_0) give
 * g_v = ∂L/∂φ, and the sums are mapped to q̇ before the definiteness test (see the module comment of gpu/lnnPrograms.ts).
 *
 * `forced`: the variant under an external force, which reads one more input `F` `[B, 2n]` (per row α·Q_c,
 * then α·C) and adds α·Q_c − α·C ⊙ q̇ of the stage velocity to the right-hand side; it takes the
 * stage-state inputs of {@link solveStateInputs} with `forced` (the velocity needs `S0`, `D`, `Av`,
 * `cva`). The unforced source is unchanged by the option.
 */
export function solveProgram(shape: LnnShape, batch: number, forced = false): LnnProgram {
  const { n, input } = shape;
  // withState: ∂L/∂q goes through the feature slopes (cos/sin inputs); rap: the velocity map is applied.
  const withState = !input.identity;
  const rap = isRapidity(input);
  const extra = solveStateInputs(shape, forced);
  // α·Q_c − α·C ⊙ q̇ at the stage velocity q̇ = q̇0 + cva·Av, (q0, q̇0) = S0 + D.
  const forceGlsl = forced
    ? `float fq[${n}];
      for (int i = 0; i < ${n}; i++) {
        float vi = getS0(b, ${n} + i) + getD(b, ${n} + i) + cva * getAv(b, i);
        fq[i] = getF(b, i) - getF(b, ${n} + i) * vi;
      }`
    : '';
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
  return {
    variableNames: [...xs, ...gs, 'Wout', 'W0', ...extra.inputs, ...(forced ? ['F'] : [])],
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
      ${forceGlsl}
      ${SOLVE_SECTION_MARKER}
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
        float ri = gq[i] - hm[i * ${k} + ${n}]${forced ? ' + fq[i]' : ''};
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
        float tol = ${glslFloat(PD_TOLERANCE)} * diagMax;
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
          float mag = ${shiftMagnitudeGlsl(n, shape.epsilon)};
          float shift = trace < 0.0 ? -mag : mag;
          for (int i = 0; i < ${n * k}; i++) A[i] = H0[i];
          for (int i = 0; i < ${n}; i++) A[i * ${k} + i] += shift;
          float amax = 0.0;
          for (int i = 0; i < ${n}; i++) for (int j = 0; j < ${n}; j++) amax = max(amax, abs(A[i * ${k} + j]));
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
            if (!(abs(piv) > ${glslFloat(SINGULAR_PIVOT_RELATIVE)} * amax)) { flag = 2.0; break; }
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

/** Stage-state inputs (after `W0`) and uniforms of {@link solveProgram}, in order. */
export interface SolveStateInputs {
  inputs: ('S0' | 'D' | 'Aq' | 'Av')[];
  uniforms: ('cqv' | 'cqa' | 'cva')[];
}

/**
 * The stage-state inputs and uniforms {@link solveProgram} takes for this shape: none for identity
 * inputs; `S0`, `D`, `Aq` with `cqv`, `cqa` for cos/sin inputs; all of `S0`, `D`, `Aq`, `Av` with `cqv`,
 * `cqa`, `cva` under `rapidity`. The `forced` variant also needs `S0`, `D`, `Av` and `cva` (the stage
 * velocity of the damping term), in the same order.
 */
export function solveStateInputs(shape: LnnShape, forced = false): SolveStateInputs {
  if (isRapidity(shape.input)) return { inputs: ['S0', 'D', 'Aq', 'Av'], uniforms: ['cqv', 'cqa', 'cva'] };
  if (!shape.input.identity) {
    return forced
      ? { inputs: ['S0', 'D', 'Aq', 'Av'], uniforms: ['cqv', 'cqa', 'cva'] }
      : { inputs: ['S0', 'D', 'Aq'], uniforms: ['cqv', 'cqa'] };
  }
  return forced ? { inputs: ['S0', 'D', 'Av'], uniforms: ['cva'] } : { inputs: [], uniforms: [] };
}
