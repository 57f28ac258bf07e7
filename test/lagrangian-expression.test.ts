import { describe, expect, it } from 'vitest';
import { ExpressionError } from '../src/lagrangian/ExpressionError';
import {
  compileExpression,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_DOF,
  MAX_EXPRESSION_LENGTH,
  MAX_EXPRESSION_TOKENS,
  parseExpression,
  systemFromExpression,
} from '../src/lagrangian/expression';
import { numberOps } from '../src/math/numberOps';
import { createRng } from '../src/math/random';
import { createSystem } from '../src/systems/registry';

const evalAt = (src: string, q: number[], qd: number[], params: Record<string, number> = {}) => {
  const { L } = compileExpression(src, { dof: q.length, params: Object.keys(params) });
  return L(numberOps, q, qd, params);
};

describe('expression parsing and evaluation', () => {
  it('follows the usual precedence and associativity', () => {
    const cases: [string, number][] = [
      ['1 + 2*3', 7],
      ['(1 + 2)*3', 9],
      ['2^3^2', 512],
      ['-2^2', -4],
      ['2^-1', 0.5],
      ['8/4/2', 1],
      ['1 - 2 - 3', -4],
      ['--3', 3],
      ['+3 - +1', 2],
      ['1.5e1 + .5 + 2E-1', 15.7],
      ['2*pi', 2 * Math.PI],
      ['sin(pi/2) + cos(0) + tan(0) + exp(0) + log(1) + sqrt(4) + tanh(0)', 5],
    ];
    for (const [src, value] of cases) expect(evalAt(src, [0], [0]), src).toBeCloseTo(value, 13);
  });

  it('reads coordinates, velocities and parameters', () => {
    expect(evalAt('q1*10 + qd2 + k*q2', [1, 2], [3, 4], { k: 0.5 }), 'value').toBeCloseTo(10 + 4 + 1, 14);
    expect(evalAt('q1^qd1', [2, 0], [3, 0]), 'variable exponent').toBeCloseTo(8, 13);
  });

  it('infers the degrees of freedom from the largest index', () => {
    expect(compileExpression('qd3^2 + q1').dof, 'dof').toBe(3);
  });
});

describe('expression safety and errors', () => {
  const rejected: [string, RegExp][] = [
    ['constructor', /Unknown name 'constructor'/],
    ['__proto__', /Unknown name '__proto__'/],
    ['toString(q1)', /Unknown function 'toString'/],
    ['alert(1)', /Unknown function 'alert'/],
    ['q1;process.exit()', /Unexpected character ';'/],
    ['qd1.constructor', /Unexpected token '.constructor'|Unexpected character '\.'|Unexpected token/],
    ['qd1[0]', /Unexpected character '\['/],
    ['"qd1"', /Unexpected character '"'/],
    ['`$' + '{qd1}`', /Unexpected character '`'/],
    ['qd1 => 1', /Unexpected character '='/],
    ['0.5*qd1^2 +', /Unexpected end of expression/],
    ['(qd1', /expected '\)'/],
    ['qd1)', /Unexpected token '\)'/],
    ['sin qd1', /'\(' after the function 'sin'/],
    ['qd1 qd1', /Unexpected token 'qd1'; expected an operator/],
    ['abs(qd1)', /Unknown function 'abs'.*sin, cos/],
    ['q3 + qd1', /'q3' is out of range/],
    ['q0 + qd1', /Unknown name 'q0'/],
    ['', /Unexpected end of expression/],
    ['1e999*qd1', /not finite/],
  ];
  for (const [src, message] of rejected) {
    it(`rejects ${JSON.stringify(src)}`, () => {
      let error: unknown;
      try {
        compileExpression(src, { dof: 2 });
      } catch (e) {
        error = e;
      }
      expect(error, 'an ExpressionError is thrown').toBeInstanceOf(ExpressionError);
      expect((error as Error).message, 'message names the problem').toMatch(message);
    });
  }

  it('points at the offending position, on one line, with a caret excerpt for monospace displays', () => {
    try {
      parseExpression('qd1^2 ; 1');
      expect.unreachable('must throw');
    } catch (e) {
      expect((e as ExpressionError).position, 'position of ;').toBe(6);
      expect((e as Error).message, 'one line').not.toContain('\n');
      expect((e as Error).message, 'the spot, marked').toContain('(at position 6: "qd1^2 ▸; 1")');
      expect((e as ExpressionError).excerpt, 'caret line').toBe('qd1^2 ; 1\n      ^');
    }
  });

  it('bounds length and nesting instead of overflowing the stack', () => {
    expect(() => parseExpression(`${'('.repeat(3000)}qd1${')'.repeat(3000)}`), 'deep nesting').toThrow(
      /nested deeper/,
    );
    expect(() => parseExpression('-'.repeat(3000) + 'qd1'), 'deep unary').toThrow(/nested deeper/);
    expect(() => parseExpression('qd1+'.repeat(3000) + '1'), 'too long').toThrow(/longer than/);
  });
});

