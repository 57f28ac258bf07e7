import type { Engine, EngineId, Integrator, IntegratorId, System } from '../../src/core/types';
import type { EngineOptions } from '../../src/engines/registry';
import type { Vec3Like } from './Vec3Like';

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

/** Options of `physics.addSystem`. */
export interface AddSystemOptions {
  /**
   * Engine: a registered id (`'analytic'`, `'lagrangian'`, `'lnn'`, `'baseline'`, `'lgn'`, `'cannon'`, …),
   * created and disposed by the plugin, or an Engine instance (the caller disposes it).
   * @default 'analytic'
   */
  engine?: EngineId | Engine;
  /**
   * Model of a learned engine: a directory path (Node), a URL (browser) or a loaded model.
   * @default undefined
   */
  model?: EngineOptions['model'];
  /**
   * TF.js backend of a learned engine (`'webgl'`, `'wasm'`, `'cpu'`).
   * @default undefined (the engine's choice)
   */
  backend?: string;
  /**
   * Further engine options.
   * @default {}
   */
  engineOptions?: EngineOptions;
  /**
   * Initial coordinates: `[dof]` (every copy alike) or `[count * dof]`.
   * @default zeros
   */
  q0?: ArrayLike<number>;
  /**
   * Initial velocities: `[dof]` or `[count * dof]`.
   * @default zeros
   */
  qd0?: ArrayLike<number>;
  /**
   * Integrator id or instance.
   * @default 'rk4'
   */
  integrator?: IntegratorId | Integrator;
  /**
   * Copies stepped as one batch (one engine call per step for all of them).
   * @default 1
   */
  count?: number;
  /**
   * System parameters, when the system is given by id.
   * @default {} (the system's defaults)
   */
  params?: Partial<Record<string, number>>;
  /**
   * Name, unique in the world: what `mesh.userData.physics.system` refers to.
   * @default `${system.id}-${n}`
   */
  name?: string;
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
}

/** What `mesh.userData.physics` (and `physics.addMesh(mesh, binding)`) holds. */
export interface MeshBinding {
  /** The system: a handle, or its name. */
  system: string | { readonly name: string };
  /** Index of the point of `system.positions` the mesh follows (0 is usually the pivot). */
  point: number;
  /**
   * Copy of a batched system.
   * @default 0
   */
  index?: number;
}

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
export type SystemSpec = System | string;
