import {
  type BufferGeometry,
  Group,
  type InstancedMesh,
  type LineSegments,
  type Material,
  Matrix4,
  Mesh,
  type Object3D,
  Scene,
  SphereGeometry,
  Vector3,
} from 'three';
import { describe, expect, it } from 'vitest';
import { LNNPhysics, pointVelocities, TrailLine } from '../plugins/three/index';
import type { Engine } from '../src/core/types';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { createIntegrator } from '../src/integrators/registry';
import { createSystem } from '../src/systems/registry';

const H = 1 / 120;

/** FK of one double-pendulum state, offset by `origin`, as Vector3 per point. */
function fk(q: ArrayLike<number>, origin = new Vector3()): Vector3[] {
  const out = new Float64Array(9);
  createSystem('double-pendulum').positions(q, out);
  return [0, 1, 2].map((i) => new Vector3(out[3 * i], out[3 * i + 1], out[3 * i + 2]).add(origin));
}

function expectNear(a: Vector3, b: Vector3, tol: number, what: string): void {
  expect(a.distanceTo(b), `${what}: ${a.toArray()} vs ${b.toArray()}`).toBeLessThan(tol);
}

/** Every geometry and material under `root`. */
function resources(root: Object3D): Set<BufferGeometry | Material> {
  const out = new Set<BufferGeometry | Material>();
  root.traverse((o) => {
    const m = o as Mesh;
    if (m.geometry) out.add(m.geometry);
    if (m.material) for (const mat of Array.isArray(m.material) ? m.material : [m.material]) out.add(mat);
  });
  return out;
}

describe('LNNPhysics: meshes follow the system', () => {
  it('meshes bound through userData.lnn sit at the forward kinematics of the interpolated state', async () => {
    const physics = await LNNPhysics();
    const origin = new Vector3(1, 2, -3);
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1], origin });
    const scene = new Scene();
    const bobs = [1, 2].map((point) => {
      const m = new Mesh(new SphereGeometry(0.1));
      m.userData.lnn = { system: 'dp', point };
      scene.add(m);
      return m;
    });
    expect(physics.addScene(scene), 'both bobs bound').toHaveLength(2);
    for (const [k, bob] of bobs.entries())
      expectNear(bob.position, fk([2, 1], origin)[k + 1], 1e-12, 'initial');
    for (let f = 0; f < 50; f++) {
      physics.step(1 / 50);
      const expected = fk(dp.handle.interpolatedQ, origin);
      for (const [k, bob] of bobs.entries()) expectNear(bob.position, expected[k + 1], 1e-12, `frame ${f}`);
    }
    // A mesh inside a transformed group gets the position in its parent's frame.
    const group = new Group();
    group.position.set(5, 0, 0);
    scene.add(group);
    const child = new Mesh(new SphereGeometry(0.1));
    group.add(child);
    physics.addMesh(child, { system: dp, point: 2 });
    physics.step(1 / 60);
    child.updateWorldMatrix(true, false);
    expectNear(
      new Vector3().setFromMatrixPosition(child.matrixWorld),
      bobs[1].position,
      1e-12,
      'world position',
    );
    physics.dispose();
  });

  it('interpolates: after 1.5 fixed steps the render state is halfway between the last two states', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const q0 = [1.3, -0.4];
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0 });
    const bob = physics.addMesh(new Mesh(), { system: 'dp', point: 2 });
    expect(physics.step(1.5 * H), 'one whole step taken').toBe(1);
    expect(physics.alpha, 'alpha = leftover / step').toBeCloseTo(0.5, 9);
    // Independent reference: one RK4 step from q0.
    const q1 = Float64Array.from(q0);
    const qd1 = new Float64Array(2);
    new AnalyticEngine(createSystem('double-pendulum')).step(q1, qd1, 1, H, createIntegrator('rk4'));
    const half = [q0[0] + 0.5 * (q1[0] - q0[0]), q0[1] + 0.5 * (q1[1] - q0[1])];
    expectNear(bob.position, fk(half)[2], 1e-12, 'halfway render position');
    expect(Array.from(dp.handle.q), 'the simulation itself is at q1').toEqual(Array.from(q1));
    physics.step(0.5 * H);
    expect(physics.alpha, 'a whole step again: alpha back to 0').toBeLessThan(1e-9);
    physics.dispose();
  });

  it('is frame-rate independent: 30, 60 and 144 fps give identical states after 10 s', async () => {
    const run = async (fps: number) => {
      const physics = await LNNPhysics({ fixedTimeStep: H });
      const dp = await physics.addSystem('double-pendulum', { q0: [2, 1], qd0: [0.5, -1] });
      for (let f = 0; f < 10 * fps; f++) physics.step(1 / fps);
      const state = {
        time: physics.time,
        steps: physics.world.stepCount,
        q: Array.from(dp.handle.q),
        qd: Array.from(dp.handle.qd),
      };
      physics.dispose();
      return state;
    };
    const [a, b, c] = [await run(30), await run(60), await run(144)];
    expect(a.steps, '10 s of 1/120-s steps').toBe(1200);
    expect(b, '60 fps equals 30 fps').toEqual(a);
    expect(c, '144 fps equals 30 fps').toEqual(a);
  });
});

