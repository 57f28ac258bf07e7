import { type EngineRoute, INTEGRATOR_IDS, listSystems, MAX_EXPRESSION_LENGTH } from '../src/index.js';

export type { EngineRoute };

/** Precisions a route can name. */
const PRECISIONS: readonly EngineRoute['precision'][] = ['float64', 'float32', 'float16'];

/**
 * The app's shareable state, kept in the page's query string so a view can be shared as a link.
 * Only plain numbers and short strings; a typed Lagrangian travels as text and is parsed (never run).
 * A link is input from anyone: {@link parseUrlState} reads it within {@link URL_LIMITS}, keeps only
 * known keys with valid values, and never throws — whatever it leaves out falls back to the app's
 * defaults and is named in `problems`.
 */
export interface AppUrlState {
  /** Scene id. */
  scene?: string;
  /** Scene option values (`o.<name>` in the URL). */
  options: Record<string, string>;
  /** Initial q override, `[dof]`. */
  q0?: number[];
  /** Initial q̇ override, `[dof]`. */
  qd0?: number[];
  dt?: number;
  substeps?: number;
  integrator?: string;
  timeScale?: number;
  /** Rayleigh damping C of every lane that takes forces (`damp` in the URL). */
  damping?: number;
  layout?: 'side' | 'overlay';
  trails?: boolean;
  /** Lanes switched off. */
  off: string[];
  /** Model override per lane key (`m.<key>` in the URL). */
  models: Record<string, string>;
  /** System parameter overrides (`p.<name>` in the URL), applied to every lane of a registry system. */
  params: Record<string, number>;
  /** TF.js backend choice. */
  backend?: string;
  /** Coordinate in the phase portrait. */
  phase?: number;
  /** Start paused. */
  paused?: boolean;
  /**
   * Route to pin per learned lane key (`r.<key>=<route>,<backend>,<precision>` in the URL), so the link
   * replays a recorded run bit for bit.
   */
  routes: Record<string, EngineRoute>;
  /**
   * What the parser left out and why, one line each (e.g. `dt: '0' is not in [1e-6, 1]; using the
   * scene's default`). Empty for a clean link; never written back by {@link formatUrlState}.
   */
  problems?: string[];
}

/** The bounds {@link parseUrlState} reads a query string within. */
export const URL_LIMITS = {
  /** Longest query string read, in characters; a longer one is ignored as a whole. */
  search: 65_536,
  /** Most `key=value` entries read; the rest are ignored. */
  entries: 256,
  /** Longest key (`o.L`, `m.lnn`, …). */
  key: 64,
  /** Longest plain value (ids, names, choices). */
  value: 128,
  /** Longest scene option value (a typed Lagrangian): the expression parser's own limit. */
  text: MAX_EXPRESSION_LENGTH,
  /** Most numbers in `q0` / `qd0`, and most lanes in `off`. */
  vector: 64,
  /** Largest |q| or |q̇| of an initial-state override. */
  magnitude: 1e6,
  /** `dt` in seconds: [min, max]. */
  dt: [1e-6, 1] as const,
  /** `sub` (substeps per step): [min, max], integers. */
  substeps: [1, 16] as const,
  /** `speed` (time scale): [min, max]. */
  timeScale: [0.01, 100] as const,
  /** `damp` (Rayleigh damping C): [min, max]. */
  damping: [0, 2] as const,
  /** `phase` (coordinate index): [0, max], integers. */
  phase: 255,
  /** Longest list of problems kept. */
  problems: 20,
} as const;

/** Backends the app offers. */
const BACKENDS: readonly string[] = ['auto', 'webgl', 'wasm', 'cpu', 'js'];
/** A route or backend name (`js`, `webgl-fused`, …). */
const ROUTE_PART = /^[a-z][a-z0-9-]{0,31}$/;
/** Keys that would reach an object's prototype if used as a property name. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** A scene option name, lane key or parameter name. */
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** A scene id or lane key. */
const ID = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** A model name (a folder name of the models, not a path or URL). */
const MODEL = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** A plain decimal number (no hex, no Infinity, no empty string). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Keys read as they are (besides the `o.`, `m.`, `p.` and `r.` prefixes). */
export const URL_KEYS: ReadonlySet<string> = new Set([
  'scene',
  'q0',
  'qd0',
  'dt',
  'sub',
  'int',
  'speed',
  'damp',
  'layout',
  'trails',
  'off',
  'backend',
  'phase',
  'paused',
]);

/** A value as it appears in a problem line: quoted, one line, cut short. */
function shown(v: string): string {
  let flat = '';
  for (const ch of v.slice(0, 64)) flat += ch.charCodeAt(0) < 0x20 || ch === '\u007f' ? ' ' : ch;
  return `'${flat.length > 40 ? `${flat.slice(0, 39)}…` : flat}'`;
}

