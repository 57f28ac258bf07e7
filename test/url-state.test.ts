import { describe, expect, it } from 'vitest';
import { type AppUrlState, formatUrlState, parseUrlState, URL_KEYS, URL_LIMITS } from '../app/urlState';
import { createRng } from '../src/math/random';

/** Every number in a parsed state, with where it came from. */
function numbers(s: AppUrlState): [string, number][] {
  const out: [string, number][] = [];
  for (const key of ['dt', 'substeps', 'timeScale', 'phase'] as const) {
    if (s[key] !== undefined) out.push([key, s[key] as number]);
  }
  for (const key of ['q0', 'qd0'] as const) {
    for (const [i, v] of (s[key] ?? []).entries()) out.push([`${key}[${i}]`, v]);
  }
  for (const [k, v] of Object.entries(s.params)) out.push([`p.${k}`, v]);
  return out;
}

/** The invariants of any parse: bounded, finite, within the documented ranges, no prototype keys. */
function checkState(s: AppUrlState, search: string): void {
  const where = JSON.stringify(search.slice(0, 200));
  for (const [name, v] of numbers(s)) expect(Number.isFinite(v), `${name} finite for ${where}`).toBe(true);
  if (s.dt !== undefined) {
    expect(s.dt, where).toBeGreaterThanOrEqual(URL_LIMITS.dt[0]);
    expect(s.dt, where).toBeLessThanOrEqual(URL_LIMITS.dt[1]);
  }
  if (s.substeps !== undefined) expect(Number.isInteger(s.substeps), where).toBe(true);
  if (s.timeScale !== undefined) expect(s.timeScale, where).toBeGreaterThan(0);
  expect((s.q0?.length ?? 0) <= URL_LIMITS.vector, where).toBe(true);
  expect(s.off.length <= URL_LIMITS.vector, where).toBe(true);
  for (const record of [s.options, s.models, s.params, s.routes]) {
    for (const key of Object.keys(record)) {
      expect(['__proto__', 'constructor', 'prototype'], where).not.toContain(key);
      expect(key.length, where).toBeLessThanOrEqual(URL_LIMITS.key);
    }
  }
  for (const v of Object.values(s.options)) expect(v.length, where).toBeLessThanOrEqual(URL_LIMITS.text);
  for (const v of [s.scene, s.integrator, s.backend, ...Object.values(s.models)]) {
    if (v !== undefined) expect(v.length, where).toBeLessThanOrEqual(URL_LIMITS.value);
  }
  expect(s.problems?.length ?? 0, where).toBeLessThanOrEqual(URL_LIMITS.problems);
  for (const p of s.problems ?? []) expect(p, where).not.toMatch(/[\r\n]/);
}