describe('LNNPhysics: clock controls, state and events', () => {
  it('a negative frame time advances nothing (THREE.Timer on its first rAF frame); NaN and Infinity throw', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1] });
    expect(physics.step(-0.004)).toBe(0);
    expect(physics.time).toBe(0);
    expect(Array.from(dp.handle.q)).toEqual([2, 1]);
    expect(physics.step(3 * H + 1e-9)).toBe(3);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => physics.step(bad)).toThrow(/delta must be a finite number of seconds/);
    }
    expect(physics.time).toBeCloseTo(3 * H, 12);
    physics.dispose();
  });

  it('pause, stepN, timeScale, setState, reset, snapshot/restore', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [1, 0.5] });
    const bob = physics.addMesh(new Mesh(), { system: 'dp', point: 2 });
    physics.pause();
    expect(physics.step(1), 'paused: no steps').toBe(0);
    expectNear(bob.position, fk([1, 0.5])[2], 1e-15, 'paused mesh stays');
    physics.stepN(3);
    expect(physics.world.stepCount, 'stepN steps while paused').toBe(3);
    expectNear(bob.position, fk(dp.handle.q)[2], 1e-12, 'after stepN the mesh shows the current state');
    physics.resume();
    physics.timeScale = 0.5;
    expect(physics.step(4 * H), 'half speed: 2 steps for 4 steps of frame time').toBe(2);
    physics.timeScale = 1;
    const snap = physics.snapshot();
    const q = Array.from(dp.handle.q);
    physics.step(0.5);
    physics.restore(JSON.parse(JSON.stringify(snap)));
    expect(Array.from(dp.handle.q), 'restore brings back the exact state').toEqual(q);
    physics.setState('dp', [0.1, 0.2], [0, 0]);
    expectNear(bob.position, fk([0.1, 0.2])[2], 1e-12, 'setState moves the mesh');
    physics.reset();
    expect(Array.from(dp.handle.q), 'reset to q0').toEqual([1, 0.5]);
    expect(physics.time, 'reset of everything restarts the clock').toBe(0);
    physics.dispose();
  });

  it('emits step, energyDrift (once per copy) and invalid events', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: 0.02, energyDriftThreshold: 0.01 });
    // Explicit Euler-like drift: symplectic Euler at a coarse step on a fast state.
    await physics.addSystem('double-pendulum', {
      name: 'coarse',
      q0: [2, 1],
      qd0: [5, -5],
      integrator: 'symplectic-euler',
      count: 2,
    });
    const system = createSystem('double-pendulum');
    const broken: Engine = {
      id: 'broken',
      system,
      accelerations: (_q, _qd, qdd) => qdd.fill(Number.NaN),
      step: (q) => {
        if (q[0] > 1.5) q[0] = Number.NaN;
        else q[0] += 0.5;
      },
      dispose: () => {},
    };
    await physics.addSystem(system, { name: 'broken', engine: broken, q0: [0.9, 0] });
    let steps = 0;
    const drifts: number[] = [];
    const invalid: string[] = [];
    physics.on('step', () => steps++);
    physics.on('energyDrift', (e) => {
      if (e.system.name === 'coarse') drifts.push(e.index);
    });
    physics.on('invalid', (e) => invalid.push(`${e.system.name}#${e.index}`));
    for (let i = 0; i < 200; i++) physics.stepN(1);
    expect(steps, 'one step event per fixed step').toBe(200);
    expect(drifts.sort(), 'each drifting copy reported once').toEqual([0, 1]);
    expect(invalid, 'the NaN-producing engine is reported once and frozen').toEqual(['broken#0']);
    expect(physics.systems.get('broken')!.handle.q[0], 'frozen at its last finite state').toBe(1.9);
    physics.dispose();
  });

  it('resetEnergy() starts the ledger afresh: energyDrift measures from the new E(0), work from 0', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: 0.02, energyDriftThreshold: 0.01 });
    const s = await physics.addSystem('double-pendulum', {
      name: 'coarse',
      q0: [2, 1],
      qd0: [5, -5],
      integrator: 'symplectic-euler',
    });
    s.handle.forces.setDamping(0.3);
    for (let i = 0; i < 50; i++) physics.stepN(1);
    expect(s.handle.forces.ledger.work[0], 'damping did work').toBeLessThan(0);
    s.resetEnergy();
    expect(s.initialEnergy[0], 'E(0) is the energy now').toBe(s.handle.energy(0));
    expect(s.handle.forces.ledger.work[0]).toBe(0);
    expect(s.handle.ledger(0)).toBe(0);
    physics.dispose();
  });

  it('damping given twice (option and forces.damping) is refused', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    await expect(
      physics.addSystem('simple-pendulum', { damping: 0.1, forces: { damping: 0.2 } }),
    ).rejects.toThrow(/damping is given twice/);
    physics.dispose();
  });

  it('emits outOfRange when a learned engine leaves its training box', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const system = createSystem('double-pendulum');
    const inner = new AnalyticEngine(system);
    // A stand-in for a learned engine: the analytic one plus the model metadata's training ranges.
    const learned = Object.assign(Object.create(inner) as AnalyticEngine, {
      model: {
        metadata: {
          kind: 'lnn',
          system: { id: 'double-pendulum' },
          trainingRanges: {
            q: [
              [-Math.PI, Math.PI],
              [-Math.PI, Math.PI],
            ],
            qd: [
              [-3, 3],
              [-3, 3],
            ],
          },
        },
      },
    });
    await physics.addSystem(system, { name: 'learned', engine: learned, q0: [2.5, 0] });
    const events: { coordinate: string; dim: number }[] = [];
    physics.on('outOfRange', (e) => events.push({ coordinate: e.coordinate, dim: e.dim }));
    for (let i = 0; i < 120; i++) physics.stepN(1);
    expect(events.length, 'reported').toBeGreaterThan(0);
    expect(events[0], 'the first velocity to exceed 3 rad/s').toEqual({ coordinate: 'qd', dim: 0 });
    physics.dispose();
  });
});

