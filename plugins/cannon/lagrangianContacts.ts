import { Body, type ContactEquation, type Shape, Vec3, type World } from 'cannon-es';
import { ImpulseSolver, type SystemHandle } from '../../src/index.js';

/**
 * One contact between an attached body and a dynamic cannon-es body, resolved by
 * {@link LagrangianContacts} (passed to `onImpact`). The objects are reused: copy what you keep.
 */
export interface LagrangianImpact {
  /** The attached body (it follows point {@link point} of the system). */
  readonly body: Body;
  /** The dynamic body it touched. */
  readonly other: Body;
  /** The point of `system.positions` the attached body follows. */
  readonly point: number;
  /**
   * The impulse on `other`, N·s, world axes `[3]` (normal plus friction). The system received exactly
   * its opposite at {@link point}, `J(q)ᵀ (−impulse)`.
   */
  readonly impulse: Float64Array;
  /** Contact normal `[3]`, unit, from the attached body toward `other`. */
  readonly normal: Float64Array;
  /** Normal relative velocity before the impulse (negative: approaching), m/s. */
  readonly approach: number;
  /** Restitution e used (cannon's rule: the contact material's, or the product of the two materials'). */
  readonly restitution: number;
  /** Friction coefficient μ used (cannon's rule). */
  readonly friction: number;
  /**
   * The system's effective mass at the point along the normal, `1 / (nᵀ J M⁻¹ Jᵀ n)` with the engine's own
   * mass matrix (Infinity when the system cannot move that way, or is frozen).
   */
  readonly effectiveMass: number;
}

/** What {@link LagrangianContacts} needs to know about one attached body. */
interface Bound {
  body: Body;
  point: number;
}

const EPS = 1e-12;

/**
 * The cannon-es side of the two-way coupling of {@link attachLagrangian}: resolves every contact between
 * an attached body and a DYNAMIC cannon body with the impulse of two bodies of finite mass, the
 * Lagrangian side entering through its effective inverse mass at the point, `W = J M⁻¹ Jᵀ` (3×3).
 *
 * Model (per contact, once per cannon step, on `preStep`: after cannon's narrowphase and solver, before
 * its integration): with n the normal from the attached body to the other body, the relative velocity of
 * the contact points `u = v_other + ω × r − J q̇` and `K = K_other + W` (the other body's
 * `invMass` and inverse inertia at the contact point, plus W),
 *
 *     j_n = max(0, −e·min(u⁻·n, 0) − u_pred·n) / (nᵀ K n)
 *
 * where u⁻ is the velocity now and u_pred adds the step's external forces on the other body (gravity,
 * `body.force`), so a ball resting on a bob is held without a restitution bounce. For a free impact this
 * is the textbook two-body impulse `j = −(1 + e) u·n / (1/m + nᵀ W n)`. Friction (Coulomb, cannon's μ):
 * the tangential impulse that stops the slip left after j_n, `(Tᵀ K T) j_t = −u_t`, clipped to
 * `|j_t| ≤ μ j_n`. The other body gets `+P = j_n n + j_t`, the system `−P` at its point through
 * `handle.forces.applyPointImpulse` (Δq̇ = M⁻¹ Jᵀ(−P), the engine's own mass matrix): momentum is
 * conserved exactly and, for e = 1 and no friction, so is energy.
 *
 * W is measured with the engine's {@link ImpulseSolver}: three unit point impulses on a copy of the state
 * (`J M⁻¹ Jᵀ e_r`), so a learned engine uses its learned mass matrix.
 */
export class LagrangianContacts {
  private readonly world: World;
  private readonly handle: SystemHandle;
  private readonly byBody = new Map<Body, Bound>();
  private readonly onImpact: ((impact: LagrangianImpact) => void) | undefined;
  private readonly solver: ImpulseSolver;
  private readonly dof: number;
  private readonly jac: Float64Array;
  private readonly p: Float64Array;
  private readonly dqd: Float64Array;
  /** W = J M⁻¹ Jᵀ at the point, row-major 3×3. */
  private readonly W = new Float64Array(9);
  /** K = K_other + W, row-major 3×3. */
  private readonly K = new Float64Array(9);
  private readonly vBob = new Float64Array(3);
  private readonly impact = {
    body: undefined as unknown as Body,
    other: undefined as unknown as Body,
    point: 0,
    impulse: new Float64Array(3),
    normal: new Float64Array(3),
    approach: 0,
    restitution: 0,
    friction: 0,
    effectiveMass: 0,
  };
  private warned = false;
  /** Contacts resolved so far. */
  count = 0;

