import type { EngineId, IntegratorId, System } from '../core/types.js';

/**
 * Types of the scene scripting API. A scene is plain data — systems, initial states, engines, timed
 * events, recorders and a camera — that runs headless (`runScene`, `three-lnn scene`) and in a browser
 * renderer with the same numbers, because both drive the same {@link SceneRunner} over a `World`.
 */

/** A 3-vector as plain data, `[x, y, z]` (y up). */
export type Vec3 = readonly [number, number, number];

/**
 * Camera for renderers (ignored headless).
 * @example { position: [0, 0, 6], target: [0, -1, 0], fov: 45 }
 */
export interface SceneCamera {
  /** Camera position. */
  readonly position: Vec3;
  /** Point looked at. @default [0, 0, 0] */
  readonly target?: Vec3;
  /** Vertical field of view in degrees. @default 50 */
  readonly fov?: number;
  /** Up direction. @default [0, 1, 0] */
  readonly up?: Vec3;
}

/** How a renderer should show one scene system (ignored headless). */
export interface SceneView {
  /** World-space offset of the system's points (to lay systems side by side). @default [0, 0, 0] */
  readonly offset?: Vec3;
  /** CSS colour, e.g. `'#e4572e'`. @default renderer's choice */
  readonly color?: string;
  /** Label shown next to the system. @default the system's `id` */
  readonly label?: string;
  /** Trail length in recorded frames; 0 for none. @default 0 */
  readonly trail?: number;
  /** Draw as a translucent ghost (for overlays). @default false */
  readonly ghost?: boolean;
}

/**
 * External forces on a scene system from t = 0 (plain data; in code, `runner.handle(id).forces` takes
 * more: callbacks, forces on points). Refused on an engine that takes no forces (the black-box baseline).
 * @example { damping: 0.05 } // Rayleigh damping Q = −0.05 q̇ on every coordinate
 */
export interface SceneForces {
  /**
   * Rayleigh damping Q = −C q̇ in the system's units (N·m·s/rad for angles): one C ≥ 0 for every
   * coordinate, or `[dof]`. At most 1e6.
   */
  readonly damping?: number | readonly number[];
  /** A constant generalized force: `[dof]` (every copy alike) or `[count][dof]`. Entries at most 1e6 in magnitude. */
  readonly constant?: readonly number[] | readonly (readonly number[])[];
}

/** One system of a scene: `count` copies of a physical system under one engine and integrator. */
export interface SceneSystem {
  /** Name within the scene, unique; events and recorders refer to it. */
  readonly id: string;
  /** A system registry id (e.g. `'double-pendulum'`) or a `System` object (e.g. from `defineSystem`). */
  readonly system: string | System;
  /** Parameter overrides. @default {} */
  readonly params?: Readonly<Record<string, number>>;
  /** Engine id: `'analytic'`, `'lagrangian'`, `'lnn'`, `'baseline'`, `'lgn'`, `'cannon'`, … @default 'analytic' */
  readonly engine?: EngineId;
  /** Model of a learned engine: a directory path (Node) or URL (browser) of a three-lnn model. */
  readonly model?: string;
  /** TF.js backend for a learned engine (`'wasm'`, `'cpu'`, `'webgl'`). @default the engine's choice */
  readonly backend?: string;
  /**
   * What a learned engine does when the system's parameters (`params`) differ from its model's training
   * values: `'error'` refuses the scene (a `param-mismatch` error naming each parameter), `'run'` runs the
   * model anyway, with a warning (its accelerations are those of the training system). Takes precedence
   * over the runner's `engineDefaults` (the app and `three-lnn scene --outside-training` default to
   * `'run'` there); exact engines ignore it.
   * @default 'error'
   */
  readonly outsideTraining?: 'error' | 'run';
  /** Fixed-step integrator. @default 'rk4' */
  readonly integrator?: IntegratorId;
  /** Initial q: `[dof]` (every copy alike) or `[count][dof]`. @default zeros */
  readonly q0?: readonly number[] | readonly (readonly number[])[];
  /** Initial q̇: `[dof]` or `[count][dof]`. @default zeros */
  readonly qd0?: readonly number[] | readonly (readonly number[])[];
  /** Number of copies, stepped as one batch. @default 1 */
  readonly count?: number;
  /** External forces from t = 0 (damping, a constant force); the work they do is recorded as `work`. @default none */
  readonly forces?: SceneForces;
  /** Renderer hints. @default {} */
  readonly view?: SceneView;
}

