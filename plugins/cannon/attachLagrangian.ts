import { Body, type World } from 'cannon-es';
import {
  type AddOptions,
  type Engine,
  type InvalidEvent,
  World as LagrangianWorld,
  pointVelocities,
  type System,
  systemFrom,
} from '../../src/index.js';
import type { Vec3Like } from './CannonBuildOptions.js';
import { checkVector } from './createCannonSystem.js';
import { LagrangianContacts, type LagrangianImpact } from './lagrangianContacts.js';

/**
 * Options of {@link attachLagrangian}: the core World's `add` options for one copy (engine by id or
 * instance, `model`, `backend`, `route`, `outsideTraining`, `params`, `engineOptions`, integrator, `q0`,
 * `qd0`), plus the bodies and how they follow the system.
 */
export interface AttachLagrangianOptions extends Omit<AddOptions, 'count' | 'name' | 'integratorOptions'> {
  /** The cannon-es bodies that follow the system; body i follows point `points[i]` of `system.positions`. */
  bodies: Body[];
  /** The system (or its registry id, built with `params`). */
  system: System | string;
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
  /**
   * Called when the system's state became non-finite (or its engine threw): the state was put back to
   * the last finite one and frozen there, and the bodies stop; `setState` resumes.
   * @default a console warning
   */
  onInvalid?: (event: InvalidEvent) => void;
  /**
   * Two-way coupling: contacts between the attached bodies and dynamic cannon bodies are resolved as
   * collisions of two finite masses — the system's side with its effective mass at the point,
   * `1 / (nᵀ J M⁻¹ Jᵀ n)` from the engine's own mass matrix — and the system receives the opposite
   * impulse (see {@link LagrangianContacts}). Needs an engine that takes forces (`forceSupport` null) and
   * a system with `pointJacobian`; with `false`, or when either is missing, the coupling is one-way as
   * before (the bodies push, cannon treats them as infinitely heavy) and
   * {@link LagrangianAttachment.oneWayReason} says why.
   * @default true where the engine and system allow it
   * @throws Error at attach when `true` is asked for and the engine or system cannot take impulses
   */
  twoWay?: boolean;
  /**
   * Called for every contact resolved by the two-way coupling, with the impulse given (the object is
   * reused: copy what you keep).
   */
  onImpact?: (impact: LagrangianImpact) => void;
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
  /** Whether the state became non-finite and is frozen at its last finite value (see `onInvalid`). */
  readonly invalid: boolean;
  /** Whether contacts push the system back (see {@link AttachLagrangianOptions.twoWay}). */
  readonly twoWay: boolean;
  /** Why the coupling is one-way (`twoWay: false`, an engine that takes no forces, no point Jacobian); null when two-way. */
  readonly oneWayReason: string | null;
  /** Contacts resolved by the two-way coupling since attaching. */
  readonly impacts: number;
  /** Replace the state (clearing `invalid`) and move the bodies there at once. */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void;
}

