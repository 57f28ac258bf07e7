import type { Engine, EngineRoute, IntegratorId, System } from '../core/types.js';
import { createSystem } from '../systems/registry.js';
import { checkClock, checkDt, checkMaxSubSteps, checkTimeScale } from './checks.js';
import { fillState, type SystemHandle } from './SystemHandle.js';
import type { World } from './World.js';

/** A JSON value (what snapshots are made of). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The snapshot format version written by `world.toJSON()`; {@link SNAPSHOT_VERSIONS} are read. */
export const SNAPSHOT_VERSION = 2 as const;

/** Snapshot versions `World.fromJSON` and `world.restore` read: 1 (no routes) and 2 (routes). */
export const SNAPSHOT_VERSIONS: readonly number[] = [1, 2];

/** Snapshot of one {@link SystemHandle}: plain JSON, numbers exact (float64 round-trips through JSON). */
export interface SystemSnapshot {
  /** Handle name, unique within the world. */
  name: string;
  /** System registry id and its full parameter set. */
  system: { id: string; params: Record<string, number> };
  /** Engine id. */
  engine: string;
  /** The JSON-safe engine options (strings, numbers, booleans; a URL as its string). */
  engineOptions: Record<string, JsonValue>;
  /**
   * The route the engine took for this batch (engines with `describeRoute`, i.e. learned ones); restoring
   * pins it (`engine.pinRoute`), so a replay computes the recorded numbers. Absent for exact engines and in
   * version-1 snapshots.
   */
  route?: EngineRoute;
  /** Integrator id. */
  integrator: IntegratorId;
  /** Integrator options (dopri5 tolerances). */
  integratorOptions: Record<string, number>;
  /** Number of copies. */
  count: number;
  /** Current state, `[count * dof]`. */
  q: number[];
  qd: number[];
  /** State before the last step (interpolation start), `[count * dof]`. */
  previousQ: number[];
  previousQd: number[];
  /** Indices of frozen (invalid) copies. */
  invalid: number[];
  /**
   * The energy ledger (see `SystemHandle.ledger`): each copy's E(0) and the work W of the external forces,
   * `[count]` each. The forces themselves are the caller's settings and are not part of a snapshot.
   * Absent in older snapshots (restored as E(0) = E of the restored state, W = 0).
   */
  ledger?: { energy0: number[]; work: number[] };
}

/** Snapshot of a `World`: `world.toJSON()`; restore with `World.fromJSON` or `world.restore`. */
export interface WorldSnapshot {
  format: 'three-lnn/world';
  /** Format version: 2 is written; 1 (without routes) is still read. */
  version: 1 | 2;
  time: number;
  stepCount: number;
  accumulator: number;
  alpha: number;
  paused: boolean;
  timeScale: number;
  fixedTimeStep: number;
  maxSubSteps: number;
  systems: SystemSnapshot[];
}

/** Options of {@link World.fromJSON}. */
export interface FromJsonOptions {
  /**
   * Builds a system from its id and parameters.
   * @default the system registry's `createSystem`
   */
  createSystem?: (id: string, params: Record<string, number>) => System;
  /**
   * Engine instances to use instead of creating them from the snapshot, by system name
   * (for engines whose options are not JSON, such as an in-memory model).
   * @default {}
   */
  engines?: Record<string, Engine>;
}

/** The world as plain JSON (exact: float64 numbers round-trip through JSON). */
export function snapshotWorld(world: World): WorldSnapshot {
  return {
    format: 'three-lnn/world',
    version: SNAPSHOT_VERSION,
    time: world.time,
    stepCount: world.stepCount,
    accumulator: world.accumulator,
    alpha: world.alpha,
    paused: world.paused,
    timeScale: world.timeScale,
    fixedTimeStep: world.fixedTimeStep,
    maxSubSteps: world.maxSubSteps,
    systems: world.systems.map(snapshotSystem),
  };
}

/**
 * Put `world` back into the state of `json`, which must hold the same systems (names, system ids,
 * counts, in order). Engines and integrators stay; an engine with `pinRoute` takes the recorded route.
 *
 * All or nothing: the snapshot is checked whole first (envelope and clock, every system present, every
 * state, every invalid index), then every recorded route is pinned; only then are the states and the
 * clock written. When a pin fails, the engines pinned so far get their previous `route` setting back
 * (engines that expose one, as the learned engines do) and the world is left as it was.
 * @throws Error when the snapshot is malformed, describes different systems, or records a route an
 * engine cannot take
 */