/** Fields common to every event. */
interface EventBase {
  /** Time in seconds; the event fires at the first step boundary k·dt ≥ at (to 1e-9 of a step). */
  readonly at: number;
}

/** Fields of events that act on one scene system. */
interface TargetedEvent extends EventBase {
  /** `id` of the scene system acted on. */
  readonly target: string;
  /** Copy acted on; all copies when omitted. @default all */
  readonly index?: number;
}

/**
 * A kick, given as exactly one of:
 * - `qd` (`[dof]`): a velocity change Δq̇, added as is (mass ignored; not counted as work);
 * - `p` (`[dof]`): a generalized impulse, q̇ += H_vv⁻¹ p with the engine's mass matrix (Δθ̇ = p/(m l²) for
 *   a simple pendulum); its work p·(q̇⁻ + q̇⁺)/2 goes into the ledger;
 * - `point` and `J`: an impulse `J` `[3]` (N·s, world axes, y up) on drawn point `point`, i.e. the
 *   generalized impulse J(q)ᵀ J.
 * `p` and `point` need an engine that takes forces.
 */
export interface ImpulseEvent extends TargetedEvent {
  readonly type: 'impulse';
  /** Velocity change Δq̇, `[dof]`. */
  readonly qd?: readonly number[];
  /** Generalized impulse, `[dof]` (N·m·s for an angle). */
  readonly p?: readonly number[];
  /** Index of the drawn point the impulse `J` acts on. */
  readonly point?: number;
  /** Impulse on `point`, `[x, y, z]` in N·s. */
  readonly J?: readonly number[];
}

/** Replace the state (revives a copy frozen after a non-finite state). */
export interface SetStateEvent extends TargetedEvent {
  readonly type: 'setState';
  /** New q, `[dof]`; unchanged when omitted. */
  readonly q?: readonly number[];
  /** New q̇, `[dof]`; unchanged when omitted. */
  readonly qd?: readonly number[];
}

/** Add seeded Gaussian noise to the state (the same numbers everywhere for the same seed). */
export interface PerturbEvent extends TargetedEvent {
  readonly type: 'perturb';
  /** Standard deviation of the noise added to each q. @default 0 */
  readonly q?: number;
  /** Standard deviation of the noise added to each q̇. @default 0 */
  readonly qd?: number;
  /** Seed of the noise. @default 1 */
  readonly seed?: number;
}

/**
 * With a `target`: hold that system still until a `resume` for it. Without: pause the whole scene — a
 * renderer stops its clock until the user resumes; a headless run just logs it.
 */
export interface PauseEvent extends EventBase {
  readonly type: 'pause';
  /** `id` of the system to hold; the whole scene when omitted. */
  readonly target?: string;
}

/** Release a system held by `pause` (or, without `target`, un-pause the scene). */
export interface ResumeEvent extends EventBase {
  readonly type: 'resume';
  /** `id` of the system to release; the whole scene when omitted. */
  readonly target?: string;
}

/** A labelled moment, for captions and for the run log; changes nothing. */
export interface MarkerEvent extends EventBase {
  readonly type: 'marker';
  /** Text to show. */
  readonly label: string;
}

/** A timed, declarative scene event (plain data, no functions). */
export type SceneEvent = ImpulseEvent | SetStateEvent | PerturbEvent | PauseEvent | ResumeEvent | MarkerEvent;

/** Quantities a recorder can take. */
export type RecordedQuantity = 'q' | 'qd' | 'energy' | 'engineEnergy' | 'positions' | 'work' | 'ledger';

