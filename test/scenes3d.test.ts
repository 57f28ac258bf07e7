import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../plugins/cannon/index';
import '../src/engines/learned';
import { AMPLITUDE, drumMembrane, drumMembraneScene, drumStart, MEMBRANE_LGN } from '../scenes/drumMembrane';
import { findScene } from '../scenes/index';
import { sphericalField, sphericalFieldScene } from '../scenes/sphericalField';
import { SPHERICAL_LNN, sphericalRide, sphericalRideScene } from '../scenes/sphericalRide';
import { resolveOptions, viewOf } from '../scenes/types';
import { whirlingString, whirlingStringScene, whirlStart } from '../scenes/whirlingString';
import { runScene, type SceneDefinition, type SceneRun } from '../src/scene/index';
import { membraneModeFrequency, membraneModeShape } from '../src/systems/Membrane';
import { createSystem } from '../src/systems/registry';

/** The 3D scenes: what they start in, that each engine keeps their physics, and their CLI runs. */

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'three-lnn.mjs');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-scenes3d-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { maxBuffer: 1 << 28, encoding: 'utf8' },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** The definition with recorders of its own. */
function recording(def: SceneDefinition, recorders: SceneDefinition['recorders']): SceneDefinition {
  return { ...def, recorders };
}

describe('the 3D scenes in the gallery', () => {
  const modules = [sphericalRide, whirlingString, drumMembrane, sphericalField];

  it('are registered, build with their defaults and ask for a 3D view', () => {
    for (const m of modules) {
      expect(findScene(m.id), `${m.id} registered`).toBe(m);
      const opts = resolveOptions(m, {});
      const def = m.build(opts);
      expect(def.systems.length, `${m.id} has systems`).toBeGreaterThan(0);
      const view = viewOf(m, opts);
      const threeD =
        view.kind === 'surface' || view.kind === 'pendulums' || (view.kind === 'rigs' && view.threeD);
      expect(threeD, `${m.id} is drawn in 3D`).toBe(true);
    }
  });

  it('run the shipped learned models: ride and drum by default, the field on its option', () => {
    for (const [m, path, engine, options] of [
      [sphericalRide, SPHERICAL_LNN, 'lnn', {}],
      [drumMembrane, MEMBRANE_LGN, 'lgn', {}],
      [sphericalField, SPHERICAL_LNN, 'lnn', { learned: 'on' }],
    ] as const) {
      expect(existsSync(join(ROOT, path, 'model.json')), `${path} ships`).toBe(true);
      const lanes = m.build(resolveOptions(m, options)).systems;
      const learned = lanes.find((s) => s.engine === engine);
      expect(learned?.model, `${m.id}: the learned lane loads ${path}`).toBe(path);
      expect(m.summary, `${m.id}: the summary names the model`).toContain(path);
    }
    const exactOnly = sphericalField.build(resolveOptions(sphericalField, {})).systems.map((s) => s.engine);
    expect(exactOnly, 'the field runs the exact engine alone by default').toEqual(['analytic']);
  });
});

