/**
 * One numerics policy for every H_vv solve (src/nn/solvePolicy.ts): the GLSL solve interpolates its
 * constants, no solve-related source redefines them, and the tensor and float64 solves agree on the flag
 * of definite, near-singular, indefinite and singular systems.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { glslFloat } from '../src/gpu/glsl/math';
import type { LnnShape } from '../src/gpu/programs/shape';
import { SOLVE_SECTION_MARKER, solveProgram } from '../src/gpu/programs/solve';
import { inputMapOf } from '../src/model/inputMap';
import { solveSymmetric, solveTridiagonal } from '../src/nn/solve';
import { solveSymmetric64, solveTridiagonal64 } from '../src/nn/solve64';
import {
  DEFAULT_EPSILON_RELATIVE,
  PD_TOLERANCE,
  SINGULAR_PIVOT_RELATIVE,
  SolveFlag,
  shiftFor,
} from '../src/nn/solvePolicy';

/** The policy's numeric constants by name. */
const POLICY = { PD_TOLERANCE, DEFAULT_EPSILON_RELATIVE, SINGULAR_PIVOT_RELATIVE };

/** A shape for the solve program: n coordinates, two hidden layers, the given input embeddings. */
function shape(n: number, opts: { sincos?: boolean; rapidity?: boolean; epsilon?: number } = {}): LnnShape {
  const input = inputMapOf({
    dof: n,
    angles: Array.from({ length: n }, () => true),
    input: {
      qScale: Array.from({ length: n }, () => 1),
      qdScale: Array.from({ length: n }, () => 1),
      angleEmbedding: opts.sincos ? 'sincos' : 'wrap',
      velocityEmbedding: opts.rapidity ? 'rapidity' : 'identity',
    },
  } as Parameters<typeof inputMapOf>[0]);
  return { n, hidden: [8, 8], activation: 'softplus', input, epsilon: opts.epsilon };
}

/** The policy-governed part of a generated solve program (from the section marker on). */
function solveSection(s: LnnShape): string {
  const code = solveProgram(s, 4).userCode;
  const at = code.indexOf(SOLVE_SECTION_MARKER);
  expect(at, 'the solve program carries its section marker').toBeGreaterThan(0);
  return code.slice(at);
}

/** Every GLSL float literal (with a point or an exponent) of `code`, as written. */
function floatLiterals(code: string): string[] {
  return code.match(/(?<![\w.])(?:\d+\.\d*|\.\d+|\d+(?=e))(?:e[+-]?\d+)?/g) ?? [];
}

describe('GLSL solve: the policy constants are interpolated', () => {
  const shapes: [string, LnnShape][] = [
    ['n = 2, wrap', shape(2)],
    ['n = 3, sincos', shape(3, { sincos: true })],
    ['n = 1, rapidity', shape(1, { rapidity: true })],
  ];
  it.each(shapes)('%s: every constant as glslFloat formats it, and no other threshold', (_, s) => {
    const section = solveSection(s);
    expect(section).toContain(`float tol = ${glslFloat(PD_TOLERANCE)} * diagMax;`);
    const rel = glslFloat(DEFAULT_EPSILON_RELATIVE);
    expect(section).toContain(`diagSum > 0.0 ? ${rel} * (diagSum / ${glslFloat(s.n)}) : ${rel}`);
    expect(section).toContain(`abs(piv) > ${glslFloat(SINGULAR_PIVOT_RELATIVE)} * amax`);
    // Other literals are small integers: 0/1/2 (flags, signs, initial values) and n.
    const allowed = new Set([...Object.values(POLICY).map(glslFloat), ...[0, 1, 2, -1, s.n].map(glslFloat)]);
    const stray = floatLiterals(section).filter((lit) => !allowed.has(lit));
    expect(stray, 'float literals in the solve that are not policy constants').toEqual([]);
  });

  it('a given epsilon replaces the relative default', () => {
    const section = solveSection(shape(2, { epsilon: 0.0025 }));
    expect(section).toContain(`float mag = ${glslFloat(0.0025)};`);
    expect(section).not.toContain(glslFloat(DEFAULT_EPSILON_RELATIVE));
  });

  it('glslFloat spells every value as a GLSL float literal', () => {
    expect([3, 0, -1, 1e-6, 1e-7, 3e38, 0.25].map(glslFloat)).toEqual([
      '3.0',
      '0.0',
      '-1.0',
      '0.000001',
      '1e-7',
      '3e+38',
      '0.25',
    ]);
    expect(() => glslFloat(Number.NaN)).toThrow(/GLSL/);
  });
});