/** Records quantities of one scene system every `every` steps (step 0 included). */
export interface SceneRecorder {
  /** Name of the recording in the run. @default the target's id (made unique) */
  readonly name?: string;
  /** `id` of the scene system recorded. */
  readonly target: string;
  /** Record every k-th step. @default 1 */
  readonly every?: number;
  /** What to record. @default ['q', 'qd', 'energy'] */
  readonly quantities?: readonly RecordedQuantity[];
}

/** A scene as written by its author (see `defineScene`). */
export interface SceneDefinition {
  /** Name of the scene. */
  readonly name: string;
  /** One-paragraph description for galleries. @default '' */
  readonly description?: string;
  /** Fixed step in seconds. */
  readonly dt: number;
  /** Default length of a run in seconds: a whole number of steps. */
  readonly duration: number;
  /** The systems, stepped in this order. */
  readonly systems: readonly SceneSystem[];
  /** Timed events. @default [] */
  readonly events?: readonly SceneEvent[];
  /** Recorders. @default [] */
  readonly recorders?: readonly SceneRecorder[];
  /** Camera for renderers. @default renderer's choice */
  readonly camera?: SceneCamera;
}

/** A validated scene: what `defineScene` returns, every default filled in. */
export interface Scene extends SceneDefinition {
  readonly description: string;
  readonly events: readonly SceneEvent[];
  readonly recorders: readonly (SceneRecorder & {
    readonly name: string;
    readonly every: number;
    readonly quantities: readonly RecordedQuantity[];
  })[];
  /** Marks a validated scene. */
  readonly __scene: 1;
}

/** Recording of one recorder. Arrays are indexed `[T]` records, then `[count]` copies. */
export interface Recording {
  /** Scene system recorded. */
  target: string;
  /** Steps between records. */
  every: number;
  /** Time of each record, `[T]`. */
  t: number[];
  /** Step index of each record, `[T]`. */
  step: number[];
  /** `[T][count][dof]`. */
  q?: number[][][];
  /** `[T][count][dof]`. */
  qd?: number[][][];
  /** True (closed-form) energy, `[T][count]`; null where it is not finite. */
  energy?: (number | null)[][];
  /** The engine's own energy (learned energy), `[T][count]`; null where the engine has none. */
  engineEnergy?: (number | null)[][];
  /** Forward kinematics, `[T][count][pointCount * 3]` (x, y, z per point). */
  positions?: number[][][];
  /** Work W done by the external forces and impulses (`p`, `point`) since t = 0, `[T][count]`. */
  work?: (number | null)[][];
  /** The energy ledger E − E(0) − W, `[T][count]`: zero up to integration error; null where not finite. */
  ledger?: (number | null)[][];
}

/** An event as applied during a run. */
export interface AppliedEvent {
  /** Event type. */
  type: SceneEvent['type'];
  /** Scheduled time (`at`). */
  at: number;
  /** Step boundary where it fired. */
  step: number;
  /** Time of that boundary, step·dt. */
  t: number;
  /** Target system, when the event has one. */
  target?: string;
  /** Marker label. */
  label?: string;
}

/** A copy that produced a non-finite state (or whose engine threw) and was frozen at its last finite state. */
export interface SceneFailure {
  /** Scene system. */
  target: string;
  /** Copy index. */
  index: number;
  /** Step during which it failed (1-based: the step ending at step·dt). */
  step: number;
  /** step·dt. */
  t: number;
  /** What happened. */
  reason: string;
}

/** The result of a run: plain JSON (`three-lnn scene … --out run.json`). */
export interface SceneRun {
  format: 'three-lnn/scene-run';
  version: 1;
  /** Scene name. */
  scene: string;
  dt: number;
  /** Simulated time, steps·dt. */
  duration: number;
  /** Steps taken. */
  steps: number;
  /** The systems as run. */
  systems: {
    id: string;
    system: string;
    params: Record<string, number>;
    engine: string;
    integrator: string;
    count: number;
    dof: number;
    /** The forces declared on the system, when any. */
    forces?: SceneForces;
  }[];
  /** Events applied, in order. */
  events: AppliedEvent[];
  /** Copies frozen after a non-finite state; empty when every copy ran to the end. */
  failures: SceneFailure[];
  /** Recordings by recorder name. */
  recordings: Record<string, Recording>;
}