describe('spherical-ride', () => {
  it('spin 1 is the steady conical pendulum: the bob keeps its height under every engine', async () => {
    const cone = 0.7;
    const def = sphericalRideScene({ cone, spin: 1, duration: 5, learned: false });
    const run = await runScene(def);
    expect(run.failures).toEqual([]);
    const tol: Record<string, number> = { analytic: 1e-7, lagrangian: 1e-7, cannon: 2e-2 };
    for (const [key, rec] of Object.entries(run.recordings)) {
      let worst = 0;
      for (const frame of rec.positions!) worst = Math.max(worst, Math.abs(frame[0][4] + Math.cos(cone)));
      expect(worst, `${key}: |y_bob − (−l cos θ₀)| over 5 s`).toBeLessThan(tol[key]);
    }
  });

  it('the default start precesses in 3D; closed form and Euler–Lagrange agree, cannon-es follows them and keeps energy', async () => {
    const run = await runScene(sphericalRideScene({ duration: 10, learned: false }));
    expect(run.failures).toEqual([]);
    const { analytic, lagrangian, cannon } = run.recordings;
    let zMin = Infinity;
    let zMax = -Infinity;
    let qGap = 0;
    for (let k = 0; k < analytic.t.length; k++) {
      const z = analytic.positions![k][0][5];
      zMin = Math.min(zMin, z);
      zMax = Math.max(zMax, z);
      for (let i = 0; i < 2; i++)
        qGap = Math.max(qGap, Math.abs(analytic.q![k][0][i] - lagrangian.q![k][0][i]));
    }
    expect(zMax - zMin, 'the bob swings out of the x–y plane (z range, l = 1)').toBeGreaterThan(0.8);
    expect(qGap, 'closed form vs Euler–Lagrange, max |Δq| over 10 s').toBeLessThan(1e-9);
    const e0 = analytic.energy![0][0]!;
    const scale = Math.abs(e0);
    const drift = (rec: SceneRun['recordings'][string]) =>
      Math.max(...rec.energy!.map((e) => Math.abs(e[0]! - e0))) / scale;
    console.log(
      `spherical ride, 10 s: z range ${(zMax - zMin).toFixed(3)}, closed form vs Euler–Lagrange ${qGap.toExponential(2)}, energy drift exact ${drift(analytic).toExponential(2)}, cannon-es ${drift(cannon).toExponential(2)}`,
    );
    expect(drift(analytic), 'exact energy drift, RK4 dt = 1/120, 10 s').toBeLessThan(1e-7);
    expect(drift(cannon), 'cannon-es energy drift, 10 s').toBeLessThan(5e-3);
    // Bob positions are recorded from each lane's q (for cannon-es, read back from its bodies).
    let gap = 0;
    analytic.t.forEach((_, k) => {
      for (let i = 3; i < 6; i++)
        gap = Math.max(gap, Math.abs(analytic.positions![k][0][i] - cannon.positions![k][0][i]));
    });
    console.log(
      `spherical ride, cannon-es bob vs exact over 10 s: max distance per axis ${gap.toExponential(2)} (l = 1)`,
    );
    expect(gap, 'cannon-es ball-and-socket follows the exact orbit').toBeLessThan(1e-2);
  });

  it('the learned lane (spherical-lnn) follows the exact orbit and keeps its energy', async () => {
    const def = sphericalRideScene({ duration: 10 });
    const run = await runScene({
      ...def,
      systems: def.systems.filter((x) => x.id === 'analytic' || x.id === 'lnn'),
      recorders: def.recorders!.filter((r) => r.target === 'analytic' || r.target === 'lnn'),
    });
    expect(run.failures).toEqual([]);
    const { analytic, lnn } = run.recordings;
    const e0 = analytic.energy![0][0]!;
    let energy = 0;
    let gap = 0;
    analytic.t.forEach((_, k) => {
      energy = Math.max(energy, Math.abs(lnn.energy![k][0]! - e0) / Math.abs(e0));
      for (let i = 3; i < 6; i++)
        gap = Math.max(gap, Math.abs(analytic.positions![k][0][i] - lnn.positions![k][0][i]));
    });
    console.log(
      `spherical ride, learned lane over 10 s: energy error ${energy.toExponential(2)}, bob vs exact ${gap.toExponential(2)} per axis (l = 1)`,
    );
    expect(energy, 'learned lane: relative energy error over 10 s').toBeLessThan(5e-3);
    expect(gap, 'learned lane: bob distance from the exact one per axis').toBeLessThan(2e-2);
  });
});

describe('whirling-string', () => {
  it('whirls: every node circles at radius A|φ_k(i)| and angle ω_k t (closed form and Euler–Lagrange)', async () => {
    const nodes = 16;
    const A = 0.25;
    for (const mode of [1, 2]) {
      const { omega } = whirlStart(nodes, mode, A);
      const def = recording(whirlingStringScene({ nodes, mode, duration: 5 }), [
        { target: 'analytic', every: 12, quantities: ['q'] },
        { target: 'lagrangian', every: 12, quantities: ['q'] },
      ]);
      const run = await runScene(def);
      for (const key of ['analytic', 'lagrangian']) {
        const rec = run.recordings[key];
        let radiusError = 0;
        let angleError = 0;
        rec.t.forEach((t, k) => {
          const q = rec.q![k][0];
          for (let i = 1; i <= nodes; i++) {
            const phi = Math.sin((mode * Math.PI * i) / (nodes + 1));
            const y = q[2 * (i - 1)];
            const z = q[2 * (i - 1) + 1];
            radiusError = Math.max(radiusError, Math.abs(Math.hypot(y, z) - A * Math.abs(phi)));
            if (Math.abs(phi) > 0.5) {
              const want = omega * t + (phi < 0 ? Math.PI : 0);
              const d = Math.atan2(z, y) - want;
              angleError = Math.max(angleError, Math.abs(Math.atan2(Math.sin(d), Math.cos(d))));
            }
          }
        });
        console.log(
          `whirl mode ${mode}, ${key}, 5 s: radius error ${(radiusError / A).toExponential(2)} × A, phase error ${angleError.toExponential(2)} rad`,
        );
        expect(radiusError, `mode ${mode}, ${key}: radius error over 5 s`).toBeLessThan(1e-6 * A);
        expect(angleError, `mode ${mode}, ${key}: phase error (rad) over 5 s`).toBeLessThan(1e-6);
      }
    }
  });
});

