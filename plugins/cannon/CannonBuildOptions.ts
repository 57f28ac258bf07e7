import type { Material } from 'cannon-es';

/** A point or offset in world space. */
export interface Vec3Like {
  x: number;
  y: number;
  z: number;
}

/**
 * Options shared by the cannon-es builders. The defaults are the tuning measured to keep a double
 * pendulum's energy within about 0.1–1% of the energy scale over 20 s (see docs/plugin.md).
 */
export interface CannonBuildOptions {
  /**
   * Frame step the world will be advanced by, in seconds; the constraints are tuned for `dt / substeps`.
   * @default 1/60
   */
  dt?: number;
  /**
   * Cannon steps per frame step: advance the world with `world.step(dt / substeps)` called `substeps`
   * times (see {@link stepCannon}), never with cannon's own wall-clock accumulator.
   * @default 10
   */
  substeps?: number;
  /**
   * SPOOK stiffness of the distance constraints (cannon's default is 1e7).
   * @default 1e9
   */
  stiffness?: number;
  /**
   * SPOOK relaxation, in substeps (cannon's default is 4).
   * @default 2
   */
  relaxation?: number;
  /**
   * Largest constraint force, in newtons.
   * @default 1e8
   */
  maxForce?: number;
  /**
   * World position of the system's origin (the pivot, or the string's left end).
   * @default { x: 0, y: 0, z: 0 }
   */
  origin?: Vec3Like;
  /**
   * Initial generalised coordinates `[dof]`.
   * @default zeros (hanging at rest, or a flat string)
   */
  q0?: ArrayLike<number>;
  /**
   * Initial generalised velocities `[dof]`.
   * @default zeros
   */
  qd0?: ArrayLike<number>;
  /**
   * Radius of the sphere shape of each moving body (it collides with other bodies).
   * @default 0.05
   */
  radius?: number;
  /**
   * Lock the motion to the x–y plane (cannon `linearFactor`), as the Lagrangian system is planar.
   * @default true
   */
  planar?: boolean;
  /**
   * Contact material of the moving bodies.
   * @default undefined (the world's default material)
   */
  material?: Material;
}

/** {@link CannonBuildOptions} with every default applied. */
export interface ResolvedCannonBuildOptions {
  dt: number;
  substeps: number;
  stiffness: number;
  relaxation: number;
  maxForce: number;
  origin: Vec3Like;
  q0: ArrayLike<number> | undefined;
  qd0: ArrayLike<number> | undefined;
  radius: number;
  planar: boolean;
  material: Material | undefined;
}

/** Apply the defaults of {@link CannonBuildOptions} and validate the numbers. */
export function resolveCannonBuildOptions(options: CannonBuildOptions = {}): ResolvedCannonBuildOptions {
  const r: ResolvedCannonBuildOptions = {
    dt: options.dt ?? 1 / 60,
    substeps: options.substeps ?? 10,
    stiffness: options.stiffness ?? 1e9,
    relaxation: options.relaxation ?? 2,
    maxForce: options.maxForce ?? 1e8,
    origin: options.origin ?? { x: 0, y: 0, z: 0 },
    q0: options.q0,
    qd0: options.qd0,
    radius: options.radius ?? 0.05,
    planar: options.planar ?? true,
    material: options.material,
  };
  for (const key of ['dt', 'stiffness', 'relaxation', 'maxForce', 'radius'] as const) {
    if (!(Number.isFinite(r[key]) && r[key] > 0)) {
      throw new Error(`cannon builder: option '${key}' must be a finite number > 0, got ${r[key]}`);
    }
  }
  if (!(Number.isInteger(r.substeps) && r.substeps >= 1)) {
    throw new Error(`cannon builder: option 'substeps' must be an integer ≥ 1, got ${r.substeps}`);
  }
  return r;
}
