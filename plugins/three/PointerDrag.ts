import { type Camera, Plane, Raycaster, Vector2, Vector3 } from 'three';
import { Emitter, ImpulseSolver, PointForces, type World } from '../../src/index.js';
import { fixedPoints } from './fixedPoints.js';
import type { PhysicsSystem } from './PhysicsSystem.js';

/** A point of one copy of a drawn system: what a drag grabs and pushes. */
export interface DragPoint {
  readonly system: PhysicsSystem;
  /** Copy of a batched system. */
  readonly copy: number;
  /** Index into `system.positions` (the same numbering as `userData.lnn.point`). */
  readonly point: number;
}

/**
 * Where {@link PointerDrag} finds the systems it may grab and the world whose steps it hooks: an
 * `LNNPhysics` instance is one; an app that draws handles of its own world passes an object like it.
 * Both are read at every grab, so a rebuilt world or a changed set of systems is picked up.
 */
export interface DragSource {
  /** The world the systems step in (its `preStep` event sets the forces). */
  readonly world: World;
  /** The drawn systems: a map by name (as `physics.systems`) or any iterable. */
  readonly systems: ReadonlyMap<string, PhysicsSystem> | Iterable<PhysicsSystem>;
}

/** Options of {@link PointerDrag}. */
export interface PointerDragOptions {
  /**
   * Spring constant k of the pull toward the pointer, N/m (world units). Lowered for a light point, so
   * that the force held over one fixed step stays stable: k ≤ m_eff / (4 h²).
   * @default 60
   */
  stiffness?: number;
  /**
   * Damping c of the pull, N·s/m: F = k (target − x) − c ẋ. Lowered for a light point (c ≤ m_eff / (2 h)).
   * @default 6
   */
  damping?: number;
  /**
   * Largest force, N: |F| is clamped to it.
   * @default 60
   */
  maxForce?: number;
  /**
   * A press within this many CSS pixels of a moving point grabs the nearest one.
   * @default 28
   */
  pickRadius?: number;
  /**
   * Pluck: when the pointer is released while moving faster than {@link pluckSpeed}, the grabbed point
   * gets the impulse J = pluck · v_pointer (N·s; `pluck` is in kg), clamped to `maxForce × 0.1 s`, at the
   * next step boundary. 0 turns plucking off.
   * @default 0.4
   */
  pluck?: number;
  /**
   * Pointer speed on the drag plane (world units per second, over the last 100 ms) above which a release
   * plucks.
   * @default 1.5
   */
  pluckSpeed?: number;
  /**
   * Camera controls to switch off while a point is held (e.g. three's `OrbitControls`); switched back
   * on at release (unless they were off already).
   * @default null
   */
  controls?: { enabled: boolean } | null;
  /**
   * Which systems a press may grab.
   * @default every system of the source
   */
  filter?: (system: PhysicsSystem) => boolean;
  /**
   * The points that receive the drag's force: by default only the grabbed one. Return more to push
   * several systems with the same force at once (the comparison app pushes the same point of every
   * lane). The force is computed from the first entry that takes forces (the grabbed point when it
   * does), measured in its own frame (relative to its copy's origin), and the same world-space F is set
   * on every entry that takes forces.
   * @default (grab) => [grab]
   */
  targets?: (grab: DragPoint) => readonly DragPoint[];
  /**
   * Set `touch-action: none` on the element from the start (a touch that should drag must not start a
   * page pan; browsers decide that when the touch begins). Otherwise it is set while dragging only.
   * @default true
   */
  touchAction?: boolean;
  /**
   * Show a `grab` cursor over a grabbable point (mouse).
   * @default true
   */
  hoverCursor?: boolean;
}