describe('drum-membrane', () => {
  it('the rotating start is q = A(φ₂₁ cos ωt + φ₁₂ sin ωt): the nodal line turns at ω₂₁', async () => {
    const side = 12;
    const A = AMPLITUDE;
    const def = recording(drumMembraneScene({ side, duration: 5, learned: false }), [
      { target: 'analytic', every: 12, quantities: ['q', 'energy'] },
    ]);
    const run = await runScene(def);
    const rec = run.recordings.analytic;
    const omega = membraneModeFrequency(side, side, 2, 1, 0.1, 1);
    const a = membraneModeShape(side, side, 2, 1, new Float64Array(side * side));
    const b = membraneModeShape(side, side, 1, 2, new Float64Array(side * side));
    let worst = 0;
    rec.t.forEach((t, k) => {
      const q = rec.q![k][0];
      for (let i = 0; i < q.length; i++) {
        worst = Math.max(
          worst,
          Math.abs(q[i] - A * (a[i] * Math.cos(omega * t) + b[i] * Math.sin(omega * t))),
        );
      }
    });
    console.log(`drum 12×12 rotating mode, 5 s: max node error ${(worst / A).toExponential(2)} × A`);
    expect(worst, 'max node error vs the closed-form rotating mode over 5 s').toBeLessThan(1e-6 * A);
    const e = rec.energy!.map((x) => x[0]!);
    expect(Math.max(...e.map((x) => Math.abs(x - e[0]))) / e[0], 'energy drift').toBeLessThan(1e-7);
  });

  it('every start keeps the rim at rest and stays within its amplitude scale', () => {
    for (const shape of ['rotating', 'modes', 'pluck'] as const) {
      const side = 10;
      const { q0, qd0 } = drumStart(side, shape, 0.3);
      expect(q0.length).toBe(side * side);
      expect(qd0.length).toBe(side * side);
      const peak = Math.max(...q0.map(Math.abs));
      expect(peak, `${shape}: displaced`).toBeGreaterThan(0.05);
      expect(peak, `${shape}: within 1.6 × the amplitude`).toBeLessThan(0.3 * 1.6);
      // Points include the fixed rim: at the start it is at y = 0.
      const sys = createSystem('membrane', { nx: side, ny: side });
      const pts = new Float64Array(sys.pointCount * 3);
      sys.positions(q0, pts);
      const cols = side + 2;
      for (let j = 0; j < cols; j++) {
        for (const i of [0, cols - 1]) {
          expect(pts[3 * (j * cols + i) + 1], `${shape}: rim node (${i}, ${j})`).toBe(0);
          expect(pts[3 * (i * cols + j) + 1], `${shape}: rim node (${j}, ${i})`).toBe(0);
        }
      }
    }
  });

  it.runIf(existsSync(join(ROOT, MEMBRANE_LGN, 'model.json')))(
    'the learned lane (graph model trained on 4 × 4) runs the 12 × 12 drum near the exact one',
    async () => {
      const def = recording(drumMembraneScene({ side: 12, duration: 5 }), [
        { target: 'analytic', every: 60, quantities: ['q', 'energy'] },
        { target: 'lgn', every: 60, quantities: ['q', 'energy'] },
      ]);
      const run = await runScene(def);
      expect(run.failures).toEqual([]);
      const { analytic, lgn } = run.recordings;
      const e0 = analytic.energy![0][0]!;
      let energy = 0;
      let gap = 0;
      analytic.t.forEach((_, k) => {
        energy = Math.max(energy, Math.abs(lgn.energy![k][0]! - e0) / e0);
        const qa = analytic.q![k][0];
        const ql = lgn.q![k][0];
        for (let i = 0; i < qa.length; i++) gap = Math.max(gap, Math.abs(qa[i] - ql[i]));
      });
      console.log(
        `drum 12×12, learned lane over 5 s: energy error ${energy.toExponential(2)}, max node gap ${(gap / AMPLITUDE).toFixed(3)} × amplitude`,
      );
      expect(energy, 'learned lane: relative energy error over 5 s').toBeLessThan(1e-3);
      expect(
        gap / AMPLITUDE,
        'learned lane: max node gap from the exact run / amplitude over 5 s',
      ).toBeLessThan(0.2);
    },
  );
});

