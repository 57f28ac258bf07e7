import { type SceneDefinition, type System, systemFromExpression } from '../src/index.js';
import { engineColors } from './palette.js';
import type { SceneModule } from './types.js';

/** The default typed Lagrangian: the double pendulum (m = l = 1, g = 9.8), written out. */
export const DEFAULT_LAGRANGIAN = 'qd1^2 + 0.5*qd2^2 + qd1*qd2*cos(q1 - q2) + 2*9.8*cos(q1) + 9.8*cos(q2)';

/** Longest chain the scene draws. */
const MAX_DOF = 8;

/**
 * A system from a Lagrangian typed as text. The text is parsed as a math expression (names q1…qn,
 * qd1…qdn, numbers, + − * / ^ and sin, cos, tan, exp, log, sqrt, tanh) — never evaluated as code, so a
 * shared link cannot run anything. Drawn as a chain of unit links when the coordinates are angles.
 * @throws ExpressionError naming the position of a syntax error
 */
export function typedSystem(text: string, drawAs: 'chain' | 'points' = 'chain'): System {
  const probe = systemFromExpression(text);
  const dof = probe.dof;
  if (dof > MAX_DOF) throw new Error(`L uses ${dof} coordinates; this scene draws at most ${MAX_DOF}.`);
  if (drawAs === 'points')
    return systemFromExpression(text, { id: 'typed-lagrangian', name: 'Typed Lagrangian' });
  return systemFromExpression(text, {
    id: 'typed-lagrangian',
    name: 'Typed Lagrangian',
    angles: new Array(dof).fill(true),
    pointCount: dof + 1,
    segments: Array.from({ length: dof }, (_, i) => [i, i + 1] as const),
    positions: (q, out) => {
      out[0] = out[1] = out[2] = 0;
      for (let i = 0; i < dof; i++) {
        out[3 * (i + 1)] = out[3 * i] + Math.sin(q[i]);
        out[3 * (i + 1) + 1] = out[3 * i + 1] - Math.cos(q[i]);
        out[3 * (i + 1) + 2] = 0;
      }
    },
    // ∂(x, y, z)_k/∂q_j = (cos q_j, sin q_j, 0) for the joints j before point k: a drag can push any bob.
    pointJacobian: (q, point, out) => {
      out.fill(0, 0, 3 * dof);
      for (let j = 0; j < point; j++) {
        out[j] = Math.cos(q[j]);
        out[dof + j] = Math.sin(q[j]);
      }
    },
    energyScale: 10,
  });
}

/**
 * The typed system under the exact Euler–Lagrange solver, next to a copy started 10⁻³ rad away — how
 * fast the two part shows how chaotic the typed Lagrangian is.
 */
export function yourLagrangianScene(
  text = DEFAULT_LAGRANGIAN,
  drawAs: 'chain' | 'points' = 'chain',
): SceneDefinition {
  const system = typedSystem(text, drawAs);
  const dof = system.dof;
  const q0 = Array.from({ length: dof }, (_, i) => (drawAs === 'chain' ? 1.6 - 0.3 * i : 1));
  const q0b = q0.map((v, i) => (i === 0 ? v + 1e-3 : v));
  const qd0 = new Array(dof).fill(0);
  return {
    name: 'your-lagrangian',
    description: `L = ${text}`,
    dt: 1 / 120,
    duration: 30,
    systems: [
      {
        id: 'lagrangian',
        system,
        engine: 'lagrangian',
        q0,
        qd0,
        view: { color: engineColors.lagrangian, label: 'Your L (exact)' },
      },
      {
        id: 'perturbed',
        system,
        engine: 'lagrangian',
        q0: q0b,
        qd0,
        view: { color: '#a78bfa', label: 'Started 10⁻³ away' },
      },
    ],
    camera: { position: [0, -0.2, 9.5], target: [0, -0.2, 0], fov: 45 },
  };
}

export const yourLagrangian: SceneModule = {
  id: 'your-lagrangian',
  title: 'Your Lagrangian',
  summary:
    'Type L(q, q̇) as a formula (q1, qd1, …, sin, cos, ^): it is parsed — never run as code — and its exact equations of motion drive the scene.',
  options: [
    { name: 'L', label: 'L(q, qd) =', default: DEFAULT_LAGRANGIAN, text: true },
    {
      name: 'draw',
      label: 'Draw as',
      default: 'chain',
      choices: { chain: 'Chain of unit links', points: 'Points' },
    },
  ],
  build: (o) => yourLagrangianScene(String(o.L), o.draw === 'points' ? 'points' : 'chain'),
  view: { kind: 'rigs', layout: 'side', spacing: 4.6, labelY: 2.3 },
  reference: 'lagrangian',
};