describe('LNNPhysics: helpers', () => {
  it('createSystemHelper draws the segments as lines and as tubes', async () => {
    const physics = await LNNPhysics();
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [0.7, -0.3] });
    const lines = physics.createSystemHelper(dp);
    const tubes = physics.createSystemHelper(dp, { style: 'tube', radius: 0.02 });
    physics.step(0.1);
    const p = fk(dp.handle.interpolatedQ);
    const arr = (lines.drawable as LineSegments).geometry.getAttribute('position').array;
    expect(arr.length, 'two segments').toBe(12);
    expectNear(new Vector3(arr[9], arr[10], arr[11]), p[2], 1e-6, 'line end = lower bob');
    const m = new Matrix4();
    (tubes.drawable as InstancedMesh).getMatrixAt(1, m);
    expectNear(new Vector3(0, -0.5, 0).applyMatrix4(m), p[1], 1e-6, 'tube start');
    expectNear(new Vector3(0, 0.5, 0).applyMatrix4(m), p[2], 1e-6, 'tube end');
    physics.dispose();
  });

  it('createInstancedBobs: a batch of 1000 copies as one InstancedMesh with per-instance colour', async () => {
    const physics = await LNNPhysics();
    const count = 1000;
    const q0 = Float64Array.from({ length: 2 * count }, (_, i) => 2 + 1e-3 * i);
    const fan = await physics.addSystem('double-pendulum', { name: 'fan', q0, count });
    const bobs = physics.createInstancedBobs(fan, { color: (i) => (i % 2 === 0 ? 'red' : 'blue') });
    expect(bobs.count, 'two moving points per copy').toBe(2 * count);
    expect(bobs.pointIndices, 'the pivot is left out').toEqual([1, 2]);
    expect(bobs.instanceColor, 'per-instance colour').not.toBeNull();
    physics.step(0.05);
    const m = new Matrix4();
    for (const i of [0, 517, 999]) {
      bobs.getMatrixAt(2 * i + 1, m);
      const p = fk(fan.handle.interpolatedQ.subarray(2 * i, 2 * i + 2));
      expectNear(new Vector3().setFromMatrixPosition(m), p[2], 1e-6, `copy ${i} lower bob`);
    }
    physics.dispose();
  });

  it('the debug helper draws trails, velocity arrows and pivots', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const dp = await physics.addSystem('double-pendulum', {
      name: 'dp',
      q0: [1, 1],
      origin: { x: 0, y: 1, z: 0 },
    });
    const debug = physics.createDebugHelper(dp, { trailLength: 16 });
    expect(debug.pivots.length, 'one fixed point: the pivot').toBe(1);
    expectNear(debug.pivots[0].position, new Vector3(0, 1, 0), 1e-12, 'pivot marker');
    expect(debug.arrows.length, 'arrows at the two bobs').toBe(2);
    const tips: Vector3[] = [dp.position(0, 2)];
    for (let f = 0; f < 40; f++) {
      physics.step(1 / 60);
      tips.push(dp.position(0, 2));
    }
    const s = debug.trails[0].samples();
    expect(s.length / 3, 'ring buffer keeps the last 16 samples').toBe(16);
    for (let k = 0; k < 16; k++) {
      const t = tips[tips.length - 16 + k];
      expectNear(new Vector3(s[3 * k], s[3 * k + 1], s[3 * k + 2]), t, 1e-6, `trail sample ${k}`);
    }
    const v = new Float64Array(9);
    pointVelocities(dp.system, dp.handle.interpolatedQ, dp.handle.interpolatedQd, v);
    const dir = new Vector3(v[6], v[7], v[8]).normalize();
    // ArrowHelper points along +y of its local frame.
    const arrowDir = new Vector3(0, 1, 0).applyQuaternion(debug.arrows[1].quaternion);
    expectNear(arrowDir, dir, 1e-6, 'arrow along the velocity');
    physics.pause();
    physics.step(1 / 60);
    expect(debug.trails[0].samples().length / 3, 'paused: trail unchanged').toBe(16);
    physics.dispose();
  });

  it('TrailLine keeps samples in order through many wrap-arounds', () => {
    const trail = new TrailLine(5);
    for (let i = 0; i < 23; i++) trail.push(i, 0, 0);
    expect(Array.from(trail.samples()).filter((_, k) => k % 3 === 0)).toEqual([18, 19, 20, 21, 22]);
    trail.dispose();
  });

  it('a ghost runs the same system under another engine, translucent', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1] });
    physics.step(0.2);
    const ghost = await physics.addGhost(dp, { engine: 'lagrangian', opacity: 0.3 });
    expect(Array.from(ghost.system.handle.q), 'starts from the current state').toEqual(
      Array.from(dp.handle.q),
    );
    for (let f = 0; f < 60; f++) physics.step(1 / 60);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(ghost.system.handle.q[i] - dp.handle.q[i]), 'exact engines agree').toBeLessThan(1e-9);
    }
    for (const r of resources(ghost.object)) {
      if ('opacity' in r) {
        expect(r.transparent, 'ghost materials are transparent').toBe(true);
        expect(r.opacity).toBe(0.3);
      }
    }
    physics.dispose();
  });
});