export function restoreWorld(world: World, json: WorldSnapshot): void {
  checkSnapshot(json);
  const handles = world.systems;
  if (json.systems.length !== handles.length) {
    throw new Error(
      `World.restore: the snapshot has ${json.systems.length} systems, this world ${handles.length}; ` +
        'use World.fromJSON to build a new world',
    );
  }
  json.systems.forEach((s, i) => {
    const h = handles[i];
    if (
      typeof s !== 'object' ||
      s === null ||
      s.name !== h.name ||
      s.system?.id !== h.system.id ||
      s.count !== h.count
    ) {
      const shown =
        typeof s === 'object' && s !== null ? `'${s.name}' (${s.system?.id} ×${s.count})` : String(s);
      throw new Error(
        `World.restore: system ${i} is ${shown} in the snapshot but ` +
          `'${h.name}' (${h.system.id} ×${h.count}) here; use World.fromJSON`,
      );
    }
  });
  json.systems.forEach((s, i) => {
    checkSystemState(handles[i], s);
  });
  pinRoutes(handles, json.systems);
  for (let i = 0; i < json.systems.length; i++) writeSystem(handles[i], json.systems[i]);
  applyClock(world, json);
}

/**
 * Add the snapshot's systems to the empty `world` (systems from the system registry or
 * `options.createSystem`, engines from the engine registry or `options.engines`), then the exact saved
 * state, routes and clock.
 * @throws Error when the snapshot is malformed or a system or engine cannot be built
 */
export async function loadSnapshot(
  world: World,
  json: WorldSnapshot,
  options: FromJsonOptions = {},
): Promise<void> {
  checkSnapshot(json);
  const make = options.createSystem ?? createSystem;
  for (const s of json.systems) {
    const system = make(s.system.id, s.system.params);
    const handle = await world.add(system, {
      name: s.name,
      engine: options.engines?.[s.name] ?? s.engine,
      engineOptions: s.engineOptions,
      integrator: s.integrator,
      integratorOptions: s.integratorOptions,
      count: s.count,
      q0: s.q,
      qd0: s.qd,
    });
    checkSystemState(handle, s);
    pinRoutes([handle], [s]);
    writeSystem(handle, s);
  }
  applyClock(world, json);
}

/** Set the world's clock and stepping settings from a snapshot. */
export function applyClock(world: World, json: WorldSnapshot): void {
  world.fixedTimeStep = json.fixedTimeStep;
  world.maxSubSteps = json.maxSubSteps;
  world.timeScale = json.timeScale;
  world.paused = json.paused;
  world.setClock({
    time: json.time,
    stepCount: json.stepCount,
    accumulator: json.accumulator,
    alpha: json.alpha,
  });
}

/**
 * Check the envelope of a snapshot: format, a readable version, a clock and stepping settings the world
 * accepts (so that applying them cannot fail half-way), a systems array.
 * @throws Error naming what is wrong and where snapshots come from
 */
export function checkSnapshot(json: WorldSnapshot): void {
  if (
    json === null ||
    typeof json !== 'object' ||
    json.format !== 'three-lnn/world' ||
    !SNAPSHOT_VERSIONS.includes(json.version)
  ) {
    throw new Error(
      `World snapshot: expected { format: 'three-lnn/world', version: ${SNAPSHOT_VERSIONS.join(' or ')}, ... } from world.toJSON()`,
    );
  }
  for (const key of [
    'time',
    'stepCount',
    'accumulator',
    'alpha',
    'timeScale',
    'fixedTimeStep',
    'maxSubSteps',
  ] as const) {
    if (typeof json[key] !== 'number' || !Number.isFinite(json[key])) {
      throw new Error(`World snapshot: '${key}' must be a finite number, got ${json[key]}`);
    }
  }
  checkDt(json.fixedTimeStep, 'fixedTimeStep');
  checkMaxSubSteps(json.maxSubSteps);
  checkTimeScale(json.timeScale);
  checkClock({
    time: json.time,
    stepCount: json.stepCount,
    accumulator: json.accumulator,
    alpha: json.alpha,
  });
  if (!Array.isArray(json.systems)) throw new Error("World snapshot: 'systems' must be an array");
}

function jsonSafe(options: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(options)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
      out[k] = v;
    else if (v instanceof URL) out[k] = v.href;
  }
  return out;
}