/** Events of a {@link PointerDrag} (payloads are fresh objects). */
export interface PointerDragEvents {
  /** A point was grabbed; `position` is its world position at the press. */
  grab: DragPoint & { position: Vector3; targets: readonly DragPoint[] };
  /** The pointer moved while holding; `target` is the world point the spring pulls toward. */
  drag: DragPoint & { target: Vector3 };
  /**
   * A force was set for the coming step on one target (every step while held, per target), N.
   * `step` is the world's step count before the step.
   */
  force: DragPoint & { force: readonly [number, number, number]; step: number };
  /** An impulse (N·s) was applied to one target at a step boundary (a pluck). */
  impulse: DragPoint & { impulse: readonly [number, number, number]; step: number };
  /** The point was let go; `impulse` is the pluck's impulse, or null. */
  release: DragPoint & { impulse: readonly [number, number, number] | null };
  /** A press hit a system whose engine takes no forces: nothing of it is grabbed or pushed. */
  unsupported: { system: PhysicsSystem; reason: string };
}

interface Held {
  grab: DragPoint;
  /** Who the force is computed from (the first target that takes forces). */
  driver: DragPoint;
  targets: DragPoint[];
  pointerId: number;
  plane: Plane;
  /** Target in world space, and relative to the grabbed copy's origin. */
  target: Vector3;
  k: number;
  c: number;
  samples: { t: number; p: Vector3 }[];
  world: World;
}

const ndc = new Vector2();
const v3 = new Vector3();

/**
 * Drag the points of drawn systems with the mouse, a pen or a finger (Pointer Events): a press near a
 * moving point (a bob, a chain joint, a string node; any copy of a batch, also drawn as one
 * `InstancedMesh`) grabs it, and until release a spring-damper F = k (target − x) − c ẋ pulls it toward
 * the pointer, projected on the plane through the grabbed point that faces the camera. x and ẋ are the
 * point's exact position and velocity (forward kinematics and J q̇) at the start of each fixed step: the
 * force is set with `handle.forces.setPointForce` in the world's `preStep`, so a run stays a function of
 * its steps (frame rate does not matter). A quick flick on release plucks (an impulse, see
 * {@link PointerDragOptions.pluck}). Camera controls are switched off while a point is held.
 *
 * An engine that takes no forces (the black-box `baseline`) is never grabbed or pushed: a press on it
 * emits `unsupported` with the reason and is left to the camera controls.
 * @example
 * const drag = new PointerDrag(physics, camera, renderer.domElement, { controls: orbit });
 * drag.on('grab', (e) => console.log(`grabbed point ${e.point} of ${e.system.name}`));
 * // …later: drag.dispose();
 */
export class PointerDrag {
  readonly camera: Camera;
  readonly domElement: HTMLElement;
  /** Spring constant, N/m. */
  stiffness: number;
  /** Spring damping, N·s/m. */
  damping: number;
  /** Force clamp, N. */
  maxForce: number;
  /** Pick radius, CSS px. */
  pickRadius: number;
  /** Pluck impulse per pointer speed, kg (0: off). */
  pluck: number;
  /** Pointer speed above which a release plucks, world units/s. */
  pluckSpeed: number;
  /** While false, presses are ignored (a held point is kept until released). */
  enabled = true;
  readonly raycaster = new Raycaster();
  private readonly source: DragSource;
  private readonly events = new Emitter<PointerDragEvents>();
  private readonly options: PointerDragOptions;
  private held: Held | null = null;
  /** Work left for the next step boundary after a release: zero forces to clear, an impulse. */
  private pending: {
    world: World;
    clear: DragPoint[];
    impulse: { targets: DragPoint[]; J: [number, number, number] } | null;
  } | null = null;
  private hooked: World | null = null;
  private controlsWereEnabled = true;
  private savedTouchAction: string;
  private savedCursor: string;
  private disposed = false;
  private readonly fixed = new WeakMap<PhysicsSystem, boolean[]>();
  private readonly pointForces = new WeakMap<PhysicsSystem, PointForces | null>();
  private readonly pts = new Map<number, Float64Array>();
  /** Scratch of the spring force: the driver point's velocity and the force set on every target. */
  private readonly vel = new Float64Array(3);
  private readonly force = new Float64Array(3);