describe('spherical-field', () => {
  it('256 nearby starts in one batch: energies kept, neighbours drift apart', async () => {
    const def = recording(sphericalFieldScene({ duration: 12 }), [
      { target: 'analytic', every: 120, quantities: ['q', 'energy'] },
    ]);
    expect(def.systems[0].count).toBe(256);
    const run = await runScene(def);
    expect(run.failures).toEqual([]);
    const rec = run.recordings.analytic;
    const sys = createSystem('spherical-pendulum');
    const pts = new Float64Array(6);
    // Largest distance between the bobs of grid neighbours (along a row), at a recorded frame.
    const spread = (k: number) => {
      let worst = 0;
      for (let r = 0; r < 16; r++) {
        for (let c = 0; c + 1 < 16; c++) {
          sys.positions(rec.q![k][r * 16 + c], pts);
          const [x, y, z] = [pts[3], pts[4], pts[5]];
          sys.positions(rec.q![k][r * 16 + c + 1], pts);
          worst = Math.max(worst, Math.hypot(pts[3] - x, pts[4] - y, pts[5] - z));
        }
      }
      return worst;
    };
    // Farthest pair of bobs in the whole grid.
    const width = (k: number) => {
      const xs: number[][] = rec.q![k].map((q) => {
        sys.positions(q, pts);
        return [pts[3], pts[4], pts[5]];
      });
      let w = 0;
      for (const a of xs)
        for (const b of xs) w = Math.max(w, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]));
      return w;
    };
    const first = spread(0);
    const last = spread(rec.t.length - 1);
    console.log(
      `spherical field: neighbour gap ${first.toFixed(4)} → ${last.toFixed(4)}, grid width ${width(0).toFixed(3)} → ${width(rec.t.length - 1).toFixed(3)} over 12 s`,
    );
    expect(first, 'neighbours start close (bob distance)').toBeLessThan(0.03);
    // An integrable system: nearby starts part linearly in time (amplitude-dependent period and precession).
    expect(last, 'after 12 s neighbours are 4× farther apart').toBeGreaterThan(4 * first);
    expect(width(rec.t.length - 1), 'after 12 s the grid has spread over the whole reach').toBeGreaterThan(
      1.5 * width(0),
    );
    const e = rec.energy!;
    let drift = 0;
    for (let b = 0; b < 256; b++) {
      for (const frame of e) drift = Math.max(drift, Math.abs(frame[b]! - e[0][b]!) / Math.abs(e[0][b]!));
    }
    expect(drift, 'per-copy energy drift over 12 s').toBeLessThan(1e-6);
  });
});

describe('three-lnn scene on the 3D scene files', () => {
  it.each([
    ['sphericalRide.ts', sphericalRideScene],
    ['whirlingString.ts', whirlingStringScene],
    ['drumMembrane.ts', drumMembraneScene],
    ['sphericalField.ts', sphericalFieldScene],
  ] as const)('%s runs headless with the same numbers as runScene', async (file, build) => {
    const out = join(dir, `${file}.json`);
    const [inProcess, viaCli] = await Promise.all([
      runScene(build(), { duration: 0.5 }),
      cli(['scene', join(ROOT, 'scenes', file), '--duration', '0.5', '--out', out]),
    ]);
    expect(viaCli.code, viaCli.stderr).toBe(0);
    const fromCli = JSON.parse(readFileSync(out, 'utf8')) as SceneRun;
    expect(fromCli.failures, 'no failures').toEqual([]);
    expect(fromCli, 'CLI run equals the in-process run').toEqual(JSON.parse(JSON.stringify(inProcess)));
  });
});