/** A plain decimal number, or undefined. */
function decimal(v: string): number | undefined {
  const t = v.trim();
  if (t.length > 64 || !DECIMAL.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** Whether `name` is safe as a property name and well formed. */
function safeName(name: string, pattern: RegExp): boolean {
  return name.length > 0 && name.length <= URL_LIMITS.key && pattern.test(name) && !PROTOTYPE_KEYS.has(name);
}

/**
 * Whether `value` is valid for every registry system that has a real (non-integer) parameter `name`,
 * as the app applies `p.<name>` to every lane of such a system; undefined when none has it.
 */
function paramProblem(name: string, value: number): string | undefined {
  let known = false;
  for (const system of listSystems()) {
    for (const spec of system.params) {
      if (spec.name !== name || spec.integer) continue;
      known = true;
      if (
        (spec.positive && !(value > 0)) ||
        (spec.min !== undefined && value < spec.min) ||
        (spec.max !== undefined && value > spec.max)
      ) {
        return `${value} is out of range for ${system.id}.${name}`;
      }
    }
  }
  return known ? undefined : 'no system has such a parameter';
}

/** The default state: nothing overridden. */
function defaults(problems: string[]): AppUrlState {
  return {
    scene: undefined,
    options: Object.create(null) as Record<string, string>,
    q0: undefined,
    qd0: undefined,
    dt: undefined,
    substeps: undefined,
    integrator: undefined,
    timeScale: undefined,
    damping: undefined,
    layout: undefined,
    trails: undefined,
    off: [],
    models: Object.create(null) as Record<string, string>,
    params: Object.create(null) as Record<string, number>,
    backend: undefined,
    phase: undefined,
    paused: undefined,
    routes: Object.create(null) as Record<string, EngineRoute>,
    problems,
  };
}

/**
 * Read the state from a query string. Unknown keys are ignored; a malformed, out-of-range or over-long
 * entry is left out (the app then uses its default) and named in `problems`. Never throws.
 * @example parseUrlState('?scene=double-pendulum&dt=0.005&p.g=1.62')
 */
export function parseUrlState(search: string): AppUrlState {
  const problems: string[] = [];
  const problem = (text: string): void => {
    if (problems.length < URL_LIMITS.problems) problems.push(text);
  };
  try {
    return parse(typeof search === 'string' ? search : '', problem, problems);
  } catch (err) {
    // Not expected (every entry is checked), but a shared link must never stop the app from starting.
    problem(
      `the link could not be read (${err instanceof Error ? err.message : 'unknown error'}); using defaults`,
    );
    return defaults(problems);
  }
}

function parse(search: string, problem: (text: string) => void, problems: string[]): AppUrlState {
  const state = defaults(problems);
  if (search.length > URL_LIMITS.search) {
    problem(`the query string is ${search.length} characters, over ${URL_LIMITS.search}; using defaults`);
    return state;
  }
  const entries: [string, string][] = [];
  for (const entry of new URLSearchParams(search)) {
    if (entries.length >= URL_LIMITS.entries) {
      problem(`more than ${URL_LIMITS.entries} entries; the rest are ignored`);
      break;
    }
    entries.push(entry);
  }
  /** The first value of `key`, when present and not too long. */
  const get = (key: string, max: number = URL_LIMITS.value): string | undefined => {
    const found = entries.find(([k]) => k === key);
    if (!found) return undefined;
    if (found[1].length > max) {
      problem(`${key}: the value is ${found[1].length} characters, over ${max}; ignored`);
      return undefined;
    }
    return found[1];
  };
  const inRange = (key: string, lo: number, hi: number, integer: boolean): number | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const n = decimal(v);
    if (n === undefined || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      problem(`${key}: ${shown(v)} is not ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}]; ignored`);
      return undefined;
    }
    return n;
  };
  const vector = (key: string): number[] | undefined => {
    const v = get(key, URL_LIMITS.vector * 32);
    if (v === undefined || v === '') return undefined;
    const parts = v.split(',');
    const m = URL_LIMITS.magnitude;
    const nums = parts.map(decimal);
    if (parts.length > URL_LIMITS.vector || !nums.every((x) => x !== undefined && Math.abs(x) <= m)) {
      problem(`${key}: ${shown(v)} is not up to ${URL_LIMITS.vector} numbers in [-${m}, ${m}]; ignored`);
      return undefined;
    }
    return nums as number[];
  };

  for (const [key, value] of entries) {
    const dot = key.indexOf('.');
    const prefix = dot > 0 ? key.slice(0, dot + 1) : '';
    if (prefix === 'o.' || prefix === 'm.' || prefix === 'p.' || prefix === 'r.') {
      const name = key.slice(2);
      const pattern = prefix === 'm.' || prefix === 'r.' ? ID : NAME;
      if (key.length > URL_LIMITS.key || !safeName(name, pattern)) {
        problem(`${shown(key)}: not a valid name; ignored`);
        continue;
      }
      if (prefix === 'o.') {
        if (value.length > URL_LIMITS.text)
          problem(`${key}: the value is ${value.length} characters, over ${URL_LIMITS.text}; ignored`);
        else state.options[name] = value;
      } else if (prefix === 'm.') {
        if (value.length > URL_LIMITS.value || !MODEL.test(value))
          problem(`${key}: ${shown(value)} is not a model name; ignored`);
        else state.models[name] = value;
      } else if (prefix === 'r.') {
        const route = parseRoute(value);
        if (!route) problem(`${key}: ${shown(value)} is not <route>,<backend>,<precision>; ignored`);
        else state.routes[name] = route;
      } else {
        const n = decimal(value);
        const why = n === undefined ? 'not a finite number' : paramProblem(name, n);
        if (why !== undefined) problem(`${key}: ${shown(value)}: ${why}; ignored`);
        else state.params[name] = n as number;
      }
    } else if (!URL_KEYS.has(key)) {
      problem(`${shown(key)}: unknown key; ignored`);
    }
  }

  const scene = get('scene');
  if (scene !== undefined) {
    if (safeName(scene, ID)) state.scene = scene;
    else problem(`scene: ${shown(scene)} is not a scene id; ignored`);
  }
  state.q0 = vector('q0');
  state.qd0 = vector('qd0');
  state.dt = inRange('dt', URL_LIMITS.dt[0], URL_LIMITS.dt[1], false);
  state.substeps = inRange('sub', URL_LIMITS.substeps[0], URL_LIMITS.substeps[1], true);
  const integrator = get('int');
  if (integrator !== undefined) {
    if ((INTEGRATOR_IDS as readonly string[]).includes(integrator)) state.integrator = integrator;
    else problem(`int: ${shown(integrator)} is not one of ${INTEGRATOR_IDS.join(', ')}; ignored`);
  }
  state.timeScale = inRange('speed', URL_LIMITS.timeScale[0], URL_LIMITS.timeScale[1], false);
  state.damping = inRange('damp', URL_LIMITS.damping[0], URL_LIMITS.damping[1], false);
  const layout = get('layout');
  if (layout === 'overlay' || layout === 'side') state.layout = layout;
  else if (layout !== undefined) problem(`layout: ${shown(layout)} is not side or overlay; ignored`);
  const trails = get('trails');
  if (trails !== undefined) state.trails = trails !== '0';
  const off = get('off', URL_LIMITS.vector * (URL_LIMITS.key + 1));
  if (off !== undefined) {
    const keys = off.split(',').filter(Boolean);
    const good = keys.filter((k) => safeName(k, ID)).slice(0, URL_LIMITS.vector);
    if (good.length < keys.length)
      problem(`off: ${shown(off)} has names that are not lane keys; those are ignored`);
    state.off = good;
  }
  const backend = get('backend');
  if (backend !== undefined) {
    if (BACKENDS.includes(backend)) state.backend = backend;
    else problem(`backend: ${shown(backend)} is not one of ${BACKENDS.join(', ')}; ignored`);
  }
  state.phase = inRange('phase', 0, URL_LIMITS.phase, true);
  if (get('paused') === '1') state.paused = true;
  return state;
}

/** `<route>,<backend>,<precision>` as a route, or undefined when malformed. */
function parseRoute(value: string): EngineRoute | undefined {
  if (value.length > URL_LIMITS.value) return undefined;
  const [route, backend, precision, ...rest] = value.split(',');
  if (rest.length > 0 || !ROUTE_PART.test(route ?? '') || !ROUTE_PART.test(backend ?? '')) return undefined;
  const p = PRECISIONS.find((x) => x === precision);
  return p ? { route, backend, precision: p } : undefined;
}

/** Write the state as a query string (`?…`), omitting undefined entries. */
export function formatUrlState(s: AppUrlState): string {
  const p = new URLSearchParams();
  if (s.scene) p.set('scene', s.scene);
  for (const [k, v] of Object.entries(s.options)) p.set(`o.${k}`, v);
  if (s.q0) p.set('q0', s.q0.map(fmt).join(','));
  if (s.qd0) p.set('qd0', s.qd0.map(fmt).join(','));
  if (s.dt !== undefined) p.set('dt', fmt(s.dt));
  if (s.substeps !== undefined) p.set('sub', String(s.substeps));
  if (s.integrator) p.set('int', s.integrator);
  if (s.timeScale !== undefined && s.timeScale !== 1) p.set('speed', fmt(s.timeScale));
  if (s.damping !== undefined && s.damping !== 0) p.set('damp', fmt(s.damping));
  if (s.layout) p.set('layout', s.layout);
  if (s.trails === false) p.set('trails', '0');
  if (s.off.length) p.set('off', s.off.join(','));
  for (const [k, v] of Object.entries(s.models)) p.set(`m.${k}`, v);
  for (const [k, v] of Object.entries(s.params)) p.set(`p.${k}`, fmt(v));
  if (s.backend && s.backend !== 'auto') p.set('backend', s.backend);
  if (s.phase) p.set('phase', String(s.phase));
  if (s.paused) p.set('paused', '1');
  for (const [k, r] of Object.entries(s.routes ?? {}))
    p.set(`r.${k}`, `${r.route},${r.backend},${r.precision}`);
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** Shortest decimal that round-trips the float64 exactly (a shared view reproduces the same run). */
function fmt(x: number): string {
  return String(x);
}