  constructor(
    world: World,
    handle: SystemHandle,
    bound: readonly Bound[],
    onImpact?: (impact: LagrangianImpact) => void,
  ) {
    this.world = world;
    this.handle = handle;
    for (const b of bound) this.byBody.set(b.body, b);
    this.onImpact = onImpact;
    this.solver = new ImpulseSolver(handle.engine);
    this.dof = handle.system.dof;
    this.jac = new Float64Array(3 * this.dof);
    this.p = new Float64Array(this.dof);
    this.dqd = new Float64Array(this.dof);
  }

  /** Resolve every contact of this step between an attached body and a dynamic body (call on preStep). */
  resolve(): void {
    const contacts = this.world.contacts;
    for (let k = 0; k < contacts.length; k++) {
      const c = contacts[k];
      const atI = this.byBody.get(c.bi);
      const atJ = this.byBody.get(c.bj);
      if ((atI === undefined) === (atJ === undefined)) continue; // none of ours, or two of ours
      const bound = (atI ?? atJ)!;
      const iIsOurs = atI !== undefined;
      const other = iIsOurs ? c.bj : c.bi;
      const otherShape = iIsOurs ? c.sj : c.si;
      if (!takesImpulses(other, otherShape, this.byBody)) continue;
      this.resolveOne(c, bound, other, iIsOurs);
    }
  }