  constructor(source: DragSource, camera: Camera, domElement: HTMLElement, options: PointerDragOptions = {}) {
    this.source = source;
    this.camera = camera;
    this.domElement = domElement;
    this.options = options;
    this.stiffness = positive(options.stiffness ?? 60, 'stiffness');
    this.damping = nonNegative(options.damping ?? 6, 'damping');
    this.maxForce = positive(options.maxForce ?? 60, 'maxForce');
    this.pickRadius = positive(options.pickRadius ?? 28, 'pickRadius');
    this.pluck = nonNegative(options.pluck ?? 0.4, 'pluck');
    this.pluckSpeed = nonNegative(options.pluckSpeed ?? 1.5, 'pluckSpeed');
    this.savedTouchAction = domElement.style.touchAction;
    this.savedCursor = domElement.style.cursor;
    if (options.touchAction !== false) domElement.style.touchAction = 'none';
    // Capture phase: runs before listeners on the element itself (OrbitControls), so a grab can stop them.
    domElement.addEventListener('pointerdown', this.onDown, { capture: true });
    domElement.addEventListener('pointermove', this.onMove, { capture: true });
    domElement.addEventListener('pointerup', this.onUp, { capture: true });
    domElement.addEventListener('pointercancel', this.onUp, { capture: true });
    domElement.addEventListener('lostpointercapture', this.onUp);
  }

  /** The point held now, or null. */
  get grabbed(): DragPoint | null {
    return this.held?.grab ?? null;
  }

  /** Listen to `grab`, `drag`, `force`, `impulse`, `release` or `unsupported`. */
  on<K extends keyof PointerDragEvents>(type: K, listener: (e: PointerDragEvents[K]) => void): this {
    this.events.on(type, listener);
    return this;
  }

  /** Stop listening. */
  off<K extends keyof PointerDragEvents>(type: K, listener: (e: PointerDragEvents[K]) => void): this {
    this.events.off(type, listener);
    return this;
  }

  /**
   * The grabbable point nearest to client coordinates (`clientX`, `clientY`) within the pick radius, with
   * its distance in CSS px; null when none. Fixed points (pivots, string ends) are never picked.
   */
  pick(clientX: number, clientY: number): (DragPoint & { distance: number }) | null {
    const rect = this.domElement.getBoundingClientRect();
    const px = clientX - rect.left;
    const py = clientY - rect.top;
    let best: (DragPoint & { distance: number }) | null = null;
    let bestD = this.pickRadius;
    this.camera.updateMatrixWorld();
    for (const system of this.systems()) {
      const fixed = this.fixedOf(system);
      const pts = this.scratch(system.system.pointCount * 3);
      for (let copy = 0; copy < system.count; copy++) {
        system.points3(copy, pts);
        for (let point = 0; point < fixed.length; point++) {
          if (fixed[point]) continue;
          v3.set(pts[3 * point], pts[3 * point + 1], pts[3 * point + 2]).project(this.camera);
          if (!(v3.z > -1 && v3.z < 1)) continue;
          const sx = ((v3.x + 1) / 2) * rect.width;
          const sy = ((1 - v3.y) / 2) * rect.height;
          const d = Math.hypot(sx - px, sy - py);
          if (d < bestD) {
            bestD = d;
            best = { system, copy, point, distance: d };
          }
        }
      }
    }
    return best;
  }

  /** Let go of a held point now (as a pointer release without a flick). */
  release(): void {
    if (this.held) this.finish(this.held, false);
  }

