/**
 * GLSL that forms the network input of the fused WebGL LNN programs from the stage state through the
 * model's input map (src/model/inputMap.ts): the stage state itself, cos/sin of the embedded angles and
 * the feature values and slopes. The map is known when the programs are generated, so this is
 * straight-line code with no per-element branching.
 */
import { Feature } from '../../model/inputMap.js';
import type { LnnShape } from '../programs/shape.js';
import { ATANH_GLSL, COS_SIN_GLSL } from './math.js';

/**
 * GLSL that declares `float q[n]` (and `float v[n]` when `withV`) holding the stage state
 * q = q0 + cqv·q̇0 + cqa·Aq, q̇ = q̇0 + cva·Av with (q0, q̇0) = S0 + D, reading row `b`, and wraps the
 * coordinates of `wrap` inputs into [−π, π). Uniforms `cqv`, `cqa` (and `cva`).
 */
export function stageStateGlsl(shape: LnnShape, withV: boolean): string {
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

/** Whether some q input is cos/sin of its coordinate (the program then needs {@link COS_SIN_GLSL}). */
export function hasTrig(input: LnnShape['input']): boolean {
  for (let k = 0; k < input.qWidth; k++) if (input.feature[k] !== Feature.identity) return true;
  return false;
}

/** GLSL declaring `cq<i>` = cos q[i] and `sq<i>` = sin q[i] for every coordinate with a cos/sin input. */
export function trigGlsl(input: LnnShape['input']): string {
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

/** Whether the velocity inputs are atanh(q̇) (`rapidity`) rather than q̇. */
export function isRapidity(input: LnnShape['input']): boolean {
  return input.velocity === 'rapidity';
}

/** GLSL helper functions a program that forms the network input needs (cos/sin, atanh). */
export function inputFunctionsGlsl(input: LnnShape['input']): string {
  return `${hasTrig(input) ? COS_SIN_GLSL : ''}${isRapidity(input) ? ATANH_GLSL : ''}`;
}

/** GLSL expressions of q input k: its (unscaled) value and its slope d x_k / d q_{coord k}. */
export function featureGlsl(input: LnnShape['input'], k: number): { value: string; slope: string | null } {
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
