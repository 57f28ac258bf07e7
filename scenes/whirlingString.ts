import { createSystem, type SceneDefinition, stringModeFrequencies } from '../src/index.js';
import { engineColors, engineLabels } from './palette.js';
import type { SceneModule } from './types.js';

/** Options of {@link whirlingStringScene}. */
export interface WhirlingStringOptions {
  /** Interior nodes. @default 16 */
  nodes?: number;
  /** Standing mode k that whirls (1 … nodes). @default 1 */
  mode?: number;
  /** Radius of the whirl at the mode's antinodes. @default 0.25 */
  amplitude?: number;
  /** Length of the run in seconds. @default 20 */
  duration?: number;
}

/**
 * A circularly polarised standing mode of the 3D string (`string-3d`, q = [y1, z1, …, yN, zN]):
 * y_i = A φ_k(i) cos ω_k t, z_i = A φ_k(i) sin ω_k t with φ_k(i) = sin(kπi/(N+1)) and ω_k the closed-form
 * mode frequency (`stringModeFrequencies`). At t = 0: y = A φ, z = 0, ẏ = 0, ż = A ω_k φ; every node then
 * circles at constant radius A |φ_k(i)| and angular speed ω_k.
 */
export function whirlStart(
  nodes: number,
  mode: number,
  amplitude: number,
  params: Readonly<Record<string, number>> = {},
): { q0: number[]; qd0: number[]; omega: number } {
  const planar = createSystem('string', { ...params, nodes });
  const omega = stringModeFrequencies(planar)[mode - 1];
  const q0: number[] = [];
  const qd0: number[] = [];
  for (let i = 1; i <= nodes; i++) {
    const phi = Math.sin((mode * Math.PI * i) / (nodes + 1));
    q0.push(amplitude * phi, 0);
    qd0.push(0, amplitude * omega * phi);
  }
  return { q0, qd0, omega };
}

/**
 * The 3D string whirling in a circularly polarised mode under the closed-form equations and the generic
 * exact Euler–Lagrange solver (jets on the system's own L).
 */
export function whirlingStringScene(options: WhirlingStringOptions = {}): SceneDefinition {
  const nodes = options.nodes ?? 16;
  const mode = Math.min(nodes, Math.max(1, Math.round(options.mode ?? 1)));
  const { q0, qd0 } = whirlStart(nodes, mode, options.amplitude ?? 0.25);
  const engines = ['analytic', 'lagrangian'];
  return {
    name: 'whirling-string',
    description: `A ${nodes}-node 3D string whirling in circularly polarised mode ${mode}.`,
    dt: 1 / 120,
    duration: options.duration ?? 20,
    systems: engines.map((id) => ({
      id,
      system: 'string-3d',
      params: { nodes },
      engine: id,
      integrator: 'rk4' as const,
      q0,
      qd0,
      view: { color: engineColors[id], label: engineLabels[id], trail: 240 },
    })),
    recorders: engines.map((id) => ({ target: id, every: 12, quantities: ['q', 'energy'] as const })),
    // From the front right and a little above, so the middle node's circle reads as an ellipse.
    camera: { position: [3.4, 1.3, 3.0], target: [0, 0, 0], fov: 45 },
  };
}

export const whirlingString: SceneModule = {
  id: 'whirling-string',
  title: 'Whirling 3D string',
  summary:
    'A string with two transverse displacements per node, started in a circularly polarised standing mode so it whirls about its axis: closed form vs the generic Euler–Lagrange solver.',
  options: [
    { name: 'nodes', label: 'Nodes', default: 16, min: 4, max: 32, step: 1 },
    { name: 'mode', label: 'Mode', default: 1, min: 1, max: 4, step: 1 },
  ],
  build: (o) => whirlingStringScene({ nodes: Number(o.nodes), mode: Number(o.mode) }),
  view: (o) => ({
    kind: 'rigs',
    layout: 'side',
    stackVertically: true,
    spacing: 0.9,
    // Centre the string (it runs from x = 0 to (nodes + 1)·Δx, Δx = 0.1).
    offset: [-((Number(o.nodes) + 1) * 0.1) / 2, 0, 0],
    pointRadius: 0.035,
    rodRadius: 0.014,
    // The middle node's path: a circle while the mode whirls.
    trailPoint: Math.floor((Number(o.nodes) + 1) / 2),
    trailLength: 240,
    labelY: 0.4,
    threeD: true,
  }),
  phaseCoordinate: (o) => 2 * Math.floor(Number(o.nodes) / 2),
  coordinates: Array.from({ length: 128 }, (_, i) => `${i % 2 === 0 ? 'y' : 'z'}${Math.floor(i / 2) + 1}`),
  initialStateControls: false,
};

export default whirlingStringScene();