  /** Remove every listener, let go of a held point (its force is cleared) and restore the element. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.release();
    // No step may come to clear the force: clear it now.
    if (this.pending) {
      for (const t of this.pending.clear) t.system.handle.forces.setPointForce(t.point, null, t.copy);
      this.pending = null;
    }
    this.unhook();
    this.disposed = true;
    const el = this.domElement;
    el.removeEventListener('pointerdown', this.onDown, { capture: true });
    el.removeEventListener('pointermove', this.onMove, { capture: true });
    el.removeEventListener('pointerup', this.onUp, { capture: true });
    el.removeEventListener('pointercancel', this.onUp, { capture: true });
    el.removeEventListener('lostpointercapture', this.onUp);
    el.style.touchAction = this.savedTouchAction;
    el.style.cursor = this.savedCursor;
    this.events.clear();
  }

  // ------------------------------------------------------------------ pointer events

  private readonly onDown = (e: PointerEvent): void => {
    if (!this.enabled || this.held || (e.pointerType === 'mouse' && e.button !== 0)) return;
    const hit = this.pick(e.clientX, e.clientY);
    if (!hit) return;
    const grab: DragPoint = { system: hit.system, copy: hit.copy, point: hit.point };
    const targets: DragPoint[] = [];
    for (const t of this.options.targets?.(grab) ?? [grab]) {
      const why = this.unsupportedOf(t.system);
      if (why === null) targets.push(t);
      else this.events.emit('unsupported', { system: t.system, reason: why });
    }
    if (targets.length === 0) return;
    const driver = targets.find((t) => t.system === grab.system && t.copy === grab.copy) ?? targets[0];
    e.preventDefault();
    e.stopImmediatePropagation();
    const world = this.source.world;
    const position = this.worldPosition(grab, new Vector3());
    const normal = this.camera.getWorldDirection(new Vector3());
    const plane = new Plane().setFromNormalAndCoplanarPoint(normal, position);
    const { k, c } = this.gains(driver, world.fixedTimeStep);
    this.held = {
      grab,
      driver,
      targets,
      pointerId: e.pointerId,
      plane,
      target: position.clone(),
      k,
      c,
      samples: [{ t: e.timeStamp, p: position.clone() }],
      world,
    };
    const ctl = this.options.controls;
    if (ctl) {
      this.controlsWereEnabled = ctl.enabled;
      ctl.enabled = false;
    }
    this.domElement.style.touchAction = 'none';
    if (this.options.hoverCursor !== false) this.domElement.style.cursor = 'grabbing';
    try {
      this.domElement.setPointerCapture(e.pointerId);
    } catch {
      // A synthetic event without an active pointer: moves still arrive over the element.
    }
    this.hook(world);
    this.events.emit('grab', { ...grab, position, targets });
  };

  private readonly onMove = (e: PointerEvent): void => {
    const h = this.held;
    if (!h) {
      if (
        this.options.hoverCursor !== false &&
        e.pointerType === 'mouse' &&
        this.enabled &&
        e.buttons === 0
      ) {
        this.domElement.style.cursor = this.pick(e.clientX, e.clientY) ? 'grab' : this.savedCursor;
      }
      return;
    }
    if (e.pointerId !== h.pointerId) return;
    e.stopImmediatePropagation();
    if (!this.pointerOnPlane(e.clientX, e.clientY, h.plane, h.target)) return;
    h.samples.push({ t: e.timeStamp, p: h.target.clone() });
    while (h.samples.length > 2 && e.timeStamp - h.samples[1].t > 100) h.samples.shift();
    this.events.emit('drag', { ...h.grab, target: h.target.clone() });
  };

  private readonly onUp = (e: PointerEvent): void => {
    const h = this.held;
    if (!h || e.pointerId !== h.pointerId) return;
    if (e.type === 'pointerup' && this.pointerOnPlane(e.clientX, e.clientY, h.plane, h.target)) {
      h.samples.push({ t: e.timeStamp, p: h.target.clone() });
    }
    this.finish(h, e.type === 'pointerup');
  };

  private finish(h: Held, mayPluck: boolean): void {
    this.held = null;
    let J: [number, number, number] | null = null;
    // The pointer's velocity over the last 100 ms before the release (a pointer held still: none).
    const last = h.samples[h.samples.length - 1];
    const recent = h.samples.filter((s) => last.t - s.t <= 100);
    if (mayPluck && this.pluck > 0 && recent.length >= 2) {
      const a = recent[0];
      const b = last;
      const span = (b.t - a.t) / 1000;
      if (span >= 0.008) {
        const v = b.p.clone().sub(a.p).divideScalar(span);
        if (v.length() >= this.pluckSpeed) {
          v.multiplyScalar(this.pluck).clampLength(0, this.maxForce * 0.1);
          J = [v.x, v.y, v.z];
        }
      }
    }
    // The force is zeroed now and removed at the next step boundary.
    for (const t of h.targets) t.system.handle.forces.setPointForce(t.point, [0, 0, 0], t.copy);
    const earlier = this.pending?.world === h.world ? this.pending : null;
    this.pending = {
      world: h.world,
      clear: [...(earlier?.clear ?? []), ...h.targets],
      impulse: J ? { targets: h.targets, J } : (earlier?.impulse ?? null),
    };
    const ctl = this.options.controls;
    if (ctl) ctl.enabled = this.controlsWereEnabled;
    if (this.options.touchAction === false) this.domElement.style.touchAction = this.savedTouchAction;
    this.domElement.style.cursor = this.savedCursor;
    try {
      if (this.domElement.hasPointerCapture(h.pointerId)) this.domElement.releasePointerCapture(h.pointerId);
    } catch {
      // Not captured.
    }
    this.events.emit('release', { ...h.grab, impulse: J });
  }

  // ------------------------------------------------------------------ steps

  private readonly onPreStep = (): void => {
    const p = this.pending;
    const world = this.hooked;
    if (p && world === p.world) {
      for (const t of p.clear) t.system.handle.forces.setPointForce(t.point, null, t.copy);
      if (p.impulse) {
        for (const t of p.impulse.targets) {
          if (t.system.handle.invalid[t.copy] === 1) continue;
          try {
            t.system.handle.forces.applyPointImpulse(t.point, p.impulse.J, t.copy, world.time);
            this.events.emit('impulse', { ...t, impulse: p.impulse.J, step: world.stepCount });
          } catch {
            // A singular mass matrix here: that copy is not plucked.
          }
        }
      }
      this.pending = null;
    }
    const h = this.held;
    if (!h) {
      if (!this.pending) this.unhook();
      return;
    }
    const F = this.springForce(h);
    if (!F) return;
    const step = world?.stepCount ?? 0;
    for (const t of h.targets) {
      t.system.handle.forces.setPointForce(t.point, F, t.copy);
      this.events.emit('force', { ...t, force: [F[0], F[1], F[2]], step });
    }
  };

  /** F = k (target − x) − c ẋ on the driver, in its own frame, clamped; null when its state is unusable. */
  private springForce(h: Held): Float64Array | null {
    const d = h.driver;
    const handle = d.system.handle;
    if (handle.invalid[d.copy] === 1) return null;
    const n = handle.dof;
    const o = d.copy * n;
    const pts = this.scratch(d.system.system.pointCount * 3);
    d.system.system.positions(handle.q.subarray(o, o + n), pts);
    const pf = this.pointForcesOf(d.system);
    if (!pf) return null;
    const vel = pf.velocity(handle.q, handle.qd, d.point, this.vel, o);
    // Target relative to the grabbed copy's origin = the driver's point relative to its own origin.
    const g = h.grab.system;
    const go = 3 * h.grab.copy;
    const tx = h.target.x - (g.origin.x + g.offsets[go]);
    const ty = h.target.y - (g.origin.y + g.offsets[go + 1]);
    const tz = h.target.z - (g.origin.z + g.offsets[go + 2]);
    const x = pts[3 * d.point];
    const y = pts[3 * d.point + 1];
    const z = pts[3 * d.point + 2];
    const F = this.force;
    F[0] = h.k * (tx - x) - h.c * vel[0];
    F[1] = h.k * (ty - y) - h.c * vel[1];
    F[2] = h.k * (tz - z) - h.c * vel[2];
    if (!(Number.isFinite(F[0]) && Number.isFinite(F[1]) && Number.isFinite(F[2]))) return null;
    const m = Math.hypot(F[0], F[1], F[2]);
    if (m > this.maxForce) for (let i = 0; i < 3; i++) F[i] *= this.maxForce / m;
    return F;
  }