describe('parseUrlState', () => {
  it('reads a clean link exactly and round-trips it', () => {
    const search =
      '?scene=double-pendulum&o.L=qd1%5E2+%2B+cos%28q1%29&q0=2,1&qd0=0,-0.5&dt=0.005&sub=2&int=leapfrog' +
      '&speed=0.5&layout=overlay&trails=0&off=lnn,baseline&m.lnn=double-pendulum-lnn&p.g=1.62&backend=wasm&phase=1&paused=1' +
      '&r.lnn=webgl-fused,webgl,float32&r.baseline=js,js,float64';
    const s = parseUrlState(search);
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({
      scene: 'double-pendulum',
      q0: [2, 1],
      qd0: [0, -0.5],
      dt: 0.005,
      substeps: 2,
      integrator: 'leapfrog',
      timeScale: 0.5,
      layout: 'overlay',
      trails: false,
      off: ['lnn', 'baseline'],
      backend: 'wasm',
      phase: 1,
      paused: true,
    });
    expect({ ...s.options }).toEqual({ L: 'qd1^2 + cos(q1)' });
    expect({ ...s.models }).toEqual({ lnn: 'double-pendulum-lnn' });
    expect({ ...s.params }).toEqual({ g: 1.62 });
    expect({ ...s.routes }).toEqual({
      lnn: { route: 'webgl-fused', backend: 'webgl', precision: 'float32' },
      baseline: { route: 'js', backend: 'js', precision: 'float64' },
    });
    expect(parseUrlState(formatUrlState(s))).toEqual(s);
  });

  it('leaves out bad values with a reason, keeping the good ones', () => {
    const s = parseUrlState(
      '?dt=0&sub=1e9&speed=Infinity&phase=-1&q0=1,NaN&qd0=0x10&int=toString&backend=__proto__&layout=up' +
        '&p.m1=-1&p.g=-9.8&p.nope=1&p.l1=1e400&m.lnn=../../etc/passwd&scene=%3Cscript%3E&off=a,%00b&utm=1&dt=0.01' +
        '&r.lnn=js,js,float128',
    );
    expect(s).toMatchObject({
      dt: undefined,
      substeps: undefined,
      timeScale: undefined,
      phase: undefined,
      q0: undefined,
      qd0: undefined,
      integrator: undefined,
      backend: undefined,
      layout: undefined,
      scene: undefined,
      off: ['a'],
    });
    expect({ ...s.params }, 'a negative g is a valid parameter').toEqual({ g: -9.8 });
    expect(Object.keys(s.models)).toEqual([]);
    expect(Object.keys(s.routes), 'only well-formed routes').toEqual([]);
    const problems = s.problems!.join('\n');
    for (const key of [
      'dt',
      'sub',
      'speed',
      'phase',
      'q0',
      'qd0',
      'int',
      'backend',
      'layout',
      'p.m1',
      'p.nope',
      'p.l1',
      'm.lnn',
      'r.lnn',
      'scene',
      'off',
      "'utm'",
    ]) {
      expect(problems, key).toContain(key);
    }
    expect(problems).toMatch(/p\.m1: '-1': -1 is out of range for double-pendulum\.m1/);
    expect(problems, 'a valid entry is no problem').not.toMatch(/^p\.g/m);
  });

  it('reads a pinned route only as <route>,<backend>,<precision> of plain names', () => {
    const s = parseUrlState(
      '?r.a=js&r.b=JS,js,float64&r.c=a,b,float32,extra&r.d=js,js,float128&r.__proto__=js,js,float64' +
        `&r.e=${'x'.repeat(200)},js,float64&r.f=webgl,webgl,float16`,
    );
    expect({ ...s.routes }).toEqual({ f: { route: 'webgl', backend: 'webgl', precision: 'float16' } });
    const problems = s.problems!.join('\n');
    for (const key of ['r.a', 'r.b', 'r.c', 'r.d', 'r.__proto__', 'r.e'])
      expect(problems, key).toContain(key);
    expect(formatUrlState(s)).toBe('?r.f=webgl%2Cwebgl%2Cfloat16');
  });

  it('never creates prototype keys or touches Object.prototype', () => {
    const s = parseUrlState(
      '?o.__proto__=x&o.constructor=y&m.__proto__=a&p.__proto__=1&p.constructor=2&o.prototype=z&__proto__=1&o.toString=ok',
    );
    expect(Object.keys(s.options)).toEqual(['toString']);
    expect(Object.keys(s.models)).toEqual([]);
    expect(Object.keys(s.params)).toEqual([]);
    expect(({} as Record<string, unknown>).x, 'Object.prototype untouched').toBeUndefined();
    // The records have no prototype: a lookup of an absent key finds nothing.
    expect(s.models.constructor).toBeUndefined();
    expect(s.problems!.length).toBeGreaterThan(0);
  });

  it('bounds lengths: the query, each value, entries, vectors', () => {
    const huge = parseUrlState(`?dt=0.01&o.L=${'q'.repeat(URL_LIMITS.search)}`);
    expect(huge.dt, 'a query over the limit is ignored as a whole').toBeUndefined();
    expect(huge.problems![0]).toMatch(/over 65536; using defaults/);

    const longText = parseUrlState(
      `?o.L=${'x'.repeat(URL_LIMITS.text + 1)}&o.M=${'y'.repeat(URL_LIMITS.text)}`,
    );
    expect(Object.keys(longText.options)).toEqual(['M']);

    const manyEntries = parseUrlState(`?${Array.from({ length: 1000 }, (_, i) => `o.k${i}=1`).join('&')}`);
    expect(Object.keys(manyEntries.options).length).toBe(URL_LIMITS.entries);

    const longVector = parseUrlState(
      `?q0=${Array(URL_LIMITS.vector + 1)
        .fill(1)
        .join(',')}`,
    );
    expect(longVector.q0).toBeUndefined();
    const bigValue = parseUrlState('?q0=1e7,0');
    expect(bigValue.q0).toBeUndefined();
  });

  it('a few hundred random and garbage query strings: never throws, every value finite and bounded', () => {
    const rng = createRng(2024);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rng() * a.length)];
    const keys = [
      ...URL_KEYS,
      'o.L',
      'o.draw',
      'm.lnn',
      'r.lnn',
      'p.g',
      'p.l1',
      'p.__proto__',
      'o.constructor',
      '__proto__',
      '',
      '&',
      '=',
      '%',
      '%zz',
      '%00',
    ];
    const values = [
      '0',
      '1',
      '-1',
      '1e308',
      '1e-400',
      'NaN',
      'Infinity',
      '-0',
      '0x1f',
      '1,2,3',
      ',,',
      '%E0%A4%A',
      '%ZZ',
      '',
      '=',
      '&',
      '+',
      '%00',
      'toString',
      '__proto__',
      'a'.repeat(300),
      '1'.repeat(400),
      'qd1^2',
      '\u0000',
      '\uD800',
      '😀',
      'rk4',
      'overlay',
      'wasm',
    ];
    const garbage = '?&=%+,.;#/\\:\'"<>()[]{}0123456789eE-abcxyz_\u0000\u00e9\uD83D';
    for (let n = 0; n < 400; n++) {
      let search = n % 2 === 0 ? '?' : '';
      if (n % 5 === 4) {
        // Pure noise.
        const len = Math.floor(rng() * 200);
        for (let i = 0; i < len; i++) search += pick([...garbage]);
      } else {
        const count = Math.floor(rng() * 12);
        for (let i = 0; i < count; i++) {
          if (i > 0) search += '&';
          search += `${pick(keys)}=${pick(values)}`;
        }
      }
      let s: AppUrlState | undefined;
      expect(() => {
        s = parseUrlState(search);
      }, JSON.stringify(search)).not.toThrow();
      checkState(s!, search);
      // What the app writes back reads back to the same link.
      const again = formatUrlState(s!);
      expect(formatUrlState(parseUrlState(again)), JSON.stringify(search)).toBe(again);
    }
  });

  it('a non-string search falls back to defaults', () => {
    const s = parseUrlState(undefined as unknown as string);
    expect(s.scene).toBeUndefined();
    expect(s.off).toEqual([]);
  });
});
