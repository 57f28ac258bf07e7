import type { Material } from 'cannon-es';

/**
 * The cannon-es tuning shared by the builders' defaults and the `cannon` engine (the one place these numbers
 * live). Cannon advances with semi-implicit Euler and SPOOK constraints re-tuned for the step actually taken,
 * so the energy error of a double pendulum oscillates with an amplitude first order in the step: from
 * q = (3π/7, 3π/4), q̇ = 0 the peak |ΔE| over 20 s is about 0.33% of the energy scale at 1/600 s, 0.12% at
 * 1/1200 s and 0.06% at 1/2400 s (test/cannon.test.ts prints it). Relative to |E₀| (2.57 J there, an
 * eleventh of the scale) the same error reads about 2.6% at 1/600 s.
 */
export const cannonTuning = {
  /** Longest cannon step, in seconds: a frame step is split into `ceil(dt / substep)` cannon steps. */
  substep: 1 / 600,
  /** SPOOK stiffness of the distance constraints (cannon's default is 1e7). */
  stiffness: 1e9,
  /** SPOOK relaxation, in steps (cannon's default is 4). */
  relaxation: 2,
  /** Largest constraint force, in newtons. */
  maxForce: 1e8,
  /** Gauss–Seidel iterations of cannon's solver per step (cannon's default). */
  iterations: 10,
} as const;

/**
 * Cannon steps for one frame step: the fewest steps of at most `maxSubstep` that cover `dt`
 * (`ceil(dt / maxSubstep)`, tolerant of round-off so that 1/60 over 1/600 is 10, not 11).
 * @example cannonSubsteps(1 / 120, 1 / 600) // 5
 */
export function cannonSubsteps(dt: number, maxSubstep: number = cannonTuning.substep): number {
  return Math.max(1, Math.ceil(dt / maxSubstep - 1e-9));
}

/** A point or offset in world space. */
export interface Vec3Like {
  x: number;
  y: number;
  z: number;
}

/**
 * Options shared by the cannon-es builders. The defaults are {@link cannonTuning}, the tuning the `cannon`
 * engine uses too.
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
   * @default cannonSubsteps(dt): steps of at most {@link cannonTuning}.substep = 1/600 s (10 at the default dt)
   */
  substeps?: number;
  /**
   * SPOOK stiffness of the distance constraints (cannon's default is 1e7).
   * @default 1e9 ({@link cannonTuning})
   */
  stiffness?: number;
  /**
   * SPOOK relaxation, in substeps (cannon's default is 4).
   * @default 2 ({@link cannonTuning})
   */
  relaxation?: number;
  /**
   * Largest constraint force, in newtons.
   * @default 1e8 ({@link cannonTuning})
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
  const dt = options.dt ?? 1 / 60;
  const r: ResolvedCannonBuildOptions = {
    dt,
    substeps: options.substeps ?? (Number.isFinite(dt) && dt > 0 ? cannonSubsteps(dt) : 1),
    stiffness: options.stiffness ?? cannonTuning.stiffness,
    relaxation: options.relaxation ?? cannonTuning.relaxation,
    maxForce: options.maxForce ?? cannonTuning.maxForce,
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