function snapshotSystem(h: SystemHandle): SystemSnapshot {
  const invalid: number[] = [];
  h.invalid.forEach((f, i) => {
    if (f === 1) invalid.push(i);
  });
  const integratorOptions: Record<string, number> = {};
  for (const [k, v] of Object.entries(h.integratorOptions))
    if (typeof v === 'number') integratorOptions[k] = v;
  const snapshot: SystemSnapshot = {
    name: h.name,
    system: { id: h.system.id, params: { ...h.system.params } },
    engine: h.engine.id,
    engineOptions: jsonSafe(h.engineOptions),
    integrator: h.integrator.id,
    integratorOptions,
    count: h.count,
    q: Array.from(h.q),
    qd: Array.from(h.qd),
    previousQ: Array.from(h.previousQ),
    previousQd: Array.from(h.previousQd),
    invalid,
    ledger: { energy0: Array.from(h.energy0), work: Array.from(h.forces.ledger.work) },
  };
  const route = h.engine.describeRoute?.(h.count);
  if (route !== undefined) {
    snapshot.route = { route: route.route, backend: route.backend, precision: route.precision };
  }
  return snapshot;
}

/**
 * Check a system's saved state against its handle without writing anything: q, qd, previousQ and
 * previousQd of the handle's length with finite numbers, invalid copy indices in range.
 * @throws Error naming the system and the field at fault
 */
function checkSystemState(h: SystemHandle, s: SystemSnapshot): void {
  const scratch = new Float64Array(h.dof * h.count);
  fillState(scratch, s.q, h.dof, h.count, `${s.name}: q`);
  fillState(scratch, s.qd, h.dof, h.count, `${s.name}: qd`);
  fillState(scratch, s.previousQ, h.dof, h.count, `${s.name}: previousQ`);
  fillState(scratch, s.previousQd, h.dof, h.count, `${s.name}: previousQd`);
  if (!Array.isArray(s.invalid)) throw new Error(`${s.name}: 'invalid' must be an array of copy indices`);
  for (const i of s.invalid) {
    if (!(Number.isInteger(i) && i >= 0 && i < h.count)) {
      throw new Error(`${s.name}: invalid copy index ${i} is out of range [0, ${h.count})`);
    }
  }
  if (s.ledger !== undefined) {
    const { energy0, work } = s.ledger ?? {};
    for (const [what, a] of [
      ['ledger.energy0', energy0],
      ['ledger.work', work],
    ] as const) {
      if (
        !Array.isArray(a) ||
        a.length !== h.count ||
        !a.every((v) => typeof v === 'number' && Number.isFinite(v))
      ) {
        throw new Error(`${s.name}: '${what}' must be ${h.count} finite numbers (one per copy)`);
      }
    }
  }
}

/** An engine's `route` setting (`'auto'` or a route name), where it exposes one as a string property. */
function routeSettingOf(engine: Engine): string | undefined {
  const setting = (engine as { route?: unknown }).route;
  return typeof setting === 'string' ? setting : undefined;
}

/**
 * Pin each recorded route on its handle's engine (engines with `pinRoute`). When a pin throws, every
 * engine touched gets its previous `route` setting back (where it exposes one), then the error goes on.
 * @throws the error of the first pin that failed
 */
function pinRoutes(handles: readonly SystemHandle[], systems: readonly SystemSnapshot[]): void {
  const previous = new Map<Engine, string | undefined>();
  try {
    systems.forEach((s, i) => {
      const engine = handles[i].engine;
      if (s.route === undefined || engine.pinRoute === undefined) return;
      if (!previous.has(engine)) previous.set(engine, routeSettingOf(engine));
      engine.pinRoute(s.route);
    });
  } catch (error) {
    for (const [engine, setting] of [...previous].reverse()) {
      if (setting === undefined) continue;
      try {
        (engine as unknown as { route: string }).route = setting;
      } catch {
        // The setting was the engine's own a moment ago; an engine refusing it keeps what it has.
      }
    }
    throw error;
  }
}

/** Write a checked system snapshot (see {@link checkSystemState}) into its handle. */
function writeSystem(h: SystemHandle, s: SystemSnapshot): void {
  h.setState(s.q, s.qd);
  fillState(h.previousQ, s.previousQ, h.dof, h.count, `${s.name}: previousQ`);
  fillState(h.previousQd, s.previousQd, h.dof, h.count, `${s.name}: previousQd`);
  for (const i of s.invalid) h.invalid[i] = 1;
  if (s.ledger !== undefined) {
    h.energy0.set(s.ledger.energy0);
    h.forces.ledger.work.set(s.ledger.work);
  }
}