  /**
   * The spring's k and c for the driver: the options, lowered where the point is light so that a force
   * held over a step of `h` stays stable (k ≤ m/(4h²), c ≤ m/(2h), m the point's effective mass from
   * the engine's mass matrix: 1/trace(J H⁻¹ Jᵀ)).
   */
  private gains(d: DragPoint, h: number): { k: number; c: number } {
    let k = this.stiffness;
    let c = this.damping;
    const pf = this.pointForcesOf(d.system);
    if (!pf) return { k, c };
    try {
      const handle = d.system.handle;
      const n = handle.dof;
      const o = d.copy * n;
      const q = handle.q.slice(o, o + n);
      const qd = handle.qd.slice(o, o + n);
      const solver = new ImpulseSolver(handle.engine);
      const p = new Float64Array(n);
      const dv = new Float64Array(n);
      const v = new Float64Array(3);
      let mobility = 0;
      for (let a = 0; a < 3; a++) {
        const e: [number, number, number] = [0, 0, 0];
        e[a] = 1;
        p.fill(0);
        pf.add(q, d.point, e, p);
        solver.velocityChange(q, qd, p, dv);
        pf.velocity(q, dv, d.point, v);
        mobility += v[a];
      }
      if (mobility > 0 && Number.isFinite(mobility)) {
        const mass = 1 / mobility;
        k = Math.min(k, mass / (4 * h * h));
        c = Math.min(c, mass / (2 * h));
      }
    } catch {
      // A singular pose: keep the options' values.
    }
    return { k, c };
  }

