import type { SceneDefinition } from '../src/index.js';
import { engineColors, engineLabels } from './palette.js';
import type { SceneModule } from './types.js';

/** Options of {@link vibratingStringScene}. */
export interface VibratingStringOptions {
  /** Interior nodes. @default 32 */
  nodes?: number;
  /** Initial shape: a pluck at 30% of the length, or standing mode 1, 2 or 3. @default 'pluck' */
  shape?: 'pluck' | 'mode1' | 'mode2' | 'mode3';
  /** Peak displacement. @default 0.12 */
  amplitude?: number;
  /** Length of the run in seconds. @default 20 */
  duration?: number;
}

/** Initial displacement of `n` interior nodes for a shape. */
export function stringShape(n: number, shape: VibratingStringOptions['shape'], amplitude: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const x = (i + 1) / (n + 1);
    if (shape === 'pluck' || shape === undefined) return amplitude * (x < 0.3 ? x / 0.3 : (1 - x) / 0.7);
    const k = Number(shape.slice(4));
    return amplitude * Math.sin(k * Math.PI * x);
  });
}

/**
 * A string with fixed ends (the discretised wave equation) under the exact equations, a learned graph
 * Lagrangian (one small network per edge, trained on a short string, run here on any number of nodes)
 * and a cannon-es rope of spheres and springs.
 */
export function vibratingStringScene(options: VibratingStringOptions = {}): SceneDefinition {
  const nodes = options.nodes ?? 32;
  const q0 = stringShape(nodes, options.shape ?? 'pluck', options.amplitude ?? 0.12);
  const engines: { id: string; model?: string }[] = [
    { id: 'analytic' },
    { id: 'lgn', model: 'assets/models/string-lgn' },
    { id: 'cannon' },
  ];
  return {
    name: 'vibrating-string',
    description: `A plucked string of ${nodes} nodes: exact, learned graph model, cannon-es rope.`,
    dt: 1 / 120,
    duration: options.duration ?? 20,
    systems: engines.map(({ id, model }) => ({
      id,
      system: 'string',
      params: { nodes },
      engine: id,
      ...(model ? { model } : {}),
      integrator: 'rk4' as const,
      q0,
      qd0: new Array(nodes).fill(0),
      view: { color: engineColors[id], label: engineLabels[id], trail: 0 },
    })),
    camera: { position: [-0.9, -0.6, 5], target: [-0.9, -0.6, 0], fov: 45 },
  };
}

export const vibratingString: SceneModule = {
  id: 'vibrating-string',
  title: 'Vibrating string',
  summary:
    'A plucked string with fixed ends: the exact discretised wave equation, a learned graph Lagrangian that runs on any number of nodes, and a cannon-es rope.',
  options: [
    { name: 'nodes', label: 'Nodes', default: 32, min: 8, max: 128, step: 1 },
    {
      name: 'shape',
      label: 'Initial shape',
      default: 'pluck',
      choices: { pluck: 'Pluck at 30%', mode1: 'Mode 1', mode2: 'Mode 2', mode3: 'Mode 3' },
    },
  ],
  build: (o) =>
    vibratingStringScene({ nodes: Number(o.nodes), shape: o.shape as VibratingStringOptions['shape'] }),
  view: (o) => ({
    kind: 'rigs',
    layout: 'side',
    stackVertically: true,
    spacing: 0.55,
    // Centre the string (it runs from x = 0 to (nodes + 1)·Δx, Δx = 0.1).
    offset: [-((Number(o.nodes) + 1) * 0.1) / 2, 0, 0],
    pointRadius: 0.03,
    rodRadius: 0.012,
    trailLength: 0,
    labelY: 0.3,
  }),
  phaseCoordinate: (o) => Math.floor(Number(o.nodes) * 0.3),
  coordinates: Array.from({ length: 128 }, (_, i) => `q${i + 1}`),
  initialStateControls: false,
};
