/**
 * What every fused WebGL LNN program shares: the TF.js program shape, the network shape the programs are
 * generated for, and the row layout of the `X` textures (see `gpu/lnnPrograms.ts`).
 */
import type { InputMap } from '../../model/inputMap.js';
import type { Activation } from '../../model/metadata.js';

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