  // ------------------------------------------------------------------ helpers

  private systems(): PhysicsSystem[] {
    const s = this.source.systems;
    const list = s instanceof Map ? [...s.values()] : [...(s as Iterable<PhysicsSystem>)];
    const filter = this.options.filter;
    return filter ? list.filter(filter) : list;
  }

  /** Why the system cannot be pushed, or null. */
  private unsupportedOf(system: PhysicsSystem): string | null {
    const why = system.handle.forces.unsupported;
    if (why !== null) return why;
    return this.pointForcesOf(system) ? null : `system '${system.system.id}' gives no point Jacobian`;
  }

  private pointForcesOf(system: PhysicsSystem): PointForces | null {
    let pf = this.pointForces.get(system);
    if (pf === undefined) {
      pf = system.system.pointJacobian ? new PointForces(system.system) : null;
      this.pointForces.set(system, pf);
    }
    return pf;
  }

  private fixedOf(system: PhysicsSystem): boolean[] {
    let f = this.fixed.get(system);
    if (!f) {
      f = fixedPoints(system.system, system.q0.subarray(0, system.system.dof));
      this.fixed.set(system, f);
    }
    return f;
  }

  private scratch(n: number): Float64Array {
    let s = this.pts.get(n);
    if (!s) {
      s = new Float64Array(n);
      this.pts.set(n, s);
    }
    return s;
  }

  /** World position of a point of the exact current state. */
  private worldPosition(d: DragPoint, out: Vector3): Vector3 {
    const handle = d.system.handle;
    const n = handle.dof;
    const pts = this.scratch(d.system.system.pointCount * 3);
    d.system.system.positions(handle.q.subarray(d.copy * n, d.copy * n + n), pts);
    const o = 3 * d.copy;
    return out.set(
      pts[3 * d.point] + d.system.origin.x + d.system.offsets[o],
      pts[3 * d.point + 1] + d.system.origin.y + d.system.offsets[o + 1],
      pts[3 * d.point + 2] + d.system.origin.z + d.system.offsets[o + 2],
    );
  }

  /** Intersect the pointer's ray with `plane` into `out`; false when it misses (parallel). */
  private pointerOnPlane(clientX: number, clientY: number, plane: Plane, out: Vector3): boolean {
    const rect = this.domElement.getBoundingClientRect();
    ndc.set(
      ((clientX - rect.left) / Math.max(1, rect.width)) * 2 - 1,
      -((clientY - rect.top) / Math.max(1, rect.height)) * 2 + 1,
    );
    this.raycaster.setFromCamera(ndc, this.camera);
    return this.raycaster.ray.intersectPlane(plane, out) !== null;
  }

  private hook(world: World): void {
    if (this.hooked === world) return;
    this.unhook();
    world.on('preStep', this.onPreStep);
    this.hooked = world;
  }

  private unhook(): void {
    this.hooked?.off('preStep', this.onPreStep);
    this.hooked = null;
  }
}

function positive(x: number, name: string): number {
  if (!(Number.isFinite(x) && x > 0))
    throw new Error(`PointerDrag: ${name} must be a finite number > 0, got ${x}`);
  return x;
}

function nonNegative(x: number, name: string): number {
  if (!(Number.isFinite(x) && x >= 0))
    throw new Error(`PointerDrag: ${name} must be a finite number >= 0, got ${x}`);
  return x;
}