describe('LNNPhysics: dispose and bad input', () => {
  it('dispose() frees every geometry and material it created and takes its objects out of the scene', async () => {
    const physics = await LNNPhysics();
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1], count: 3 });
    const scene = new Scene();
    scene.add(physics.createSystemHelper(dp, { index: 'all' }));
    scene.add(physics.createSystemHelper(dp, { style: 'tube' }));
    scene.add(physics.createInstancedBobs(dp));
    scene.add(physics.createDebugHelper(dp));
    scene.add((await physics.addGhost(dp)).object);
    const userMesh = new Mesh(new SphereGeometry(0.1));
    scene.add(physics.addMesh(userMesh, { system: 'dp', point: 2 }));
    const created = [...resources(scene)].filter((r) => r !== userMesh.geometry && r !== userMesh.material);
    expect(created.length, 'helpers created geometries and materials').toBeGreaterThan(8);
    const disposed = new Set<unknown>();
    for (const r of created) r.addEventListener('dispose', () => disposed.add(r));
    let instancedDisposed = 0;
    scene.traverse((o) => {
      if ((o as InstancedMesh).isInstancedMesh) o.addEventListener('dispose', () => instancedDisposed++);
    });
    userMesh.geometry.addEventListener('dispose', () => disposed.add('user'));
    physics.dispose();
    expect(
      created.filter((r) => !disposed.has(r)),
      'every created resource disposed',
    ).toEqual([]);
    expect(instancedDisposed, 'instanced meshes disposed (tubes, bobs, ghost bobs)').toBe(3);
    expect(disposed.has('user'), "the user's mesh is not disposed").toBe(false);
    expect(scene.children, 'only the user mesh remains in the scene').toEqual([userMesh]);
    expect(() => physics.step(1 / 60), 'use after dispose is an error').toThrow(/disposed/);
    physics.dispose();
  });

  it('rejects a mesh bound to an unknown system, point or copy with a clear error', async () => {
    const physics = await LNNPhysics();
    await physics.addSystem('double-pendulum', { name: 'dp', count: 2 });
    const mesh = new Mesh();
    mesh.name = 'bob';
    expect(() => physics.addMesh(mesh, { system: 'nope', point: 1 })).toThrow(
      /addMesh\('bob'\): no system named 'nope'. Known systems: dp/,
    );
    expect(() => physics.addMesh(mesh, { system: 'dp', point: 3 })).toThrow(
      /has 3 points \(0…2\); got point 3/,
    );
    expect(() => physics.addMesh(mesh, { system: 'dp', point: 1, index: 2 })).toThrow(
      /2 copies.*got index 2/,
    );
    expect(() => physics.addMesh(mesh)).toThrow(/userData.lnn is not set/);
    const scene = new Scene();
    const stray = new Mesh();
    stray.userData.lnn = { system: 'pendulum-a', point: 2 };
    scene.add(stray);
    expect(() => physics.addScene(scene)).toThrow(/no system named 'pendulum-a'/);
    await expect(physics.addSystem('no-such-system')).rejects.toThrow(/Unknown system 'no-such-system'/);
    await expect(physics.addSystem('double-pendulum', { engine: 'no-such-engine' })).rejects.toThrow(
      /Unknown engine 'no-such-engine'/,
    );
    await expect(physics.addSystem('double-pendulum', { q0: [1, 2, 3] })).rejects.toThrow(
      /q0 must have 2 numbers/,
    );
    await expect(physics.addSystem('double-pendulum', { name: 'dp' })).rejects.toThrow(/already exists/);
    // An engine whose model was trained on another system.
    const wrong = Object.assign(
      Object.create(new AnalyticEngine(createSystem('double-pendulum'))) as AnalyticEngine,
      {
        model: { metadata: { kind: 'lnn', system: { id: 'chain' } } },
      },
    );
    const refused = physics.addSystem('double-pendulum', { engine: wrong });
    await expect(refused).rejects.toThrow(
      /^Model .*: was trained on 'chain', not 'double-pendulum'; load a model trained on 'double-pendulum'/,
    );
    await expect(refused).rejects.toMatchObject({ name: 'ModelFormatError', problem: 'system-mismatch' });
    expect([...physics.systems.keys()], 'failed adds leave nothing behind').toEqual(['dp']);
    expect(physics.world.systems.length).toBe(1);
    physics.dispose();
  });
});