/**
 * Let a Lagrangian system (exact or learned) drive chosen cannon-es bodies, both ways. The bodies become
 * KINEMATIC: cannon moves them only through the system. On every cannon step ('postStep') the system is
 * advanced by exactly the world's step `world.dt`, and each body gets the position AND velocity of its
 * point (velocity `J(q) q̇`), so the next step's contacts see the true motion. Every other body keeps
 * cannon's physics.
 *
 * Two-way (the default where the engine takes forces): the attached bodies get `collisionResponse =
 * false` (restored on detach), so cannon still finds their contacts (`world.contacts`, collide events) but
 * does not resolve them as an infinitely heavy body would; on 'preStep' each contact with a dynamic body
 * is resolved as a two-body collision with the system's effective mass at the point (restitution and
 * friction from cannon's contact materials) and the system takes the opposite impulse through
 * `handle.forces.applyPointImpulse` — momentum is conserved (see {@link LagrangianContacts}). One-way
 * (`twoWay: false`, or an engine without forces): the bodies push other bodies but are not pushed back.
 *
 * The system runs in a private one-system core World, with its failure policy: a state that becomes
 * non-finite is put back to its last finite value and frozen (the bodies stop there), and `onInvalid`
 * is called; nothing is thrown out of cannon's step.
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
  const {
    bodies,
    system: spec,
    origin: at,
    points: pointOption,
    substeps: substepOption,
    onInvalid,
    twoWay: twoWayOption,
    onImpact,
    ...add
  } = options;
  if (!Array.isArray(bodies) || bodies.length === 0) {
    throw new Error(`${where}: 'bodies' must be a non-empty array of cannon-es bodies`);
  }
  for (const [i, b] of bodies.entries()) {
    if (!(b instanceof Body)) throw new Error(`${where}: bodies[${i}] is not a cannon-es Body`);
    if (b.world !== world && !world.bodies.includes(b)) {
      throw new Error(`${where}: bodies[${i}] is not in this world; call world.addBody(body) first`);
    }
  }
  // The system the World will build, for checking the bodies, points and state before it is built.
  const checked = systemFrom(spec, add.params, where);
  const points = pointOption ?? bodies.map((_, i) => checked.pointCount - bodies.length + i);
  if (points.length !== bodies.length) {
    throw new Error(`${where}: ${points.length} point indices for ${bodies.length} bodies`);
  }
  for (const [i, p] of points.entries()) {
    if (!(Number.isInteger(p) && p >= 0 && p < checked.pointCount)) {
      throw new Error(
        `${where}: points[${i}] = ${p} is not a point of '${checked.id}' (it has points 0…${checked.pointCount - 1})`,
      );
    }
  }
  const substeps = substepOption ?? 1;
  if (!(Number.isInteger(substeps) && substeps >= 1)) {
    throw new Error(`${where}: 'substeps' must be an integer ≥ 1, got ${substeps}`);
  }
  if (twoWayOption !== undefined && typeof twoWayOption !== 'boolean') {
    throw new Error(`${where}: 'twoWay' must be true or false, got ${String(twoWayOption)}`);
  }
  const n = checked.dof;
  const q0 = checkVector(where, 'q0', add.q0, n);
  const qd0 = checkVector(where, 'qd0', add.qd0, n);
  const sim = new LagrangianWorld();
  // The spec and `params` go to the World as given, so an engine instance gets the World's checks: no
  // `params` beside it, and built for this system (same id, dof and parameter values).
  const handle = await sim.add(spec, { ...add, q0, qd0, count: 1, name: checked.id });
  const { system } = handle;
  sim.on('invalid', (event) => {
    if (onInvalid) onInvalid(event);
    else console.warn(`three-lnn: ${where}: '${system.id}' stopped: ${event.reason}`);
  });

  // Two-way when the engine takes impulses and the system can say where its points move.
  let oneWayReason: string | null = null;
  if (twoWayOption === false) oneWayReason = 'twoWay: false';
  else if (handle.forces.unsupported !== null) oneWayReason = handle.forces.unsupported;
  else if (system.pointJacobian === undefined) {
    oneWayReason = `system '${system.id}' gives no point Jacobian (System.pointJacobian)`;
  }
  if (twoWayOption === true && oneWayReason !== null) {
    sim.dispose();
    throw new Error(`${where}: twoWay: true, but contacts cannot push the system back: ${oneWayReason}`);
  }

  const origin = at ?? { x: 0, y: 0, z: 0 };
  const pos = new Float64Array(system.pointCount * 3);
  const vel = new Float64Array(system.pointCount * 3);
  const types = bodies.map((b) => b.type);
  const responses = bodies.map((b) => b.collisionResponse);
  for (const b of bodies) {
    b.type = Body.KINEMATIC;
    b.wakeUp();
  }
  const { q, qd } = handle;
  // Bodies that responded to collisions take part in the two-way contacts; cannon stops resolving their
  // contacts itself (it would treat them as infinitely heavy) but still reports them.
  let contacts: LagrangianContacts | null = null;
  if (oneWayReason === null) {
    const bound = bodies.flatMap((body, i) => (responses[i] ? [{ body, point: points[i] }] : []));
    contacts = new LagrangianContacts(world, handle, bound, onImpact);
    for (const { body } of bound) body.collisionResponse = false;
  }
  const onPreStep = (): void => contacts!.resolve();

  const writeBodies = (): void => {
    system.positions(q, pos);
    // A frozen system stands still: a kinematic body would otherwise keep its last velocity.
    if (handle.invalid[0] === 1) vel.fill(0);
    else pointVelocities(system, q, qd, vel);
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
    sim.stepN(substeps, world.dt / substeps);
    writeBodies();
  };
  let attached = true;
  const detach = (): void => {
    if (!attached) return;
    attached = false;
    world.removeEventListener('postStep', onPostStep);
    if (contacts) world.removeEventListener('preStep', onPreStep);
    bodies.forEach((b, i) => {
      b.type = types[i];
      b.collisionResponse = responses[i];
      b.wakeUp();
    });
    sim.dispose();
  };
  writeBodies();
  for (const b of bodies) {
    b.previousPosition.copy(b.position);
    b.interpolatedPosition.copy(b.position);
  }
  world.addEventListener('postStep', onPostStep);
  if (contacts) world.addEventListener('preStep', onPreStep);

  return Object.defineProperties(detach, {
    system: { value: system, enumerable: true },
    engine: { value: handle.engine, enumerable: true },
    q: { value: q, enumerable: true },
    qd: { value: qd, enumerable: true },
    time: { get: () => sim.time, enumerable: true },
    invalid: { get: () => handle.invalid[0] === 1, enumerable: true },
    twoWay: { value: oneWayReason === null, enumerable: true },
    oneWayReason: { value: oneWayReason, enumerable: true },
    impacts: { get: () => contacts?.count ?? 0, enumerable: true },
    setState: {
      value: (q1: ArrayLike<number>, qd1: ArrayLike<number>) => {
        handle.setState(checkVector(where, 'q', q1, n), checkVector(where, 'qd', qd1, n));
        writeBodies();
      },
      enumerable: true,
    },
  }) as unknown as LagrangianAttachment;
}
