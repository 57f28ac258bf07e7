import { Group, type Object3D, Vector3 } from 'three';
import { Emitter, World, type WorldSnapshot } from '../../src/index.js';
import { BINDING_KEY, type BoundMesh, parseBinding, placeMesh } from './bindings.js';
import { DebugHelper, type DebugHelperOptions } from './DebugHelper.js';
import { InstancedBobs, type InstancedBobsOptions } from './InstancedBobs.js';
import type {
  AddSystemOptions,
  GhostOptions,
  LNNPhysicsOptions,
  MeshBinding,
  SystemSpec,
} from './LNNPhysicsOptions.js';
import type { PhysicsEvents } from './PhysicsEvents.js';
import { PhysicsSystem } from './PhysicsSystem.js';
import { SystemHelper, type SystemHelperOptions } from './SystemHelper.js';
import { inRange, trainingRangesOf } from './trainingRanges.js';

/** A ghost: a second copy of a system under another engine, drawn translucent. */
export interface Ghost {
  /** The ghost's system (in the same world, stepped with the original). */
  readonly system: PhysicsSystem;
  /** Rods and bobs of the ghost; add it to the scene. */
  readonly object: Group;
}

/** The object returned by {@link LNNPhysics}. */
export interface LNNPhysicsInstance {
  /** The core World (escape hatch): systems, engines, integrators, events, snapshots. */
  readonly world: World;
  /** Systems added, by name. */
  readonly systems: ReadonlyMap<string, PhysicsSystem>;
  /** Fixed step in seconds. */
  readonly fixedTimeStep: number;
  /** Most fixed steps per `step(delta)`. */
  maxSubSteps: number;
  /** Factor on frame time (slow motion < 1 < fast forward). */
  timeScale: number;
  /** While true, `step(delta)` simulates nothing (meshes stay put); `stepN` still steps. */
  paused: boolean;
  /** Simulated time in seconds. */
  readonly time: number;
  /** Interpolation factor of the last `step(delta)`: the render time sits `alpha` of a step past the previous state. */
  readonly alpha: number;
  /** Energy-drift threshold (share of the system's energy scale). */
  energyDriftThreshold: number;

  /**
   * Add a system (or `count` copies as one batch) by instance or registry id. Async: learned engines load
   * their model. Throws a clear error for an unknown system/engine, a wrong state length, or a model trained
   * on another system.
   */
  addSystem(system: SystemSpec, options?: AddSystemOptions): Promise<PhysicsSystem>;
  /** Remove a system: its engine (when created here), helpers and mesh bindings go with it. */
  removeSystem(system: PhysicsSystem | string): void;
  /**
   * Make `mesh` follow a system: `{ system, point }` sets its `position` every frame (rotation and scale are
   * left alone); `{ system, point, alignTo }` also turns its `axis` toward another point; `{ system, link:
   * [a, b], stretch? }` places it at the midpoint of two points, turns its `axis` onto `b − a` and optionally
   * stretches it to their distance (see {@link MeshBinding}). `binding` defaults to `mesh.userData.lnn`.
   * Binding a mesh again replaces its binding.
   * @throws Error (one line, naming the mesh and the expected shape) for a malformed binding, an unknown
   * system name, point or copy index
   */
  addMesh(mesh: Object3D, binding?: MeshBinding): Object3D;
  /** Stop moving `mesh`. */
  removeMesh(mesh: Object3D): void;
  /**
   * Bind every object under `root` (itself included) that has a `userData.lnn` binding; returns the objects
   * bound. Everything else is ignored, including three.js physics-addon data such as
   * `userData.physics = { mass: 1 }`.
   * @throws Error when a `userData.lnn` binding is malformed or names an unknown system, point or copy
   */
  addScene(root: Object3D): Object3D[];
  /** Rods/strings/chains of a system as lines or tubes, kept up to date by `step`. */
  createSystemHelper(system: PhysicsSystem | string, options?: SystemHelperOptions): SystemHelper;
  /** Every copy of a batch as one InstancedMesh of bobs, kept up to date by `step`. */
  createInstancedBobs(system: PhysicsSystem | string, options?: InstancedBobsOptions): InstancedBobs;
  /** Trails, velocity arrows and pivot markers for one copy, kept up to date by `step`. */
  createDebugHelper(system: PhysicsSystem | string, options?: DebugHelperOptions): DebugHelper;
  /** The same system under another engine from the same current state, drawn translucent. */
  addGhost(system: PhysicsSystem | string, options?: GhostOptions): Promise<Ghost>;
  /**
   * Advance by the caller's frame time `delta` (seconds): fixed steps through an accumulator, then every
   * bound mesh and helper is placed at the interpolated state. Returns the number of fixed steps taken.
   * A negative delta advances nothing (time does not run back: `THREE.Timer` fed requestAnimationFrame
   * timestamps gives a few negative milliseconds on its first frame).
   * @throws Error for NaN, ±Infinity or a non-number
   */
  step(delta: number): number;
  /** Take `n` fixed steps now (also while paused), then update the meshes. */
  stepN(n?: number): void;
  /** Pause (`step` then only redraws). */
  pause(): void;
  /** Resume after `pause`. */
  resume(): void;
  /** Replace the state of a system (`[dof]` or `[count * dof]` each). */
  setState(system: PhysicsSystem | string, q: ArrayLike<number>, qd: ArrayLike<number>): void;
  /** Put one system, or every system, back to its initial state; simulated time restarts at 0 when all are reset. */
  reset(system?: PhysicsSystem | string): void;
  /** The whole simulation state as JSON (exact). */
  snapshot(): WorldSnapshot;
  /** Go back to a snapshot of this same set of systems. */
  restore(snapshot: WorldSnapshot): void;
  /** Redraw every bound mesh and helper from the current state (done by `step` and the state setters). */
  update(): void;
  /** Listen to an event: `step`, `energyDrift`, `invalid`, `outOfRange`. */
  on<K extends keyof PhysicsEvents>(type: K, listener: (event: PhysicsEvents[K]) => void): void;
  /** Stop listening. */
  off<K extends keyof PhysicsEvents>(type: K, listener: (event: PhysicsEvents[K]) => void): void;
  /**
   * Free everything: every engine created here (its tensors), every geometry, material and instanced
   * mesh created here (removed from the scene); user meshes are unbound, not disposed. Idempotent.
   */
  dispose(): void;
}

