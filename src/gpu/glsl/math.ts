/**
 * The GLSL maths library of the fused WebGL LNN programs: literal formatting, cos/sin and atanh to
 * float32 accuracy, and the activations with their first two derivatives.
 */
import type { Activation } from '../../model/metadata.js';

/**
 * A finite JS number as a GLSL float literal: its JS spelling, with `.0` appended when that spelling has
 * neither a point nor an exponent (`3` → `3.0`, `1e-6` → `0.000001`, `1e-7` → `1e-7`, `3e38` →
 * `3e+38`; all valid GLSL ES 3.0 float literals).
 * @throws Error for NaN or ±Infinity (GLSL has no literal for them)
 * @example `float tol = ${glslFloat(PD_TOLERANCE)} * diagMax;`
 */
export function glslFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`glslFloat: ${x} has no GLSL float literal.`);
  const s = `${x}`;
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * GLSL `vec2 cosSin(float x)` = (cos x, sin x) to float32 accuracy: a Cody–Waite reduction by π/2 (π/2
 * split in three parts) and the Cephes minimax polynomials on [−π/4, π/4]. The built-in GLSL sin/cos
 * carry no accuracy guarantee and differ by vendor (SwiftShader's err by ~2e-4), which would dominate
 * the float32 error of q̈.
 */
export const COS_SIN_GLSL = `
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

/**
 * GLSL `float atanhF(float x)` to float32 accuracy on (−1, 1): the Cephes polynomial for |x| < 0.5 (where
 * 0.5·log((1 + x)/(1 − x)) would lose the relative accuracy of small x), else that logarithm. Not finite,
 * or NaN, for |x| ≥ 1; the Solve pass flags those states from q̇ itself.
 */
export const ATANH_GLSL = `
    float atanhF(float x) {
      if (abs(x) < 0.5) {
        float z = x * x;
        return x + x * z * ((((1.81740078349e-1 * z + 8.24370301058e-2) * z + 1.46691431730e-1) * z + 1.99782164500e-1) * z + 3.33337300303e-1);
      }
      return 0.5 * log((1.0 + x) / (1.0 - x));
    }`;

/**
 * GLSL declaring σ, σ', σ'' of `z` in the named variables (softplus through e^{−|z|} without overflow;
 * tanh clamped to ±15, where it is ±1 in float32). Reference definition: `activate` in
 * model/reference.ts; test/browser/gpu-fused.test.ts pins the q̈ of both equal within float32.
 * @throws Error for an activation without a second derivative (relu)
 */
export function activationGlsl(act: Activation, z: string, a: string, d1: string, d2: string): string {
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