  private resolveOne(c: ContactEquation, bound: Bound, other: Body, iIsOurs: boolean): void {
    const { handle, W, K, vBob, impact } = this;
    const n = this.dof;
    const s = iIsOurs ? 1 : -1;
    const nx = s * c.ni.x;
    const ny = s * c.ni.y;
    const nz = s * c.ni.z;
    const r = iIsOurs ? c.rj : c.ri; // contact point relative to the other body's centre
    const dt = this.world.dt;

    // The system's side: point velocity J q̇ and W = J M⁻¹ Jᵀ (zero when frozen: an immovable body).
    const frozen = handle.invalid[0] === 1;
    const { q, qd } = handle;
    handle.system.pointJacobian!(q, bound.point, this.jac);
    const J = this.jac;
    for (let row = 0; row < 3; row++) {
      let v = 0;
      for (let j = 0; j < n; j++) v += J[row * n + j] * qd[j];
      vBob[row] = frozen ? 0 : v;
    }
    W.fill(0);
    if (!frozen && !this.massResponse()) return;

    // The other body's side: velocity at the contact point now and predicted with the step's forces.
    const lf = other.linearFactor;
    const af = other.angularFactor;
    const im = other.invMass;
    const v = other.velocity;
    const w = other.angularVelocity;
    const f = other.force;
    const tq = other.torque;
    const Iw = other.invInertiaWorld;
    // ω × r now, and with the step's torque.
    const ux = v.x + (w.y * r.z - w.z * r.y) - vBob[0];
    const uy = v.y + (w.z * r.x - w.x * r.z) - vBob[1];
    const uz = v.z + (w.x * r.y - w.y * r.x) - vBob[2];
    Iw.vmult(tq, tmpA);
    const wx = w.x + dt * tmpA.x * af.x;
    const wy = w.y + dt * tmpA.y * af.y;
    const wz = w.z + dt * tmpA.z * af.z;
    const px = v.x + dt * im * f.x * lf.x + (wy * r.z - wz * r.y) - vBob[0];
    const py = v.y + dt * im * f.y * lf.y + (wz * r.x - wx * r.z) - vBob[1];
    const pz = v.z + dt * im * f.z * lf.z + (wx * r.y - wy * r.x) - vBob[2];
    const un = ux * nx + uy * ny + uz * nz;
    const pn = px * nx + py * ny + pz * nz;
    const e = c.restitution;
    const target = un < 0 ? -e * un : 0;
    if (!(target - pn > 0)) return; // separating, or held apart by the step's forces already

    // K = K_other + W: columns are the contact-point velocity change of a unit impulse.
    for (let col = 0; col < 3; col++) {
      tmpP.set(col === 0 ? 1 : 0, col === 1 ? 1 : 0, col === 2 ? 1 : 0);
      otherResponse(other, r, tmpP, tmpB);
      K[col] = tmpB.x + W[col];
      K[3 + col] = tmpB.y + W[3 + col];
      K[6 + col] = tmpB.z + W[6 + col];
    }
    const kn = quad(K, nx, ny, nz, nx, ny, nz);
    if (!(kn > EPS)) return; // neither side can move along n
    const jn = (target - pn) / kn;

    // Friction: the tangential impulse that stops the slip left after jn, clipped to the Coulomb cone.
    const mu = frictionOf(this.world, c);
    let jt1 = 0;
    let jt2 = 0;
    tmpN.set(nx, ny, nz);
    tmpN.tangents(tmpT1, tmpT2); // cannon's tangents are orthogonal but not unit
    tmpT1.normalize();
    tmpT2.normalize();
    if (mu > 0) {
      // Predicted relative velocity after jn.
      const ax = px + jn * (K[0] * nx + K[1] * ny + K[2] * nz);
      const ay = py + jn * (K[3] * nx + K[4] * ny + K[5] * nz);
      const az = pz + jn * (K[6] * nx + K[7] * ny + K[8] * nz);
      const s1 = ax * tmpT1.x + ay * tmpT1.y + az * tmpT1.z;
      const s2 = ax * tmpT2.x + ay * tmpT2.y + az * tmpT2.z;
      if (Math.hypot(s1, s2) > EPS) {
        const t1 = tmpT1;
        const t2 = tmpT2;
        const a11 = quad(K, t1.x, t1.y, t1.z, t1.x, t1.y, t1.z);
        const a12 = quad(K, t1.x, t1.y, t1.z, t2.x, t2.y, t2.z);
        const a21 = quad(K, t2.x, t2.y, t2.z, t1.x, t1.y, t1.z);
        const a22 = quad(K, t2.x, t2.y, t2.z, t2.x, t2.y, t2.z);
        const det = a11 * a22 - a12 * a21;
        if (Math.abs(det) > EPS * Math.max(1, a11 * a22)) {
          jt1 = (-s1 * a22 + s2 * a12) / det;
          jt2 = (-s2 * a11 + s1 * a21) / det;
        } else if (a11 + a22 > EPS) {
          // One tangent direction is locked: a scalar solve along the slip.
          const ds = Math.hypot(s1, s2);
          const d1 = s1 / ds;
          const d2 = s2 / ds;
          const kd = a11 * d1 * d1 + (a12 + a21) * d1 * d2 + a22 * d2 * d2;
          if (kd > EPS) {
            jt1 = (-ds / kd) * d1;
            jt2 = (-ds / kd) * d2;
          }
        }
        const jt = Math.hypot(jt1, jt2);
        const limit = mu * jn;
        if (jt > limit) {
          jt1 *= limit / jt;
          jt2 *= limit / jt;
        }
      }
    }
    const P = impact.impulse;
    P[0] = jn * nx + jt1 * tmpT1.x + jt2 * tmpT2.x;
    P[1] = jn * ny + jt1 * tmpT1.y + jt2 * tmpT2.y;
    P[2] = jn * nz + jt1 * tmpT1.z + jt2 * tmpT2.z;

    // The other body: +P at its contact point.
    tmpP.set(P[0], P[1], P[2]);
    other.velocity.x += im * P[0] * lf.x;
    other.velocity.y += im * P[1] * lf.y;
    other.velocity.z += im * P[2] * lf.z;
    r.cross(tmpP, tmpA);
    Iw.vmult(tmpA, tmpB);
    other.angularVelocity.x += tmpB.x * af.x;
    other.angularVelocity.y += tmpB.y * af.y;
    other.angularVelocity.z += tmpB.z * af.z;
    if (other.sleepState === Body.SLEEPING) other.wakeUp();

    // The system: −P at its point (Δq̇ = M⁻¹ Jᵀ(−P), the engine's mass matrix); the body takes the new J q̇.
    if (!frozen) {
      try {
        handle.forces.applyPointImpulse(bound.point, [-P[0], -P[1], -P[2]], 0, 0);
      } catch (err) {
        this.warnOnce(err);
      }
      for (let row = 0; row < 3; row++) {
        let vr = 0;
        for (let j = 0; j < n; j++) vr += J[row * n + j] * qd[j];
        vBob[row] = vr;
      }
      bound.body.velocity.set(vBob[0], vBob[1], vBob[2]);
    }
    this.count++;

    if (this.onImpact) {
      impact.body = bound.body;
      impact.other = other;
      impact.point = bound.point;
      impact.normal[0] = nx;
      impact.normal[1] = ny;
      impact.normal[2] = nz;
      impact.approach = un;
      impact.restitution = e;
      impact.friction = mu;
      const wn = quad(W, nx, ny, nz, nx, ny, nz);
      impact.effectiveMass = wn > EPS ? 1 / wn : Number.POSITIVE_INFINITY;
      this.onImpact(impact);
    }
  }