interface Updatable {
  readonly system: PhysicsSystem;
  update(sample: boolean): void;
  dispose(): void;
}

/**
 * Lagrangian (exact or learned) physics for a three.js scene: an async factory in the manner of three.js's
 * physics addons, with the clock owned by the caller, a fixed timestep with render interpolation, and a
 * `dispose()` that frees everything. No DOM is touched.
 * @example
 * const physics = await LNNPhysics();
 * const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1] });
 * bob.userData.lnn = { system: 'dp', point: 2 };
 * physics.addScene(scene);
 * scene.add(physics.createSystemHelper(dp));
 * renderer.setAnimationLoop(() => { physics.step(clock.getDelta()); renderer.render(scene, camera); });
 */
export async function LNNPhysics(options: LNNPhysicsOptions = {}): Promise<LNNPhysicsInstance> {
  const fixedTimeStep = options.fixedTimeStep ?? 1 / 120;
  const world = new World({ fixedTimeStep, maxSubSteps: options.maxSubSteps, timeScale: options.timeScale });
  let energyDriftThreshold = checkThreshold(options.energyDriftThreshold ?? 0.01);
  const events = new Emitter<PhysicsEvents>();
  const systems = new Map<string, PhysicsSystem>();
  const byHandle = new Map<unknown, PhysicsSystem>();
  const meshes = new Map<Object3D, BoundMesh>();
  const updatables: Updatable[] = [];
  const stepEvent = { time: 0, dt: 0 };
  let disposed = false;
  let lastRenderTime = Number.NaN;

  const alive = (what: string): void => {
    if (disposed) throw new Error(`LNNPhysics.${what}: the physics instance was disposed`);
  };

  const resolve = (s: PhysicsSystem | string, what: string): PhysicsSystem => {
    if (s instanceof PhysicsSystem) {
      if (systems.get(s.name) !== s)
        throw new Error(`${what}: system '${s.name}' is not in this physics world`);
      return s;
    }
    const found = systems.get(s);
    if (!found) {
      const known = [...systems.keys()];
      throw new Error(
        `${what}: no system named '${s}'. Known systems: ${known.length > 0 ? known.join(', ') : '(none added yet)'}`,
      );
    }
    return found;
  };

  world.on('postStep', (e) => {
    stepEvent.time = world.time;
    stepEvent.dt = e.dt;
    events.emit('step', stepEvent);
    if (events.has('energyDrift')) checkEnergy();
    if (events.has('outOfRange')) checkRanges();
  });
  world.on('invalid', (e) => {
    const system = byHandle.get(e.handle);
    if (system) events.emit('invalid', { system, index: e.index, reason: e.reason });
  });

  const checkEnergy = (): void => {
    for (const s of systems.values()) {
      const scale = s.system.energyScale;
      for (let i = 0; i < s.count; i++) {
        if (s.driftReported[i] === 1 || s.handle.invalid[i] === 1) continue;
        // The energy ledger E − E(0) − W: the work of external forces (drags, damping) is not drift.
        const energy = s.energy(i);
        const work = s.handle.forces.ledger.work[i];
        const initialEnergy = s.handle.energy0[i];
        const drift = Math.abs(energy - initialEnergy - work) / scale;
        if (drift > energyDriftThreshold || !Number.isFinite(drift)) {
          s.driftReported[i] = 1;
          events.emit('energyDrift', {
            system: s,
            index: i,
            energy,
            initialEnergy,
            work,
            drift,
          });
        }
      }
    }
  };

  const checkRanges = (): void => {
    for (const s of systems.values()) {
      const ranges = trainingRangesOf(s.engine);
      if (!ranges) continue;
      const { dof, angles } = s.system;
      const { q, qd } = s.handle;
      for (let i = 0; i < s.count; i++) {
        let outside:
          | { coordinate: 'q' | 'qd'; dim: number; value: number; range: readonly [number, number] }
          | undefined;
        for (let d = 0; d < dof && !outside; d++) {
          const rq = ranges.q[d];
          const rv = ranges.qd[d];
          if (rq && !inRange(q[i * dof + d], rq, angles[d] === true)) {
            outside = { coordinate: 'q', dim: d, value: q[i * dof + d], range: rq };
          } else if (rv && !inRange(qd[i * dof + d], rv, false)) {
            outside = { coordinate: 'qd', dim: d, value: qd[i * dof + d], range: rv };
          }
        }
        if (outside && s.outOfRange[i] === 0) {
          s.outOfRange[i] = 1;
          events.emit('outOfRange', { system: s, index: i, ...outside });
        } else if (!outside) {
          s.outOfRange[i] = 0;
        }
      }
    }
  };

  const update = (sample = true): void => {
    for (const [mesh, b] of meshes) placeMesh(mesh, b);
    for (const u of updatables) u.update(sample);
  };

  const removeSystem = (s: PhysicsSystem | string): void => {
    alive('removeSystem');
    const system = resolve(s, 'removeSystem');
    for (const [mesh, b] of meshes) if (b.system === system) meshes.delete(mesh);
    for (let i = updatables.length - 1; i >= 0; i--) {
      if (updatables[i].system === system) {
        updatables[i].dispose();
        updatables.splice(i, 1);
      }
    }
    systems.delete(system.name);
    byHandle.delete(system.handle);
    world.remove(system.handle);
  };

  const addSystem = async (spec: SystemSpec, o: AddSystemOptions = {}): Promise<PhysicsSystem> => {
    alive('addSystem');
    const { origin: at, offsets, damping, ...addOptions } = o;
    if (damping !== undefined && addOptions.forces?.damping !== undefined) {
      throw new Error(
        `addSystem: damping is given twice ('damping' and 'forces.damping'); give one of them.`,
      );
    }
    const handle = await world.add(spec, addOptions);
    const origin = new Vector3(at?.x ?? 0, at?.y ?? 0, at?.z ?? 0);
    try {
      if (damping !== undefined) handle.forces.setDamping(damping);
      const ps = new PhysicsSystem(handle, origin, offsets);
      systems.set(ps.name, ps);
      byHandle.set(handle, ps);
      return ps;
    } catch (error) {
      world.remove(handle);
      throw error;
    }
  };

  const addMesh = (mesh: Object3D, binding?: MeshBinding): Object3D => {
    alive('addMesh');
    const label = `addMesh('${mesh.name || mesh.type}')`;
    const b: unknown = binding === undefined ? mesh.userData?.[BINDING_KEY] : binding;
    if (b === undefined) {
      const old = mesh.userData?.physics as { system?: unknown } | undefined;
      const hint =
        old !== null && typeof old === 'object' && 'system' in old
          ? ' (three-lnn bindings moved from userData.physics to userData.lnn)'
          : '';
      throw new Error(
        `${label}: no binding given and mesh.userData.${BINDING_KEY} is not set, e.g. { system: 'dp', point: 2 }${hint}`,
      );
    }
    const bound = parseBinding(b, label, (s) => resolve(s, label));
    meshes.set(mesh, bound);
    placeMesh(mesh, bound);
    return mesh;
  };

  const track = <T extends Updatable>(u: T): T => {
    updatables.push(u);
    return u;
  };

  const helperOf = (h: SystemHelper): Updatable => ({
    system: h.system,
    update: () => h.update(),
    dispose: () => h.dispose(),
  });

  const instance: LNNPhysicsInstance = {
    world,
    systems,
    fixedTimeStep,
    get maxSubSteps() {
      return world.maxSubSteps;
    },
    set maxSubSteps(n: number) {
      world.maxSubSteps = n;
    },
    get timeScale() {
      return world.timeScale;
    },
    set timeScale(s: number) {
      world.timeScale = s;
    },
    get paused() {
      return world.paused;
    },
    set paused(p: boolean) {
      world.paused = p;
    },
    get time() {
      return world.time;
    },
    get alpha() {
      return world.alpha;
    },
    get energyDriftThreshold() {
      return energyDriftThreshold;
    },
    set energyDriftThreshold(t: number) {
      energyDriftThreshold = checkThreshold(t);
    },
    addSystem,
    removeSystem,
    addMesh,
    removeMesh: (mesh) => {
      meshes.delete(mesh);
    },
    addScene: (root) => {
      alive('addScene');
      const bound: Object3D[] = [];
      root.traverse((o) => {
        if (o.userData?.[BINDING_KEY] !== undefined) bound.push(addMesh(o));
      });
      return bound;
    },
    createSystemHelper: (s, o) => {
      alive('createSystemHelper');
      const helper = new SystemHelper(resolve(s, 'createSystemHelper'), o);
      track(helperOf(helper));
      return helper;
    },
    createInstancedBobs: (s, o) => {
      alive('createInstancedBobs');
      const bobs = new InstancedBobs(resolve(s, 'createInstancedBobs'), o);
      track({ system: bobs.system, update: () => bobs.update(), dispose: () => bobs.dispose() });
      return bobs;
    },
    createDebugHelper: (s, o) => {
      alive('createDebugHelper');
      const debug = new DebugHelper(resolve(s, 'createDebugHelper'), o);
      track({
        system: debug.system,
        update: (sample) => debug.update(sample),
        dispose: () => debug.dispose(),
      });
      return debug;
    },
    addGhost: async (s, o = {}) => {
      alive('addGhost');
      const original = resolve(s, 'addGhost');
      const index = o.index ?? 0;
      original.checkIndex(index);
      const n = original.system.dof;
      const q = original.handle.q.slice(index * n, (index + 1) * n);
      const qd = original.handle.qd.slice(index * n, (index + 1) * n);
      const ghost = await addSystem(original.system, {
        engine: o.engine ?? 'analytic',
        model: o.model,
        engineOptions: o.engineOptions,
        integrator: o.integrator ?? original.handle.integrator.id,
        q0: q,
        qd0: qd,
        name: `${original.name} ghost ${systems.size}`,
        origin: original.origin
          .clone()
          .add(new Vector3().fromArray(Array.from(original.offsets.subarray(3 * index, 3 * index + 3)))),
      });
      const opacity = o.opacity ?? 0.35;
      const color = o.color ?? 0xffffff;
      const object = new Group();
      object.name = ghost.name;
      object.add(instance.createSystemHelper(ghost, { opacity, color }));
      object.add(instance.createInstancedBobs(ghost, { opacity, color, radius: o.radius ?? 0.05 }));
      // The group itself goes with the ghost (its rods and bobs are disposed as helpers).
      track({ system: ghost, update: () => {}, dispose: () => object.removeFromParent() });
      return { system: ghost, object };
    },
    step: (delta) => {
      alive('step');
      if (!(typeof delta === 'number' && Number.isFinite(delta))) {
        throw new Error(`LNNPhysics.step: delta must be a finite number of seconds, got ${delta}`);
      }
      const steps = world.step(fixedTimeStep, Math.max(0, delta));
      const renderTime = world.time + world.alpha * fixedTimeStep;
      update(renderTime !== lastRenderTime);
      lastRenderTime = renderTime;
      return steps;
    },
    stepN: (n = 1) => {
      alive('stepN');
      world.stepN(n, fixedTimeStep);
      lastRenderTime = world.time;
      update(true);
    },
    pause: () => {
      world.paused = true;
    },
    resume: () => {
      world.paused = false;
    },
    setState: (s, q, qd) => {
      alive('setState');
      resolve(s, 'setState').setState(q, qd);
      update(false);
    },
    reset: (s) => {
      alive('reset');
      if (s !== undefined) {
        resolve(s, 'reset').reset();
      } else {
        for (const sys of systems.values()) sys.reset();
        world.resetClock();
      }
      update(false);
    },
    snapshot: () => {
      alive('snapshot');
      return world.toJSON();
    },
    restore: (snap) => {
      alive('restore');
      world.restore(snap);
      update(false);
    },
    update: () => update(false),
    on: (type, listener) => {
      events.on(type, listener);
    },
    off: (type, listener) => {
      events.off(type, listener);
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const u of updatables) u.dispose();
      updatables.length = 0;
      meshes.clear();
      systems.clear();
      byHandle.clear();
      world.dispose();
      events.clear();
    },
  };
  return instance;
}

function checkThreshold(t: number): number {
  if (!(Number.isFinite(t) && t > 0)) {
    throw new Error(`energyDriftThreshold must be a finite number > 0, got ${t}`);
  }
  return t;
}
