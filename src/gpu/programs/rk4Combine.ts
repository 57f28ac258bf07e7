/**
 * The combine pass of an RK4 step of the fused WebGL LNN (see `gpu/lnnPrograms.ts` for the state layout
 * `S0`, `D` and the stage accelerations `A`); the stages themselves are the LNN passes.
 */
import type { LnnProgram } from './shape.js';

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
