import { Body, type World } from 'cannon-es';
import type { Engine, EngineId, Integrator, IntegratorId, System } from '../../src/core/types.js';
import { createEngine, type EngineOptions } from '../../src/engines/registry.js';
import { createIntegrator } from '../../src/integrators/registry.js';
import { createSystem } from '../../src/systems/registry.js';
import { checkModelSystem } from '../three/checkModelSystem.js';
import { ensureEngine } from '../three/ensureEngine.js';
import { pointVelocities } from '../three/pointVelocities.js';
import type { Vec3Like } from './CannonBuildOptions.js';
import { checkVector } from './createCannonSystem.js';
import { isSystem } from './resolveSystem.js';

/** Options of {@link attachLagrangian}. */
export interface AttachLagrangianOptions {
  /** The cannon-es bodies that follow the system; body i follows point `points[i]` of `system.positions`. */
  bodies: Body[];
  /** The system (or its registry id, built with `params`). */
  system: System | string;
  /**
   * Parameters used when `system` is an id.
   * @default {} (the system's defaults)
   */
  params?: Partial<Record<string, number>>;
  /**
   * The engine producing q̈: a registered id (`'analytic'`, `'lagrangian'`, `'lnn'`, …), created here and
   * disposed on detach, or an Engine instance, which stays the caller's to dispose.
   * @default 'analytic'
   */
  engine?: EngineId | Engine;
  /**
   * Model for a learned engine (path, URL or loaded model), passed to `createEngine`.
   * @default undefined
   */
  model?: EngineOptions['model'];
  /**
   * Further options for `createEngine` (e.g. `backend`).
   * @default {}
   */
  engineOptions?: EngineOptions;
  /**
   * Initial coordinates `[dof]`.
   * @default zeros
   */
  q0?: ArrayLike<number>;
  /**
   * Initial velocities `[dof]`.
   * @default zeros
   */
  qd0?: ArrayLike<number>;
  /**
   * Integrator of the Lagrangian system.
   * @default 'rk4'
   */
  integrator?: IntegratorId | Integrator;
  /**
   * World position of the system's origin (its pivot).
   * @default { x: 0, y: 0, z: 0 }
   */
  origin?: Vec3Like;
  /**
   * Point index followed by each body.
   * @default the last `bodies.length` points (fixed points such as pivots come first)
   */
  points?: readonly number[];
  /**
   * Lagrangian steps per cannon step (each of `world.dt / substeps`).
   * @default 1
   */
  substeps?: number;
}

/**
 * A running attachment: call it to detach. Also exposes the live state of the Lagrangian system.
 */
export interface LagrangianAttachment {
  /** Detach: the bodies get their original type back and keep their last velocity; idempotent. */
  (): void;
  /** The system being followed. */
  readonly system: System;
  /** The engine producing q̈. */
  readonly engine: Engine;
  /** Current coordinates `[dof]` (live view; write through {@link LagrangianAttachment.setState}). */
  readonly q: Float64Array;
  /** Current velocities `[dof]` (live view). */
  readonly qd: Float64Array;
  /** Simulated time advanced since attaching, in seconds. */
  readonly time: number;
  /** Replace the state and move the bodies there at once. */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void;
}

/**
 * Let a Lagrangian system (exact or learned) drive chosen cannon-es bodies. The bodies become
 * KINEMATIC: they push other bodies through contacts but are not pushed back. On every cannon step
 * ('postStep') the system is advanced by exactly the world's step `world.dt`, and each body gets the
 * position AND velocity of its point (velocity `J(q) q̇`), so the next step's contacts see the true
 * motion. Every other body keeps cannon's physics.
 * @returns a function that detaches (restoring each body's type) and carries the live state
 * @example
 * const detach = await attachLagrangian(world, { bodies: [bob1, bob2], system: 'double-pendulum', q0: [2, 1] });
 * for (let i = 0; i < 600; i++) world.step(1 / 600);
 * detach();
 */