/** The ExpressionError `f` throws (fails the test when it throws something else or nothing). */
function expressionError(f: () => unknown): ExpressionError {
  try {
    f();
  } catch (e) {
    expect(e, 'an ExpressionError').toBeInstanceOf(ExpressionError);
    expect((e as Error).message, 'one line').not.toMatch(/[\r\n]/);
    expect((e as Error).message.length, 'a short message').toBeLessThan(300);
    return e as ExpressionError;
  }
  return expect.unreachable('must throw an ExpressionError');
}

describe('expression limits: hostile text from a shared URL', () => {
  it('100,000 open parentheses: an ExpressionError at once, no stack overflow', () => {
    const t0 = performance.now();
    const e = expressionError(() => compileExpression('('.repeat(100_000)));
    expect(e.message).toMatch(new RegExp(`longer than ${MAX_EXPRESSION_LENGTH} characters`));
    expect(performance.now() - t0, 'milliseconds').toBeLessThan(200);
    // Within the length limit, the depth is checked while tokenising, before the parser recurses.
    const deep = expressionError(() => parseExpression(`${'('.repeat(9000)}qd1`));
    expect(deep.message).toMatch(
      new RegExp(`nested deeper than ${MAX_EXPRESSION_DEPTH} levels of parentheses`),
    );
    expect(deep.position, 'the first ( too deep').toBe(MAX_EXPRESSION_DEPTH);
    const unary = expressionError(() => parseExpression(`${'-'.repeat(3000)}qd1`));
    expect(unary.message).toMatch(/nested deeper/);
    const powers = expressionError(() => parseExpression(`${'qd1^'.repeat(2000)}2`));
    expect(powers.message).toMatch(/nested deeper/);
  });

  it('nesting up to the limit parses', () => {
    const d = MAX_EXPRESSION_DEPTH - 1;
    expect(evalAt(`${'('.repeat(d)}qd1${')'.repeat(d)}`, [0], [3]), 'value').toBe(3);
  });

  it('refuses more than MAX_EXPRESSION_LENGTH characters, naming the limit', () => {
    const long = `qd1^2${' '.repeat(MAX_EXPRESSION_LENGTH)}`;
    const e = expressionError(() => compileExpression(long));
    expect(e.message).toMatch(/longer than 10000 characters \(10005\)/);
    expect(e.position).toBe(MAX_EXPRESSION_LENGTH);
    // Exactly at the limit is accepted.
    expect(() => parseExpression(`qd1^2${' '.repeat(MAX_EXPRESSION_LENGTH - 5)}`)).not.toThrow();
  });

  it('refuses more than MAX_EXPRESSION_TOKENS tokens; a sum at the limit compiles and evaluates', () => {
    const tooMany = `${'1+'.repeat(MAX_EXPRESSION_TOKENS / 2)}qd1`;
    expect(tooMany.length).toBeLessThan(MAX_EXPRESSION_LENGTH);
    const e = expressionError(() => parseExpression(tooMany));
    expect(e.message).toMatch(new RegExp(`more than ${MAX_EXPRESSION_TOKENS} tokens`));
    // qd1^2 + q1 + q1 + … with 4095 tokens: a syntax tree 2047 deep, checked, compiled and solved by
    // automatic differentiation without exhausting the stack.
    const terms = (MAX_EXPRESSION_TOKENS - 4) / 2;
    const src = `qd1^2${'+q1'.repeat(terms)}`;
    const system = systemFromExpression(src);
    const qdd = new Float64Array(1);
    system.accelerations(Float64Array.of(0.1), Float64Array.of(0.2), qdd, 1);
    // L = q̇² + terms·q: q̈ = terms / 2.
    expect(qdd[0]).toBeCloseTo(terms / 2, 9);
  });

  it('refuses coordinate indices beyond MAX_EXPRESSION_DOF (the dof is inferred from them)', () => {
    const e = expressionError(() => compileExpression('qd1^2 + q1000000000'));
    expect(e.message).toMatch(
      new RegExp(`'q1000000000' is beyond the largest coordinate index, ${MAX_EXPRESSION_DOF}`),
    );
    expect(e.position).toBe(8);
    expect(compileExpression(`qd${MAX_EXPRESSION_DOF}^2`).dof).toBe(MAX_EXPRESSION_DOF);
  });

  it('shows control characters by code and never breaks the line', () => {
    const e = expressionError(() => parseExpression('qd1\n+\u0007'));
    expect(e.message).toContain("Unexpected character 'U+0007'");
    expect(e.position).toBe(5);
  });

  it('garbage strings: always an ExpressionError or a tree, never another error', () => {
    const rng = createRng(11);
    const alphabet = [
      '(',
      ')',
      '+',
      '-',
      '*',
      '/',
      '^',
      'q1',
      'qd1',
      'sin',
      '1',
      '.',
      'e',
      ' ',
      'pi',
      '@',
      '\n',
    ];
    for (let n = 0; n < 300; n++) {
      let src = '';
      const len = Math.floor(rng() * 60);
      for (let i = 0; i < len; i++) src += alphabet[Math.floor(rng() * alphabet.length)];
      try {
        compileExpression(src, { dof: 1 });
      } catch (e) {
        expect(e, JSON.stringify(src)).toBeInstanceOf(ExpressionError);
        expect((e as Error).message, JSON.stringify(src)).not.toMatch(/[\r\n]/);
      }
    }
  });
});

