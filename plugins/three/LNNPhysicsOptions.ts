import type {
  AddOptions,
  Engine,
  EngineId,
  EngineOptions,
  IntegratorId,
  SystemSpec,
} from '../../src/index.js';
import type { Vec3Like } from './Vec3Like.js';

/** Options of {@link LNNPhysics}. */
export interface LNNPhysicsOptions {
  /**
   * Fixed simulation step in seconds; every system advances by exactly this, whatever the frame rate.
   * @default 1/120
   */
  fixedTimeStep?: number;
  /**
   * Most fixed steps one `step(delta)` call takes; further whole steps are dropped (the simulation slows
   * down instead of spiralling when frames are slow).
   * @default 10
   */
  maxSubSteps?: number;
  /**
   * Factor on the frame time (0.5 = slow motion).
   * @default 1
   */
  timeScale?: number;
  /**
   * Relative energy change |E − E₀| / energyScale that fires an `energyDrift` event (once per copy until
   * `reset`/`setState`).
   * @default 0.01
   */
  energyDriftThreshold?: number;
}

/**
 * Options of `physics.addSystem`: the core World's `add` options (engine by id or instance, `model`,
 * `backend`, `route`, `outsideTraining`, `params`, integrator, `q0`, `qd0`, `count`, `name` — the name is
 * what `mesh.userData.lnn.system` refers to), plus where the system hangs in the scene.
 */
export interface AddSystemOptions extends AddOptions {
  /**
   * Scene position of the system's origin (its pivot).
   * @default { x: 0, y: 0, z: 0 }
   */
  origin?: Vec3Like;
  /**
   * Per-copy offsets from `origin`, `[count * 3]` (e.g. to lay a batch out on a grid).
   * @default all zeros (every copy hangs from the same pivot)
   */
  offsets?: ArrayLike<number>;
  /**
   * Rayleigh damping Q = −C q̇ from the first step (one C ≥ 0 for every coordinate, or `[dof]`), set with
   * `handle.forces.setDamping`; change it later with `system.handle.forces.setDamping(c)`. Work it takes
   * out goes into the energy ledger, so it fires no `energyDrift` event.
   * @throws ForceSupportError (from `addSystem`) on an engine that takes no forces (the black-box `baseline`)
   * @default undefined (no damping)
   */
  damping?: number | ArrayLike<number>;
}

/**
 * A local axis of a mesh: the one an orienting binding turns onto a segment. `'y'` is the axis of three.js's
 * `CylinderGeometry` and `CapsuleGeometry`.
 */
export type BindingAxis = 'x' | 'y' | 'z';

/** Fields shared by {@link PointBinding} and {@link LinkBinding}. */
export interface BindingBase {
  /** The system: a handle, or its name (`AddSystemOptions.name`). */
  system: string | { readonly name: string };
  /**
   * Copy of a batched system.
   * @default 0
   */
  index?: number;
}

/**
 * Follow one point of a system: the mesh's `position` is set every frame. With `alignTo` the mesh is also
 * turned so that its local `axis` points from `point` toward point `alignTo` (e.g. a rod whose geometry starts
 * at its origin, or a bob that faces the pivot).
 * @example mesh.userData.lnn = { system: 'dp', point: 2 };
 * @example rod.userData.lnn = { system: 'dp', point: 0, alignTo: 1 }; // CylinderGeometry(r, r, l1).translate(0, l1 / 2, 0)
 */
export interface PointBinding extends BindingBase {
  /** Index of the point of `system.positions` the mesh follows (0 is usually the pivot). */
  point: number;
  /**
   * A second point: every frame the mesh's `quaternion` becomes the shortest rotation taking its local
   * `axis` onto the direction from `point` to `alignTo`. While the two points coincide the last orientation
   * is kept.
   * @default undefined (position only: rotation and scale are left alone)
   */
  alignTo?: number;
  /**
   * Local axis turned toward `alignTo` (ignored without it).
   * @default 'y'
   */
  axis?: BindingAxis;
}

/**
 * Span two points of a system (a rod, a chain link, a spring): every frame the mesh is placed at the midpoint
 * of points `a` and `b` of `link: [a, b]` and its `quaternion` becomes the shortest rotation taking its local
 * `axis` onto `b − a`; with `stretch` its scale along `axis` is also set to the distance |b − a|. Use a
 * geometry centred on its origin (three's `CylinderGeometry` and `CapsuleGeometry` are, along y). While the
 * two points coincide the last orientation and length are kept.
 * @example link.userData.lnn = { system: 'dp', link: [1, 2], stretch: true }; // CylinderGeometry(r, r, 1)
 */
export interface LinkBinding extends BindingBase {
  /** The two points `[a, b]` the mesh spans (indices into `system.positions`, different). */
  link: readonly [number, number];
  /**
   * Local axis of the mesh turned onto `b − a`.
   * @default 'y'
   */
  axis?: BindingAxis;
  /**
   * Also set `mesh.scale[axis]` to |b − a| every frame, so a geometry of length 1 along `axis` spans exactly
   * from `a` to `b` (the other two scale components are left alone). Off: the length is the geometry's own.
   * @default false
   */
  stretch?: boolean;
}

/**
 * What `mesh.userData.lnn` (and `physics.addMesh(mesh, binding)`) holds: a {@link PointBinding}
 * `{ system, point, index?, alignTo?, axis? }` or a {@link LinkBinding} `{ system, link: [a, b], index?,
 * axis?, stretch? }`.
 *
 * Positions are in three.js world space (the system's `origin` and per-copy offsets included); a mesh whose
 * parent is itself inside another object (a transformed group in the scene) gets them in its parent's frame,
 * and the orientation and stretch are computed in that frame, so the mesh still spans the points in world
 * space. They are those of the interpolated render state, like every helper's.
 */
export type MeshBinding = PointBinding | LinkBinding;

/** Options of `physics.addGhost`. */
export interface GhostOptions {
  /**
   * Engine of the ghost.
   * @default 'analytic'
   */
  engine?: EngineId | Engine;
  /**
   * Model of a learned ghost engine.
   * @default undefined
   */
  model?: EngineOptions['model'];
  /**
   * Further engine options.
   * @default {}
   */
  engineOptions?: EngineOptions;
  /**
   * Integrator of the ghost.
   * @default the original's integrator id
   */
  integrator?: IntegratorId;
  /**
   * Copy of the original whose current state the ghost starts from.
   * @default 0
   */
  index?: number;
  /**
   * Opacity of the ghost's rods and bobs.
   * @default 0.35
   */
  opacity?: number;
  /**
   * Colour of the ghost.
   * @default 0xffffff
   */
  color?: import('three').ColorRepresentation;
  /**
   * Bob radius.
   * @default 0.05
   */
  radius?: number;
}

/** A system given to `addSystem`: an instance or a registry id. */
export type { SystemSpec };