export async function attachLagrangian(
  world: World,
  options: AttachLagrangianOptions,
): Promise<LagrangianAttachment> {
  const where = 'attachLagrangian';
  const { bodies } = options;
  if (!Array.isArray(bodies) || bodies.length === 0) {
    throw new Error(`${where}: 'bodies' must be a non-empty array of cannon-es bodies`);
  }
  for (const [i, b] of bodies.entries()) {
    if (!(b instanceof Body)) throw new Error(`${where}: bodies[${i}] is not a cannon-es Body`);
    if (b.world !== world && !world.bodies.includes(b)) {
      throw new Error(`${where}: bodies[${i}] is not in this world; call world.addBody(body) first`);
    }
  }
  const system = isSystem(options.system)
    ? options.system
    : typeof options.system === 'string'
      ? createSystem(options.system, options.params ?? {})
      : (() => {
          throw new Error(`${where}: 'system' must be a System or a registered system id`);
        })();
  const points = options.points ?? bodies.map((_, i) => system.pointCount - bodies.length + i);
  if (points.length !== bodies.length) {
    throw new Error(`${where}: ${points.length} point indices for ${bodies.length} bodies`);
  }
  for (const [i, p] of points.entries()) {
    if (!(Number.isInteger(p) && p >= 0 && p < system.pointCount)) {
      throw new Error(
        `${where}: points[${i}] = ${p} is not a point of '${system.id}' (it has points 0…${system.pointCount - 1})`,
      );
    }
  }
  const substeps = options.substeps ?? 1;
  if (!(Number.isInteger(substeps) && substeps >= 1)) {
    throw new Error(`${where}: 'substeps' must be an integer ≥ 1, got ${substeps}`);
  }
  const n = system.dof;
  const q = checkVector(where, 'q0', options.q0, n);
  const qd = checkVector(where, 'qd0', options.qd0, n);
  const integrator =
    typeof options.integrator === 'object'
      ? options.integrator
      : createIntegrator(options.integrator ?? 'rk4');
  const ownsEngine = typeof options.engine !== 'object';
  if (typeof options.engine === 'string') await ensureEngine(options.engine);
  const engine =
    typeof options.engine === 'object'
      ? options.engine
      : await createEngine(options.engine ?? 'analytic', system, {
          ...options.engineOptions,
          ...(options.model !== undefined ? { model: options.model } : {}),
        });
  try {
    if (engine.system.id !== system.id || engine.system.dof !== n) {
      throw new Error(
        `${where}: the engine is for '${engine.system.id}' (${engine.system.dof} dof), the system is '${system.id}' (${n} dof)`,
      );
    }
    checkModelSystem(engine, system, where);
  } catch (error) {
    if (ownsEngine) engine.dispose();
    throw error;
  }

  const origin = options.origin ?? { x: 0, y: 0, z: 0 };
  const pos = new Float64Array(system.pointCount * 3);
  const vel = new Float64Array(system.pointCount * 3);
  const types = bodies.map((b) => b.type);
  for (const b of bodies) {
    b.type = Body.KINEMATIC;
    b.wakeUp();
  }
  let time = 0;

  const writeBodies = (): void => {
    system.positions(q, pos);
    pointVelocities(system, q, qd, vel);
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i];
      const k = 3 * points[i];
      b.position.set(origin.x + pos[k], origin.y + pos[k + 1], origin.z + pos[k + 2]);
      b.velocity.set(vel[k], vel[k + 1], vel[k + 2]);
      b.angularVelocity.set(0, 0, 0);
      b.aabbNeedsUpdate = true;
    }
  };
  const onPostStep = (): void => {
    // cannon integrated the bodies with the velocity of the step's start; replace that with the exact
    // motion over the same step: the system advanced by the world's own dt.
    const h = world.dt / substeps;
    for (let s = 0; s < substeps; s++) engine.step(q, qd, 1, h, integrator);
    time += world.dt;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) {
        detach();
        throw new Error(
          `${where}: the '${engine.id}' engine produced a non-finite state at t = ${time.toFixed(4)} s ` +
            `(q = [${Array.from(q).join(', ')}], q̇ = [${Array.from(qd).join(', ')}]); the bodies were detached`,
        );
      }
    }
    writeBodies();
  };
  let attached = true;
  const detach = (): void => {
    if (!attached) return;
    attached = false;
    world.removeEventListener('postStep', onPostStep);
    bodies.forEach((b, i) => {
      b.type = types[i];
      b.wakeUp();
    });
    if (ownsEngine) engine.dispose();
  };
  writeBodies();
  for (const b of bodies) {
    b.previousPosition.copy(b.position);
    b.interpolatedPosition.copy(b.position);
  }
  world.addEventListener('postStep', onPostStep);

  return Object.defineProperties(detach, {
    system: { value: system, enumerable: true },
    engine: { value: engine, enumerable: true },
    q: { value: q, enumerable: true },
    qd: { value: qd, enumerable: true },
    time: { get: () => time, enumerable: true },
    setState: {
      value: (q1: ArrayLike<number>, qd1: ArrayLike<number>) => {
        q.set(checkVector(where, 'q', q1, n));
        qd.set(checkVector(where, 'qd', qd1, n));
        writeBodies();
      },
      enumerable: true,
    },
  }) as unknown as LagrangianAttachment;
}