describe('expression parameters', () => {
  it('rejects reserved or malformed parameter names', () => {
    expect(() => compileExpression('qd1^2', { params: ['sin'] }), 'function name').toThrow(
      /cannot be a parameter/,
    );
    expect(() => compileExpression('qd1^2', { params: ['q1'] }), 'coordinate name').toThrow(
      /cannot be a parameter/,
    );
    expect(() => compileExpression('qd1^2', { params: ['a b'] }), 'not an identifier').toThrow(
      /cannot be a parameter/,
    );
  });
});

describe('systemFromExpression', () => {
  it('an oscillator typed as text has q̈ = −(k/m) q and exact energy', () => {
    const osc = systemFromExpression('0.5*m*qd1^2 - 0.5*k*q1^2', { params: { m: 2, k: 8 } });
    const qdd = new Float64Array(1);
    osc.accelerations(Float64Array.of(0.25), Float64Array.of(1), qdd, 1);
    expect(qdd[0], 'q̈').toBeCloseTo(-1, 14);
    expect(osc.energy([0.25], [1]), 'energy').toBeCloseTo(1 + 0.25, 14);
    const stiffer = osc.withParams({ k: 32 });
    stiffer.accelerations(Float64Array.of(0.25), Float64Array.of(1), qdd, 1);
    expect(qdd[0], 'q̈ after withParams').toBeCloseTo(-4, 14);
    expect(() => osc.withParams({ c: 1 }), 'unknown parameter').toThrow(/unknown parameter 'c'/);
  });

  it('the double pendulum typed as text equals the closed form', () => {
    const dp = createSystem('double-pendulum');
    const text =
      '0.5*(m1+m2)*l1^2*qd1^2 + 0.5*m2*l2^2*qd2^2 + m2*l1*l2*qd1*qd2*cos(q1-q2)' +
      ' + (m1+m2)*g*l1*cos(q1) + m2*g*l2*cos(q2)';
    const sys = systemFromExpression(text, {
      id: 'dp-text',
      params: { m1: 1, m2: 1, l1: 1, l2: 1, g: 9.8 },
      angles: [true, true],
    });
    const batch = 64;
    const rng = createRng(3);
    const q = new Float64Array(2 * batch);
    const qd = new Float64Array(2 * batch);
    for (let b = 0; b < batch; b++) dp.sample(rng, q.subarray(2 * b), qd.subarray(2 * b));
    const a = new Float64Array(2 * batch);
    const c = new Float64Array(2 * batch);
    dp.accelerations(q, qd, a, batch);
    sys.accelerations(q, qd, c, batch);
    for (let i = 0; i < 2 * batch; i++) {
      expect(Math.abs(a[i] - c[i]), `q̈[${i}]`).toBeLessThan(1e-10 * Math.max(1, Math.abs(a[i])));
    }
    expect(sys.energy(q, qd), 'energy').toBeCloseTo(dp.energy(q, qd), 11);
  });

  it('the relativistic particle typed as text equals the closed form', () => {
    const rel = createSystem('relativistic-particle');
    const sys = systemFromExpression('(1 - qd1^2)^(-1/2) - 1 + g*q1', { params: { g: 1 } });
    const a = new Float64Array(1);
    const b = new Float64Array(1);
    for (const v of [-0.9, -0.3, 0, 0.5, 0.97]) {
      rel.accelerations(Float64Array.of(0.2), Float64Array.of(v), a, 1);
      sys.accelerations(Float64Array.of(0.2), Float64Array.of(v), b, 1);
      expect(Math.abs(a[0] - b[0]), `q̇ = ${v}`).toBeLessThan(1e-12);
    }
  });
});
