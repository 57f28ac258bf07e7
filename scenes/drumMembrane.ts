import { membraneModeFrequency, membraneModeShape, type SceneDefinition } from '../src/index.js';
import { engineColors, engineLabels } from './palette.js';
import type { SceneModule } from './types.js';

/** Where the membrane's learned graph Lagrangian ships (trained on a 4 × 4 grid). */
export const MEMBRANE_LGN = 'assets/models/membrane-lgn';

/** Default peak displacement of a mode (see {@link DrumMembraneOptions.amplitude}). */
export const AMPLITUDE = 0.07;

/** How much the surface view exaggerates the displacement (the label says so). */
export const HEIGHT_SCALE = 5;

/** Node spacing h of the scene's membranes (the system's default). */
const H = 0.1;

/** Options of {@link drumMembraneScene}. */
export interface DrumMembraneOptions {
  /** Interior nodes per side (a side × side grid). @default 24 */
  side?: number;
  /**
   * Initial shape: `rotating` — modes (2, 1) and (1, 2) a quarter period apart, a nodal line that turns;
   * `modes` — the sum of modes (1, 1) and (2, 2) from rest; `pluck` — a Gaussian bump off centre from rest.
   * @default 'rotating'
   */
  shape?: 'rotating' | 'modes' | 'pluck';
  /**
   * Peak displacement of each mode (or of the bump). The default keeps every node within the learned
   * model's training box |q| ≤ 0.1. @default 0.07
   */
  amplitude?: number;
  /** Also run the learned graph model (`assets/models/membrane-lgn`). @default true */
  learned?: boolean;
  /** Length of the run in seconds. @default 20 */
  duration?: number;
}

/**
 * Initial state of a side × side membrane (row-major q, docs/membrane.md) for a shape. The rotating start
 * is q = A (φ₂₁ cos ωt + φ₁₂ sin ωt) at t = 0 (ω₂₁ = ω₁₂ on a square grid): q = A φ₂₁, q̇ = A ω φ₁₂.
 */
export function drumStart(
  side: number,
  shape: DrumMembraneOptions['shape'],
  amplitude: number,
): { q0: number[]; qd0: number[] } {
  const n = side * side;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const q0 = new Array<number>(n).fill(0);
  const qd0 = new Array<number>(n).fill(0);
  if (shape === 'pluck') {
    const s = 0.12 * (side + 1);
    for (let l = 0; l < side; l++) {
      for (let i = 0; i < side; i++) {
        // The bump, times a window that is 0 on the fixed boundary.
        const dx = i + 1 - 0.35 * (side + 1);
        const dz = l + 1 - 0.4 * (side + 1);
        const window =
          Math.sin((Math.PI * (i + 1)) / (side + 1)) * Math.sin((Math.PI * (l + 1)) / (side + 1));
        q0[l * side + i] = amplitude * Math.exp(-(dx * dx + dz * dz) / (2 * s * s)) * window;
      }
    }
    return { q0, qd0 };
  }
  if (shape === 'modes') {
    membraneModeShape(side, side, 1, 1, a);
    membraneModeShape(side, side, 2, 2, b);
    for (let k = 0; k < n; k++) q0[k] = amplitude * (a[k] + 0.4 * b[k]);
    return { q0, qd0 };
  }
  const omega = membraneModeFrequency(side, side, 2, 1, H, 1);
  membraneModeShape(side, side, 2, 1, a);
  membraneModeShape(side, side, 1, 2, b);
  for (let k = 0; k < n; k++) {
    q0[k] = amplitude * a[k];
    qd0[k] = amplitude * omega * b[k];
  }
  return { q0, qd0 };
}

/**
 * A drum skin (the `membrane` system: a side × side grid of nodes, fixed rim, the discretised 2D wave
 * equation) under the closed-form equations and the learned graph Lagrangian (one edge network shared by
 * every edge of the grid, trained on 4 × 4 nodes, run here on side × side), each drawn as a lit surface.
 */
export function drumMembraneScene(options: DrumMembraneOptions = {}): SceneDefinition {
  const side = Math.max(2, Math.round(options.side ?? 24));
  const { q0, qd0 } = drumStart(side, options.shape ?? 'rotating', options.amplitude ?? AMPLITUDE);
  const engines: { id: string; model?: string }[] = [
    { id: 'analytic' },
    ...(options.learned === false ? [] : [{ id: 'lgn', model: MEMBRANE_LGN }]),
  ];
  return {
    name: 'drum-membrane',
    description: `A ${side}×${side} drum membrane with a fixed rim.`,
    dt: 1 / 120,
    duration: options.duration ?? 20,
    systems: engines.map(({ id, model }) => ({
      id,
      system: 'membrane',
      params: { nx: side, ny: side, spacing: H },
      engine: id,
      ...(model ? { model } : {}),
      integrator: 'rk4' as const,
      q0,
      qd0,
      view: { color: engineColors[id], label: engineLabels[id], trail: 0 },
    })),
    recorders: engines.map(({ id }) => ({ target: id, every: 12, quantities: ['energy'] as const })),
    // Low over the rim, so the crests and troughs stand out against the far side.
    camera: { position: [2.4, 1.5, 3.6], target: [0, 0, 0], fov: 45 },
  };
}

export const drumMembrane: SceneModule = {
  id: 'drum-membrane',
  title: 'Drum membrane',
  summary:
    'A drum skin of 24×24 nodes with a fixed rim, drawn as lit surfaces deforming in place (heights ×5): the discretised 2D wave equation in closed form next to a graph Lagrangian learned on a 4×4 grid (assets/models/membrane-lgn) and run on the whole drum. Start with a nodal line that turns, two modes, or a pluck.',
  options: [
    { name: 'side', label: 'Nodes per side', default: 24, min: 4, max: 64, step: 1 },
    { name: 'learned', label: 'Learned lane', default: 'on', choices: { on: 'On', off: 'Off' } },
    {
      name: 'shape',
      label: 'Initial shape',
      default: 'rotating',
      choices: { rotating: 'Turning nodal line', modes: 'Modes (1,1) + (2,2)', pluck: 'Pluck' },
    },
  ],
  build: (o) =>
    drumMembraneScene({
      side: Number(o.side),
      shape: o.shape as DrumMembraneOptions['shape'],
      learned: o.learned !== 'off',
    }),
  view: (o) => ({
    kind: 'surface',
    columns: Number(o.side) + 2,
    rows: Number(o.side) + 2,
    spacing: (Number(o.side) + 1) * H + 0.8,
    heightScale: HEIGHT_SCALE,
    // Centre the membrane (its rim runs from 0 to (side + 1)·h along x and z).
    offset: [-((Number(o.side) + 1) * H) / 2, 0, -((Number(o.side) + 1) * H) / 2],
  }),
  coordinates: Array.from({ length: 64 * 64 }, (_, i) => `q${i + 1}`),
  phaseCoordinate: (o) => Math.floor(Number(o.side) / 3) * Number(o.side) + Math.floor(Number(o.side) / 3),
  initialStateControls: false,
};

export default drumMembraneScene();