/** Every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Source without comments (block comments and `//` to the end of the line, GLSL ones included). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

/** Numeric literals of JS or GLSL source (decimal, with optional fraction and exponent). */
function numericLiterals(code: string): string[] {
  return code.match(/(?<![\w.$])(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?(?![\w.])/gi) ?? [];
}

describe('the policy constants are defined once', () => {
  const root = join(__dirname, '..', 'src');
  const policyFile = join(root, 'nn', 'solvePolicy.ts');
  // Solve-related: a file named for a solve, one that imports the solves or their policy, and the GLSL.
  const related = tsFiles(root).filter((path) => {
    const rel = relative(root, path);
    if (path === policyFile) return false;
    if (/solve/i.test(rel) || rel.startsWith('gpu')) return true;
    return /from '[./]*(?:nn\/)?(?:solvePolicy|solve64|solve)\.js'/.test(readFileSync(path, 'utf8'));
  });

  it('scans the solves of every substrate', () => {
    const names = related.map((p) => relative(root, p).replaceAll('\\', '/'));
    for (const expected of ['nn/solve.ts', 'nn/solve64.ts', 'gpu/programs/solve.ts', 'nn/jsLnn.ts']) {
      expect(names).toContain(expected);
    }
  });

  it('no solve-related source spells a policy value as a literal', () => {
    // Zero (SINGULAR_PIVOT_RELATIVE) is everywhere and cannot be told apart; the others can.
    const values = Object.values(POLICY).filter((v) => v !== 0);
    const hits: string[] = [];
    for (const path of related) {
      const code = stripComments(readFileSync(path, 'utf8'));
      for (const lit of numericLiterals(code)) {
        if (values.includes(Number(lit))) hits.push(`${relative(root, path)}: ${lit}`);
      }
    }
    expect(hits, 'import the constant from src/nn/solvePolicy.ts instead').toEqual([]);
  });

  it('the policy file defines them', () => {
    const code = stripComments(readFileSync(policyFile, 'utf8'));
    for (const [name, value] of Object.entries(POLICY)) {
      expect(code).toMatch(new RegExp(`export const ${name} = `));
      expect(numericLiterals(code).map(Number)).toContain(value);
    }
  });
});

/** Flags and solutions of one symmetric system on the tensor and float64 solves. */
function bothSolves(
  h: number[][],
  r: number[],
  epsilon?: number,
): { f32: number; f64: number; x32: number[]; x64: number[] } {
  const n = r.length;
  const flat = h.flat();
  const x64 = new Float64Array(n);
  const f64 = solveSymmetric64(flat, 0, r, 0, x64, 0, n, epsilon);
  const { x, flags } = solveSymmetric(tf.tensor3d(flat, [1, n, n]), tf.tensor2d(r, [1, n]), epsilon);
  const out = { f32: flags.dataSync()[0], f64, x32: Array.from(x.dataSync()), x64: Array.from(x64) };
  tf.dispose([x, flags]);
  return out;
}

/** A diagonal matrix. */
const diag = (...d: number[]): number[][] => d.map((v, i) => d.map((_, j) => (i === j ? v : 0)));

describe('tensor and float64 solves agree on the flag', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const spd = (n: number): number[][] =>
    Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (i === j ? 2 + i : 1 / (1 + i + j))),
    );
  const rhs = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 - 0.5 * i);
  // Each case: the matrix, the flag both must give, and an optional epsilon.
  const cases: [string, number[][], number, number?][] = [];
  for (const n of [1, 2, 3, 4]) {
    const pad = (d: number[]) => [...d, ...Array.from({ length: n - d.length }, () => 1)];
    cases.push(
      [`n=${n} positive definite`, spd(n), SolveFlag.ok],
      [`n=${n} negative definite`, spd(n).map((row) => row.map((v) => -v)), SolveFlag.ok],
      [
        `n=${n} zero matrix: shifted by DEFAULT_EPSILON_RELATIVE`,
        diag(...Array(n).fill(0)),
        SolveFlag.regularised,
      ],
      [`n=${n} zero matrix, epsilon 0: singular, failed`, diag(...Array(n).fill(0)), SolveFlag.failed, 0],
      [`n=${n} non-finite entry: failed`, diag(...pad([Number.NaN])), SolveFlag.failed],
    );
    if (n >= 2) {
      const ones = Array(n - 1).fill(1);
      cases.push(
        [
          `n=${n} last pivot 2·PD_TOLERANCE·max|H_ii|: definite`,
          diag(...ones, 2 * PD_TOLERANCE),
          SolveFlag.ok,
        ],
        [
          `n=${n} last pivot PD_TOLERANCE/2·max|H_ii|: near-singular, regularised`,
          diag(...ones, PD_TOLERANCE / 2),
          SolveFlag.regularised,
        ],
        [`n=${n} indefinite: regularised`, diag(...pad([1, -1])), SolveFlag.regularised],
        [`n=${n} indefinite, epsilon 0, singular shifted: failed`, diag(...pad([1, 0])), SolveFlag.failed, 0],
      );
    }
  }

  it.each(cases)('%s', (_, h, flag, epsilon) => {
    const r = rhs(h.length);
    const got = bothSolves(h, r, epsilon);
    expect(got.f64, 'float64 flag').toBe(flag);
    expect(got.f32, 'tensor flag').toBe(flag);
    if (flag === SolveFlag.failed) {
      expect(got.x64.every((v) => v === 0) && got.x32.every((v) => v === 0), 'failed: q̈ = 0').toBe(true);
    } else {
      for (let i = 0; i < r.length; i++) {
        expect(Math.abs(got.x32[i] - got.x64[i])).toBeLessThanOrEqual(
          1e-3 * Math.max(1, Math.abs(got.x64[i])),
        );
      }
    }
  });

  it('the zero matrix is shifted by exactly DEFAULT_EPSILON_RELATIVE (shiftFor)', () => {
    expect(shiftFor(0, 0, undefined)).toBe(DEFAULT_EPSILON_RELATIVE);
    const got = bothSolves(diag(0, 0), [1, 2]);
    expect(got.x64).toEqual([1 / DEFAULT_EPSILON_RELATIVE, 2 / DEFAULT_EPSILON_RELATIVE]);
    expect(got.x32[1]).toBeCloseTo(2 / DEFAULT_EPSILON_RELATIVE, 0);
  });

  it('tridiagonal solves agree too', () => {
    const systems: [number[], number[], number][] = [
      [[2, 3, 4], [1, 1], SolveFlag.ok],
      [[1, PD_TOLERANCE / 2, 1], [0, 0], SolveFlag.regularised],
      [[1, -1, 1], [0.1, 0.1], SolveFlag.regularised],
      [[1, Number.POSITIVE_INFINITY, 1], [0, 0], SolveFlag.failed],
      [[1, 1, 1], [Number.NaN, 0], SolveFlag.failed],
    ];
    for (const [d, o, flag] of systems) {
      const n = d.length;
      const r = rhs(n);
      const x64 = new Float64Array(n);
      expect(solveTridiagonal64(d, 0, o, 0, r, 0, x64, 0, n), `float64 ${d}`).toBe(flag);
      const t = solveTridiagonal(tf.tensor2d(d, [1, n]), tf.tensor2d(o, [1, n - 1]), tf.tensor2d(r, [1, n]));
      expect(t.flags.dataSync()[0], `tensor ${d}`).toBe(flag);
      tf.dispose([t.x, t.flags]);
    }
  });
});