  /**
   * W = J M⁻¹ Jᵀ at the point whose Jacobian is in this.jac (into this.W), from three unit point impulses through the engine's
   * {@link ImpulseSolver}. False (after one warning) when the engine cannot solve its mass matrix here.
   */
  private massResponse(): boolean {
    const { handle, W, jac: J, p, dqd } = this;
    const n = this.dof;
    try {
      for (let col = 0; col < 3; col++) {
        let any = false;
        for (let j = 0; j < n; j++) {
          p[j] = J[col * n + j];
          if (p[j] !== 0) any = true;
        }
        if (!any) continue; // the point cannot move along this axis
        this.solver.velocityChange(handle.q, handle.qd, p, dqd, 0, 0);
        for (let row = 0; row < 3; row++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += J[row * n + j] * dqd[j];
          W[row * 3 + col] = s;
        }
      }
    } catch (err) {
      this.warnOnce(err);
      return false;
    }
    // Symmetrize away the round-off (and a learned engine's small asymmetry).
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < a; b++) {
        const m = 0.5 * (W[a * 3 + b] + W[b * 3 + a]);
        W[a * 3 + b] = m;
        W[b * 3 + a] = m;
      }
    }
    return true;
  }

  private warnOnce(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const msg = err instanceof Error ? err.message : String(err);
    console.warn(
      `three-lnn: attachLagrangian: a contact on '${this.handle.system.id}' was not resolved: ${msg}`,
    );
  }
}

const tmpA = new Vec3();
const tmpB = new Vec3();
const tmpP = new Vec3();
const tmpN = new Vec3();
const tmpT1 = new Vec3();
const tmpT2 = new Vec3();

/** aᵀ M b for a row-major 3×3 M. */
function quad(
  M: Float64Array,
  ax: number,
  ay: number,
  az: number,
  bx: number,
  by: number,
  bz: number,
): number {
  return (
    ax * (M[0] * bx + M[1] * by + M[2] * bz) +
    ay * (M[3] * bx + M[4] * by + M[5] * bz) +
    az * (M[6] * bx + M[7] * by + M[8] * bz)
  );
}

/** Velocity change `out` of the contact point `r` of `body` under the impulse `P` there. */
function otherResponse(body: Body, r: Vec3, P: Vec3, out: Vec3): void {
  const lf = body.linearFactor;
  const af = body.angularFactor;
  const im = body.invMass;
  r.cross(P, tmpA);
  body.invInertiaWorld.vmult(tmpA, tmpA);
  tmpA.set(tmpA.x * af.x, tmpA.y * af.y, tmpA.z * af.z);
  // Δω × r
  const dx = tmpA.y * r.z - tmpA.z * r.y;
  const dy = tmpA.z * r.x - tmpA.x * r.z;
  const dz = tmpA.x * r.y - tmpA.y * r.x;
  out.set(im * P.x * lf.x + dx, im * P.y * lf.y + dy, im * P.z * lf.z + dz);
}

/** Whether cannon would let `body` respond to this contact: dynamic, responding, not a trigger. */
function takesImpulses(body: Body, shape: Shape, ours: Map<Body, Bound>): boolean {
  return (
    body.type === Body.DYNAMIC &&
    !ours.has(body) &&
    body.collisionResponse &&
    shape.collisionResponse &&
    !body.isTrigger &&
    body.invMass > 0
  );
}

/**
 * The friction coefficient cannon uses for this contact: the contact material of the two shapes' (or
 * bodies') materials, else the world's default; replaced by the product of the two materials' own
 * `friction` when both are ≥ 0 (as cannon's narrowphase does).
 */
function frictionOf(world: World, c: ContactEquation): number {
  const matA = c.si.material ?? c.bi.material;
  const matB = c.sj.material ?? c.bj.material;
  if (matA && matB && matA.friction >= 0 && matB.friction >= 0) return matA.friction * matB.friction;
  let cm = null;
  if (c.si.material && c.sj.material) cm = world.getContactMaterial(c.si.material, c.sj.material) ?? null;
  if (!cm && c.bi.material && c.bj.material)
    cm = world.getContactMaterial(c.bi.material, c.bj.material) ?? null;
  return (cm ?? world.defaultContactMaterial).friction;
}
