import type { SceneDefinition } from '../src/index.js';

/** A user-adjustable option of a scene (shown in the GUI, kept in the URL). */
export interface SceneOption {
  /** Key in the URL and in `build`'s options. */
  readonly name: string;
  /** GUI label. */
  readonly label: string;
  /** Value used when the URL has none. */
  readonly default: number | string;
  /** Slider bounds for numbers. */
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  /** Fixed choices (a dropdown), value → label. */
  readonly choices?: Readonly<Record<string, string>>;
  /** A free text field (e.g. a Lagrangian). @default false */
  readonly text?: boolean;
}

/** Values of a scene's options, by name. */
export type SceneOptionValues = Readonly<Record<string, number | string>>;

/** A grid of batched copies drawn as one InstancedMesh of tiles (the chaos field). */
export interface FieldView {
  readonly kind: 'field';
  /** Tiles per row and column; `columns * rows` must equal the copies of the field's systems. */
  readonly columns: number;
  readonly rows: number;
  /** What colours a tile. */
  readonly colorBy: 'flip' | 'error';
  /** Axis captions (what the grid's x and y mean). */
  readonly xLabel: string;
  readonly yLabel: string;
}

/** Systems drawn as rods and points from their forward kinematics (pendulums, chains, strings, particles). */
export interface RigsView {
  readonly kind: 'rigs';
  /** Lanes next to each other or overlaid as ghosts. @default 'side' */
  readonly layout?: 'side' | 'overlay';
  /** Distance between lanes in the side layout. @default 2.6 */
  readonly spacing?: number;
  /** Lay lanes out along y (rows) instead of x. @default false */
  readonly stackVertically?: boolean;
  /** Added to every lane's origin (e.g. to centre a string that starts at x = 0). @default [0, 0, 0] */
  readonly offset?: readonly [number, number, number];
  /** Radius of the moving points. @default 0.09 */
  readonly pointRadius?: number;
  /** Rod radius. @default 0.025 */
  readonly rodRadius?: number;
  /** Point whose path is traced. @default the last */
  readonly trailPoint?: number;
  /** Trail length in frames (0 hides trails). @default 240 */
  readonly trailLength?: number;
  /** Height of lane labels above each lane's origin. @default 2.35 */
  readonly labelY?: number;
  /** Tick marks along x under each lane, every `step` from `from` to `to` (a ruler for particles). */
  readonly ruler?: { readonly from: number; readonly to: number; readonly step: number };
  /** A vertical marker moving at the speed of light (x = x₀ + c·t, c = 1) across every lane. @default false */
  readonly lightFront?: boolean;
  /**
   * Motion out of the x–y plane: the stage frames the lanes' 3D bounds from the scene camera's direction,
   * lights them with a shadow-casting key light over a ground plane, and rods and bobs cast shadows.
   * @default false (a flat front view)
   */
  readonly threeD?: boolean;
}

/**
 * Systems whose points form a grid (the membrane): each lane drawn as one lit surface whose vertices are
 * the system's points, updated in place every frame, lanes side by side along x.
 */
export interface SurfaceView {
  readonly kind: 'surface';
  /** Points per grid row (along x) and rows (along z); `columns * rows` must be the system's point count. */
  readonly columns: number;
  readonly rows: number;
  /** Distance between lanes along x. */
  readonly spacing: number;
  /** Added to every lane's origin (e.g. to centre a grid that starts at the origin). @default [0, 0, 0] */
  readonly offset?: readonly [number, number, number];
  /** Displacements drawn this many times larger (the lane labels say so). @default 1 */
  readonly heightScale?: number;
}

/**
 * Many copies of a pendulum (a batch) hung from a square grid of pivots in the horizontal plane, drawn as
 * two InstancedMeshes per lane (rods and bobs), lanes side by side along x.
 */
export interface PendulumsView {
  readonly kind: 'pendulums';
  /** Pivots per row (along x) and rows (along z); `columns * rows` must equal the lane's copies. */
  readonly columns: number;
  readonly rows: number;
  /** Distance between neighbouring pivots. */
  readonly pitch: number;
}

/** Views drawn in 3D with the stage's shadows and ground (see {@link RigsView.threeD}). */
export type Scene3DView = SurfaceView | PendulumsView;

/** How the app draws a scene. */
export type SceneViewSpec = RigsView | FieldView | SurfaceView | PendulumsView;

/** The view of `module` for the given option values. */
export function viewOf(module: SceneModule, options: SceneOptionValues): SceneViewSpec {
  return typeof module.view === 'function' ? module.view(options) : module.view;
}

/**
 * A demo scene of the app: a DOM-free scene definition (the same data `three-lnn scene` runs headless)
 * plus how the app draws it and which options it offers.
 */
export interface SceneModule {
  /** URL key, kebab-case. */
  readonly id: string;
  /** Gallery title. */
  readonly title: string;
  /** One or two sentences for the gallery. */
  readonly summary: string;
  /** Options (GUI + URL). @default [] */
  readonly options?: readonly SceneOption[];
  /** The scene for the given option values (missing ones take their defaults). */
  build(options: SceneOptionValues): SceneDefinition;
  /** How the app draws the scene's systems (may depend on the option values). */
  readonly view: SceneViewSpec | ((options: SceneOptionValues) => SceneViewSpec);
  /** Scene system id that divergence is measured against. @default 'analytic' */
  readonly reference?: string;
  /** Names of the coordinates (for the initial-state controls and the phase portrait). */
  readonly coordinates?: readonly string[];
  /** Coordinate shown first in the phase portrait. @default 0 */
  readonly phaseCoordinate?: (options: SceneOptionValues) => number;
  /** Whether the GUI offers per-coordinate initial-state sliders. @default true when dof ≤ 4 */
  readonly initialStateControls?: boolean;
  /** Restart the run automatically after this many simulated seconds. @default none */
  readonly loopAfter?: number;
}

/** Fill in defaults for missing option values. */
export function resolveOptions(
  module: SceneModule,
  values: Readonly<Record<string, number | string | undefined>>,
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const opt of module.options ?? []) {
    const v = values[opt.name];
    if (v === undefined || v === '') out[opt.name] = opt.default;
    else if (typeof opt.default === 'number') {
      const n = Number(v);
      out[opt.name] = Number.isFinite(n) ? clamp(n, opt.min, opt.max) : opt.default;
    } else out[opt.name] = String(v);
  }
  return out;
}

function clamp(x: number, lo = -Infinity, hi = Infinity): number {
  return Math.min(hi, Math.max(lo, x));
}
