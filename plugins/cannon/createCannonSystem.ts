import { Body, type Constraint, DistanceConstraint, Sphere, Spring, Vec3, type World } from 'cannon-es';
import { pointVelocities, SymmetricSolver, type System } from '../../src/index.js';
import type { ResolvedCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';

/** How the bodies of one system are joined and read back; supplied by each builder. */
export interface CannonSystemLayout {
  /** Mass of each point of `system.positions`; 0 makes the point a static anchor. */
  masses: readonly number[];
  /** Segments that become distance constraints (rigid rods). */
  rods: readonly (readonly [number, number])[];
  /** Segments that become zero-rest-length springs of this stiffness (a string's tension / spacing). */
  springs?: { pairs: readonly (readonly [number, number])[]; stiffness: number };
  /** Lock moving bodies to these axes (1 free, 0 locked); overrides the `planar` option. */
  linearFactor?: readonly [number, number, number];
  /** Cancel the world's gravity on the moving bodies (systems without gravity). */
  cancelGravity?: boolean;
  /** Gravity the system expects along −y; the world's gravity must match it unless `cancelGravity`. */
  g?: number;
  /** Read q back from point positions (`[pointCount * 3]`, relative to the origin). */
  readQ(points: Float64Array, q: Float64Array): void;
  /** Called with the state the bodies were just placed at (e.g. a new angle-unwrapping reference). */
  reset?(q: ArrayLike<number>): void;
}

/**
 * Build the bodies, constraints and springs of `layout` in `world`, place them at the initial state and
 * return the {@link CannonSystem} handle. Shared by every builder.
 */
export function createCannonSystem(
  world: World,
  system: System,
  layout: CannonSystemLayout,
  o: ResolvedCannonBuildOptions,
  builder: string,
): CannonSystem {
  const n = system.dof;
  const pc = system.pointCount;
  if (layout.masses.length !== pc) {
    throw new Error(`${builder}: ${layout.masses.length} masses for ${pc} points of '${system.id}'`);
  }
  if (layout.g !== undefined && !layout.cancelGravity) {
    const gw = world.gravity;
    const tol = 1e-9 * Math.max(1, Math.abs(layout.g));
    if (Math.abs(gw.x) > tol || Math.abs(gw.z) > tol || Math.abs(gw.y + layout.g) > tol) {
      throw new Error(
        `${builder}: the world's gravity (${gw.x}, ${gw.y}, ${gw.z}) does not match the system's g = ${layout.g} ` +
          `along −y; call world.gravity.set(0, ${-layout.g}, 0) first or pass params { g: ${-gw.y} }.`,
      );
    }
  }
  const q0 = checkVector(builder, 'q0', o.q0, n);
  const qd0 = checkVector(builder, 'qd0', o.qd0, n);
  const h = o.dt / o.substeps;
  const factor = layout.linearFactor ?? (o.planar ? [1, 1, 0] : [1, 1, 1]);

  const bodies: Body[] = [];
  const anchors: Body[] = [];
  const pointBody: Body[] = [];
  for (let i = 0; i < pc; i++) {
    const m = layout.masses[i];
    let body: Body;
    if (m > 0) {
      body = new Body({
        mass: m,
        shape: new Sphere(o.radius),
        // cannon's default damping (0.01) alone costs tens of percent of the energy over 20 s.
        linearDamping: 0,
        angularDamping: 0,
        linearFactor: new Vec3(factor[0], factor[1], factor[2]),
        material: o.material,
      });
      bodies.push(body);
    } else {
      body = new Body({ mass: 0, type: Body.STATIC });
      anchors.push(body);
    }
    pointBody.push(body);
    world.addBody(body);
  }

  const points = new Float64Array(pc * 3);
  const velocities = new Float64Array(pc * 3);
  system.positions(q0, points);

  const constraints: Constraint[] = [];
  for (const [a, b] of layout.rods) {
    const d = Math.hypot(
      points[3 * a] - points[3 * b],
      points[3 * a + 1] - points[3 * b + 1],
      points[3 * a + 2] - points[3 * b + 2],
    );
    const c = new DistanceConstraint(pointBody[a], pointBody[b], d, o.maxForce);
    // Constraints keep cannon's 1/60-s SPOOK parameters unless re-tuned for the step actually taken.
    for (const eq of c.equations) eq.setSpookParams(o.stiffness, o.relaxation, h);
    world.addConstraint(c);
    constraints.push(c);
  }

  const springs: Spring[] = [];
  if (layout.springs) {
    for (const [a, b] of layout.springs.pairs) {
      const s = new Spring(pointBody[a], pointBody[b], {
        restLength: 0,
        stiffness: layout.springs.stiffness,
      });
      // Spring's constructor turns a damping of 0 into 1 (`options.damping || 1`).
      s.damping = 0;
      springs.push(s);
    }
  }
  const cancel = layout.cancelGravity === true;
  const onPreStep =
    springs.length > 0 || cancel
      ? () => {
          if (cancel) {
            const g = world.gravity;
            for (const b of bodies) {
              b.force.x -= b.mass * g.x;
              b.force.y -= b.mass * g.y;
              b.force.z -= b.mass * g.z;
            }
          }
          for (const s of springs) s.applyForce();
        }
      : undefined;
  // Forces added on 'preStep' (after the solver, before integration) act in the same step.
  if (onPreStep) world.addEventListener('preStep', onPreStep);

  const { x: ox, y: oy, z: oz } = o.origin;
  const setState = (q: ArrayLike<number>, qd: ArrayLike<number>): void => {
    layout.reset?.(q);
    system.positions(q, points);
    pointVelocities(system, q, qd, velocities);
    for (let i = 0; i < pc; i++) {
      const b = pointBody[i];
      b.position.set(ox + points[3 * i], oy + points[3 * i + 1], oz + points[3 * i + 2]);
      b.previousPosition.copy(b.position);
      b.interpolatedPosition.copy(b.position);
      if (b.type !== Body.STATIC) {
        b.velocity.set(velocities[3 * i], velocities[3 * i + 1], velocities[3 * i + 2]);
        b.angularVelocity.set(0, 0, 0);
        b.wakeUp();
      }
      b.aabbNeedsUpdate = true;
    }
  };
  setState(q0, qd0);

  const readState = (q: Float64Array, qd: Float64Array): void => {
    for (let i = 0; i < pc; i++) {
      const b = pointBody[i];
      points[3 * i] = b.position.x - ox;
      points[3 * i + 1] = b.position.y - oy;
      points[3 * i + 2] = b.position.z - oz;
      velocities[3 * i] = b.velocity.x;
      velocities[3 * i + 1] = b.velocity.y;
      velocities[3 * i + 2] = b.velocity.z;
    }
    layout.readQ(points, q);
    projectVelocities(q, qd);
  };

  // q̇ is the mass-weighted least-squares fit of the body velocities, J(q) q̇ ≈ v: it solves
  // (Jᵀ M J) q̇ = Jᵀ M v. A rod-by-rod reading instead mixes the constraint-violation velocities of SPOOK
  // into the angular rates and shows energy swings of several percent that the bodies do not have.
  const jac = new Float64Array(n * pc * 3);
  const normal = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const unit = new Float64Array(n);
  const column = new Float64Array(pc * 3);
  const solver = new SymmetricSolver(n);
  const projectVelocities = (q: Float64Array, qd: Float64Array): void => {
    for (let j = 0; j < n; j++) {
      unit.fill(0);
      unit[j] = 1;
      pointVelocities(system, q, unit, column);
      jac.set(column, j * pc * 3);
    }
    normal.fill(0);
    rhs.fill(0);
    for (let i = 0; i < pc; i++) {
      const m = layout.masses[i];
      if (m <= 0) continue;
      for (let c = 0; c < 3; c++) {
        const k = 3 * i + c;
        const v = velocities[k];
        for (let a = 0; a < n; a++) {
          const ja = jac[a * pc * 3 + k] * m;
          if (ja === 0) continue;
          rhs[a] += ja * v;
          for (let b = 0; b <= a; b++) normal[a * n + b] += ja * jac[b * pc * 3 + k];
        }
      }
    }
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) normal[b * n + a] = normal[a * n + b];
    if (!solver.trySolve(normal, rhs, qd)) {
      throw new Error(`${builder}: the bodies' configuration is singular for '${system.id}'; cannot read q̇`);
    }
  };

  const qs = new Float64Array(n);
  const qds = new Float64Array(n);
  let removed = false;
  return {
    system,
    bodies,
    anchors,
    constraints,
    springs,
    pointBody,
    dt: o.dt,
    substeps: o.substeps,
    h,
    readState,
    setState: (q, qd) => setState(checkVector(builder, 'q', q, n), checkVector(builder, 'qd', qd, n)),
    energy: () => {
      readState(qs, qds);
      return system.energy(qs, qds);
    },
    remove: () => {
      if (removed) return;
      removed = true;
      if (onPreStep) world.removeEventListener('preStep', onPreStep);
      for (const c of constraints) world.removeConstraint(c);
      for (const b of pointBody) world.removeBody(b);
    },
  };
}

/** A copy of `v` as `[n]` float64 (zeros when absent), or an Error naming a wrong length or a non-finite entry. */
export function checkVector(
  where: string,
  name: string,
  v: ArrayLike<number> | undefined,
  n: number,
): Float64Array {
  const out = new Float64Array(n);
  if (v === undefined) return out;
  if (v.length !== n) {
    throw new Error(`${where}: ${name} has ${v.length} entries, the system has ${n} degrees of freedom`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v[i])) throw new Error(`${where}: ${name}[${i}] is ${v[i]}, must be finite`);
    out[i] = v[i];
  }
  return out;
}
