import { SceneError } from './SceneError.js';
import type {
  ImpulseEvent,
  RecordedQuantity,
  Scene,
  SceneDefinition,
  SceneEvent,
  SceneSystem,
} from './types.js';

const EVENT_TYPES: readonly SceneEvent['type'][] = [
  'impulse',
  'setState',
  'perturb',
  'pause',
  'resume',
  'marker',
];
const QUANTITIES: readonly RecordedQuantity[] = [
  'q',
  'qd',
  'energy',
  'engineEnergy',
  'positions',
  'work',
  'ledger',
];
const DEFAULT_QUANTITIES: readonly RecordedQuantity[] = ['q', 'qd', 'energy'];

/**
 * Largest magnitude of a force quantity in a scene: a damping coefficient, an entry of a constant force,
 * of a generalized impulse `p` or of a point impulse `J` (system units). Larger is a typo or hostile.
 */
export const MAX_SCENE_FORCE = 1e6;

/** Longest quoted value in a message (a scene from a file may hold anything). */
const MAX_QUOTED = 60;
/** Most names a message lists. */
const MAX_LISTED = 10;

/** A value as it appears in a message: JSON, on one line, cut to {@link MAX_QUOTED} characters. */
function brief(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = typeof v;
  }
  text = text.replace(/[\r\n]+/g, ' ');
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED - 1)}…` : text;
}

/** A name as it appears in a message, quoted with '…' and cut like {@link brief}. */
function quoted(name: string): string {
  const text = name.replace(/[\r\n]+/g, ' ');
  return `'${text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED - 1)}…` : text}'`;
}

/** A value that should have been a name: a string quoted with '…', anything else as {@link brief} JSON. */
function named(v: unknown): string {
  return typeof v === 'string' ? quoted(v) : brief(v);
}

/** Names as a short list: the first {@link MAX_LISTED}, then how many more. */
function listOf(names: Iterable<string>): string {
  const all = [...names];
  const head = all
    .slice(0, MAX_LISTED)
    .map((n) => (n.length > MAX_QUOTED ? `${n.slice(0, MAX_QUOTED - 1)}…` : n));
  return all.length > MAX_LISTED
    ? `${head.join(', ')}, … (${all.length - MAX_LISTED} more)`
    : head.join(', ');
}

/** Throws a {@link SceneError} prefixed with the scene's name. */
function fail(scene: string, message: string): never {
  throw new SceneError(`scene ${quoted(scene)}: ${message}`);
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function checkVector(scene: string, where: string, v: unknown): void {
  if (!Array.isArray(v) || !v.every(isFiniteNumber)) {
    fail(scene, `${where} must be an array of finite numbers, got ${brief(v)}.`);
  }
}

/** `[dof]` or `[count][dof]` of finite numbers. */
function checkState(scene: string, where: string, v: unknown, count: number): void {
  if (!Array.isArray(v)) fail(scene, `${where} must be [dof] or [count][dof] numbers, got ${brief(v)}.`);
  if (v.length > 0 && Array.isArray(v[0])) {
    if (v.length !== count)
      fail(scene, `${where} has ${v.length} rows but count is ${count}; give one row per copy.`);
    v.forEach((row, i) => {
      checkVector(scene, `${where}[${i}]`, row);
    });
  } else {
    checkVector(scene, where, v);
  }
}

/** Finite numbers of magnitude at most {@link MAX_SCENE_FORCE} (≥ 0 with `nonNegative`). */
function checkForceVector(scene: string, where: string, v: unknown, nonNegative = false): void {
  checkVector(scene, where, v);
  for (const [i, x] of (v as number[]).entries()) {
    if (nonNegative && x < 0) fail(scene, `${where}[${i}] must be ≥ 0, got ${brief(x)}.`);
    if (Math.abs(x) > MAX_SCENE_FORCE)
      fail(scene, `${where}[${i}] must be at most ${MAX_SCENE_FORCE} in magnitude, got ${brief(x)}.`);
  }
}

/** A system's `forces`: a plain object of `damping` and `constant` only (a scene is data). */
function checkForces(scene: string, where: string, f: unknown, count: number): void {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) {
    fail(scene, `${where} must be an object { damping?, constant? }, got ${brief(f)}.`);
  }
  for (const k of Object.keys(f)) {
    if (k === 'callback') {
      fail(
        scene,
        `${where}.callback: a scene is plain data; set a force callback in code (runner.handle(id).forces.set({ callback })).`,
      );
    }
    if (k !== 'damping' && k !== 'constant')
      fail(scene, `${where}: unknown key ${quoted(k)}; expected damping or constant.`);
  }
  const { damping, constant } = f as { damping?: unknown; constant?: unknown };
  if (damping !== undefined) {
    if (typeof damping === 'number') {
      if (!Number.isFinite(damping) || damping < 0 || damping > MAX_SCENE_FORCE)
        fail(
          scene,
          `${where}.damping must be a coefficient C in [0, ${MAX_SCENE_FORCE}] (Q = −C q̇) or one per coordinate, got ${brief(damping)}.`,
        );
    } else if (Array.isArray(damping)) {
      checkForceVector(scene, `${where}.damping`, damping, true);
    } else {
      fail(
        scene,
        `${where}.damping must be a number ≥ 0 or an array of them (one per coordinate), got ${brief(damping)}.`,
      );
    }
  }
  if (constant !== undefined) {
    checkState(scene, `${where}.constant`, constant, count);
    if (Array.isArray((constant as unknown[])[0])) {
      (constant as number[][]).forEach((row, r) => {
        checkForceVector(scene, `${where}.constant[${r}]`, row);
      });
    } else {
      checkForceVector(scene, `${where}.constant`, constant);
    }
  }
}

/** An impulse event: exactly one of `qd`, `p`, or `point` with `J`. */
function checkImpulse(scene: string, where: string, e: ImpulseEvent): void {
  const given = (['qd', 'p', 'point', 'J'] as const).filter((k) => e[k] !== undefined);
  const kinds = new Set(given.map((k) => (k === 'J' ? 'point' : k)));
  if (kinds.size !== 1) {
    fail(
      scene,
      `${where} (impulse) needs exactly one of qd (a velocity change), p (a generalized impulse) or point with J (an impulse on a point), got ${given.length === 0 ? 'none' : given.join(', ')}.`,
    );
  }
  if (e.qd !== undefined) checkVector(scene, `${where}.qd`, e.qd);
  if (e.p !== undefined) checkForceVector(scene, `${where}.p`, e.p);
  if (kinds.has('point')) {
    if (!Number.isInteger(e.point) || (e.point as number) < 0)
      fail(
        scene,
        `${where}.point must be the index (an integer ≥ 0) of a drawn point, got ${brief(e.point)}.`,
      );
    checkForceVector(scene, `${where}.J`, e.J);
    if ((e.J as readonly number[]).length !== 3)
      fail(scene, `${where}.J must be 3 numbers [x, y, z] (N·s), got ${brief(e.J)}.`);
  }
}

function checkSystem(scene: string, s: SceneSystem, i: number, ids: Set<string>): void {
  const where = `systems[${i}]`;
  if (typeof s !== 'object' || s === null) fail(scene, `${where} must be an object { id, system, … }.`);
  if (typeof s.id !== 'string' || s.id === '')
    fail(scene, `${where}.id must be a non-empty string (a name for it).`);
  if (ids.has(s.id)) fail(scene, `${where}.id ${quoted(s.id)} is used twice; system ids must be unique.`);
  ids.add(s.id);
  const sys = s.system as unknown;
  const isSystemObject =
    typeof sys === 'object' &&
    sys !== null &&
    typeof (sys as { accelerations?: unknown }).accelerations === 'function';
  if (!(typeof sys === 'string' && sys !== '') && !isSystemObject) {
    fail(scene, `${where}.system must be a system registry id such as 'double-pendulum' or a System object.`);
  }
  const count = s.count ?? 1;
  if (!Number.isInteger(count) || count < 1)
    fail(scene, `${where}.count must be an integer ≥ 1, got ${brief(s.count)}.`);
  if (s.params !== undefined) {
    if (typeof s.params !== 'object' || s.params === null || Array.isArray(s.params)) {
      fail(scene, `${where}.params must be an object of numbers, e.g. { g: 1.62 }.`);
    }
    for (const [k, v] of Object.entries(s.params)) {
      if (!isFiniteNumber(v))
        fail(scene, `${where}.params.${quoted(k)} must be a finite number, got ${brief(v)}.`);
    }
  }
  if (s.q0 !== undefined) checkState(scene, `${where}.q0 (${quoted(s.id)})`, s.q0, count);
  if (s.qd0 !== undefined) checkState(scene, `${where}.qd0 (${quoted(s.id)})`, s.qd0, count);
  for (const key of ['engine', 'model', 'backend', 'integrator'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'string') fail(scene, `${where}.${key} must be a string.`);
  }
  if (s.outsideTraining !== undefined && s.outsideTraining !== 'error' && s.outsideTraining !== 'run') {
    fail(scene, `${where}.outsideTraining must be 'error' or 'run', got ${brief(s.outsideTraining)}.`);
  }
  if (s.forces !== undefined) checkForces(scene, `${where}.forces (${quoted(s.id)})`, s.forces, count);
}

function checkEvent(scene: string, e: SceneEvent, i: number, systems: Map<string, SceneSystem>): void {
  const where = `events[${i}]`;
  if (typeof e !== 'object' || e === null) fail(scene, `${where} must be an object { at, type, … }.`);
  if (!EVENT_TYPES.includes(e.type)) {
    fail(scene, `${where}.type ${named(e.type)} is unknown; use one of ${EVENT_TYPES.join(', ')}.`);
  }
  if (!isFiniteNumber(e.at) || e.at < 0)
    fail(scene, `${where}.at must be a time ≥ 0 in seconds, got ${brief(e.at)}.`);
  if (e.type === 'marker') {
    if (typeof e.label !== 'string') fail(scene, `${where}.label must be a string.`);
    return;
  }
  const target = (e as { target?: unknown }).target;
  const needsTarget = e.type === 'impulse' || e.type === 'setState' || e.type === 'perturb';
  if (target === undefined && !needsTarget) return;
  if (typeof target !== 'string' || !systems.has(target)) {
    fail(
      scene,
      `${where}.target ${brief(target)} is not a system of the scene; use one of ${listOf(systems.keys())}.`,
    );
  }
  const sys = systems.get(target)!;
  if ('index' in e && e.index !== undefined) {
    const count = sys.count ?? 1;
    if (!Number.isInteger(e.index) || e.index < 0 || e.index >= count) {
      fail(
        scene,
        `${where}.index must be an integer in [0, ${count}) for ${quoted(target)}, got ${brief(e.index)}.`,
      );
    }
  }
  if (e.type === 'impulse') checkImpulse(scene, where, e);
  if (e.type === 'setState') {
    if (e.q === undefined && e.qd === undefined) fail(scene, `${where} (setState) needs q, qd or both.`);
    if (e.q !== undefined) checkVector(scene, `${where}.q`, e.q);
    if (e.qd !== undefined) checkVector(scene, `${where}.qd`, e.qd);
  }
  if (e.type === 'perturb') {
    for (const key of ['q', 'qd'] as const) {
      const v = e[key];
      if (v !== undefined && (!isFiniteNumber(v) || v < 0))
        fail(scene, `${where}.${key} must be a standard deviation ≥ 0.`);
    }
    if (e.seed !== undefined && !Number.isInteger(e.seed)) fail(scene, `${where}.seed must be an integer.`);
  }
}

/**
 * Validate a scene and fill in its defaults. The scene stays plain data; the same object drives a
 * headless run (`runScene`) and a browser renderer. Checks needing the physics (vector lengths against
 * each system's dof, parameter names, engines) happen when a run starts.
 * @throws SceneError naming the field at fault and the fix
 * @example
 * export default defineScene({
 *   name: 'kick',
 *   dt: 0.01,
 *   duration: 10,
 *   systems: [{ id: 'dp', system: 'double-pendulum', q0: [2, 1] }],
 *   events: [{ at: 5, type: 'impulse', target: 'dp', qd: [1, 0] }],
 *   recorders: [{ target: 'dp', every: 10, quantities: ['q', 'energy'] }],
 * });
 */
export function defineScene(definition: SceneDefinition): Scene {
  if (typeof definition !== 'object' || definition === null) {
    throw new SceneError('defineScene: expected an object { name, dt, duration, systems, … }.');
  }
  if ((definition as Partial<Scene>).__scene === 1) return definition as Scene;
  const name = definition.name;
  if (typeof name !== 'string' || name === '')
    throw new SceneError('defineScene: name must be a non-empty string.');
  const { dt, duration } = definition;
  if (!isFiniteNumber(dt) || dt <= 0) fail(name, `dt must be a step in seconds > 0, got ${brief(dt)}.`);
  if (!isFiniteNumber(duration) || duration <= 0)
    fail(name, `duration must be > 0 seconds, got ${brief(duration)}.`);
  const steps = Math.round(duration / dt);
  if (Math.abs(duration / dt - steps) > 1e-9 * Math.max(1, steps) || steps < 1) {
    fail(
      name,
      `duration ${duration} is not a whole number of dt = ${dt} steps; use ${Number((Math.max(1, steps) * dt).toPrecision(12))}.`,
    );
  }
  if (!Array.isArray(definition.systems) || definition.systems.length === 0) {
    fail(name, 'systems must be a non-empty array of { id, system, … }.');
  }
  const ids = new Set<string>();
  definition.systems.forEach((s, i) => {
    checkSystem(name, s, i, ids);
  });
  const byId = new Map(definition.systems.map((s) => [s.id, s]));
  const events = definition.events ?? [];
  if (!Array.isArray(events)) fail(name, 'events must be an array.');
  events.forEach((e, i) => {
    checkEvent(name, e, i, byId);
  });

  const recorderNames = new Set<string>();
  if (definition.recorders !== undefined && !Array.isArray(definition.recorders))
    fail(name, 'recorders must be an array of { target, every?, quantities? }.');
  const recorders = (definition.recorders ?? []).map((r, i) => {
    const where = `recorders[${i}]`;
    if (typeof r !== 'object' || r === null || !byId.has(r.target)) {
      fail(
        name,
        `${where}.target ${brief(r?.target)} is not a system of the scene; use one of ${listOf(ids)}.`,
      );
    }
    const every = r.every ?? 1;
    if (!Number.isInteger(every) || every < 1)
      fail(name, `${where}.every must be an integer ≥ 1 (steps), got ${brief(r.every)}.`);
    const quantities = r.quantities ?? DEFAULT_QUANTITIES;
    if (!Array.isArray(quantities))
      fail(name, `${where}.quantities must be an array of ${QUANTITIES.join(', ')}.`);
    for (const q of quantities) {
      if (!QUANTITIES.includes(q))
        fail(name, `${where}.quantities: ${named(q)} is unknown; use ${QUANTITIES.join(', ')}.`);
    }
    if (r.name !== undefined && (typeof r.name !== 'string' || r.name === ''))
      fail(name, `${where}.name must be a non-empty string.`);
    let recName = r.name ?? r.target;
    if (r.name !== undefined && recorderNames.has(recName))
      fail(name, `${where}.name ${quoted(recName)} is used twice.`);
    for (let k = 2; recorderNames.has(recName); k++) recName = `${r.target}-${k}`;
    recorderNames.add(recName);
    return { ...r, name: recName, every, quantities: [...quantities] };
  });

  if (definition.camera !== undefined) {
    const c = definition.camera;
    if (typeof c !== 'object' || c === null)
      fail(name, 'camera must be an object { position, target?, fov?, up? }.');
    checkVector(name, 'camera.position', c.position);
    if (c.target !== undefined) checkVector(name, 'camera.target', c.target);
    if (c.up !== undefined) checkVector(name, 'camera.up', c.up);
  }

  return Object.freeze({
    ...definition,
    description: definition.description ?? '',
    events: [...events],
    recorders,
    __scene: 1 as const,
  });
}

/** Whether `x` is a scene returned by {@link defineScene}. */
export function isScene(x: unknown): x is Scene {
  return typeof x === 'object' && x !== null && (x as Partial<Scene>).__scene === 1;
}
