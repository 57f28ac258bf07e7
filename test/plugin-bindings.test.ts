import { CylinderGeometry, Group, Mesh, type Object3D, Scene, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { BINDING_KEY, LNNPhysics, type MeshBinding } from '../plugins/three/index';
import type { System } from '../src/core/types';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { createIntegrator } from '../src/integrators/registry';
import { createSystem } from '../src/systems/registry';

const H = 1 / 120;

/** Forward kinematics of one double-pendulum state, offset by `origin`, as Vector3 per point. */
function fk(q: ArrayLike<number>, origin = new Vector3()): Vector3[] {
  const out = new Float64Array(9);
  createSystem('double-pendulum').positions(q, out);
  return [0, 1, 2].map((i) => new Vector3(out[3 * i], out[3 * i + 1], out[3 * i + 2]).add(origin));
}

function expectNear(a: Vector3, b: Vector3, tol: number, what: string): void {
  expect(a.distanceTo(b), `${what}: ${a.toArray()} vs ${b.toArray()}`).toBeLessThan(tol);
}

/** The world-space direction of `mesh`'s local `axis` (unit) and the world length of that axis vector. */
function worldAxis(mesh: Object3D, axis: 'x' | 'y' | 'z'): { dir: Vector3; length: number } {
  mesh.updateWorldMatrix(true, false);
  const e = mesh.matrixWorld.elements;
  const k = { x: 0, y: 4, z: 8 }[axis];
  const v = new Vector3(e[k], e[k + 1], e[k + 2]);
  const length = v.length();
  return { dir: v.divideScalar(length), length };
}

/** `dir` (unit) is parallel to, and points the same way as, `to − from`, to `tol`. */
function expectAlong(dir: Vector3, from: Vector3, to: Vector3, tol: number, what: string): void {
  const want = to.clone().sub(from).normalize();
  expect(dir.clone().cross(want).length(), `${what}: |axis × (b − a)/|b − a||`).toBeLessThan(tol);
  expect(dir.dot(want), `${what}: same sense`).toBeGreaterThan(0);
}

describe('link bindings: place, orient and stretch a mesh between two points', () => {
  it('sits at the midpoint, its axis along b − a, stretched to |b − a|, at every interpolated frame', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const origin = new Vector3(1, 2, -3);
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1], qd0: [0, 3], origin });
    const scene = new Scene();
    const rods = [0, 1].map((a) => {
      const rod = new Mesh(new CylinderGeometry(0.02, 0.02, 1));
      rod.scale.set(0.5, 7, 2); // x and z are the user's; y is overwritten by stretch
      rod.userData[BINDING_KEY] = { system: 'dp', link: [a, a + 1], stretch: true } satisfies MeshBinding;
      scene.add(rod);
      return rod;
    });
    expect(physics.addScene(scene), 'both rods bound').toEqual(rods);
    const check = (what: string) => {
      const p = fk(dp.handle.interpolatedQ, origin);
      for (const [a, rod] of rods.entries()) {
        expectNear(
          rod.position,
          p[a]
            .clone()
            .add(p[a + 1])
            .multiplyScalar(0.5),
          1e-12,
          `${what} midpoint`,
        );
        expectAlong(worldAxis(rod, 'y').dir, p[a], p[a + 1], 1e-6, `${what} rod ${a}`);
        expect(rod.scale.y, `${what}: stretched to the distance`).toBeCloseTo(p[a].distanceTo(p[a + 1]), 12);
        expect([rod.scale.x, rod.scale.z], 'the other scale components are left alone').toEqual([0.5, 2]);
      }
    };
    check('initial');
    expect(rods[1].scale.y, 'rod 2 spans l2 = 1').toBeCloseTo(1, 12);
    for (let f = 0; f < 40; f++) {
      physics.step(1 / 47); // not a multiple of the fixed step: alpha ≠ 0 on most frames
      check(`frame ${f}`);
    }
    physics.dispose();
  });

  it('orientation is interpolated like position: after 1.5 fixed steps it is that of the halfway state', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: H });
    const q0 = [1.3, -0.4];
    await physics.addSystem('double-pendulum', { name: 'dp', q0, qd0: [4, -6] });
    const rod = physics.addMesh(new Mesh(), { system: 'dp', link: [1, 2] });
    expect(physics.step(1.5 * H), 'one whole step').toBe(1);
    expect(physics.alpha).toBeCloseTo(0.5, 9);
    // Independent reference: one RK4 step from q0, and the state halfway between.
    const q1 = Float64Array.from(q0);
    const qd1 = Float64Array.from([4, -6]);
    new AnalyticEngine(createSystem('double-pendulum')).step(q1, qd1, 1, H, createIntegrator('rk4'));
    const half = fk([q0[0] + 0.5 * (q1[0] - q0[0]), q0[1] + 0.5 * (q1[1] - q0[1])]);
    const end = fk(q1);
    const { dir } = worldAxis(rod, 'y');
    expectAlong(dir, half[1], half[2], 1e-9, 'halfway orientation');
    const endDir = end[2].clone().sub(end[1]).normalize();
    expect(dir.clone().cross(endDir).length(), 'not the orientation of the latest state').toBeGreaterThan(
      1e-3,
    );
    expectNear(rod.position, half[1].clone().add(half[2]).multiplyScalar(0.5), 1e-12, 'halfway midpoint');
    physics.dispose();
  });

  it('turns the chosen local axis; without stretch the scale is left alone', async () => {
    const physics = await LNNPhysics();
    await physics.addSystem('double-pendulum', { name: 'dp', q0: [0.7, -1.1] });
    const p = fk([0.7, -1.1]);
    for (const axis of ['x', 'y', 'z'] as const) {
      const mesh = physics.addMesh(new Mesh(), { system: 'dp', link: [0, 1], axis });
      expectAlong(worldAxis(mesh, axis).dir, p[0], p[1], 1e-6, `axis ${axis}`);
      expect(mesh.scale.toArray(), 'no stretch: scale untouched').toEqual([1, 1, 1]);
    }
    physics.dispose();
  });

  it('a zero-length segment keeps the last orientation and length; the position still follows', async () => {
    // A double pendulum whose lower bob can be collapsed onto the upper one.
    const dp = createSystem('double-pendulum');
    const exact = dp.positions.bind(dp);
    let collapse = false;
    const collapsible: System = Object.assign(Object.create(dp) as System, {
      positions(q: ArrayLike<number>, out: Float64Array): void {
        exact(q, out);
        if (collapse) for (let k = 0; k < 3; k++) out[6 + k] = out[3 + k];
      },
    });
    const physics = await LNNPhysics();
    const sys = await physics.addSystem(collapsible, { name: 'c', q0: [0.5, 1.2] });
    const rod = physics.addMesh(new Mesh(), { system: sys, link: [1, 2], stretch: true });
    const before = rod.quaternion.clone();
    const lengthBefore = rod.scale.y;
    expect(lengthBefore).toBeCloseTo(1, 12);
    collapse = true;
    physics.update();
    expect(rod.quaternion.equals(before), 'orientation kept').toBe(true);
    expect(rod.scale.y, 'length kept').toBe(lengthBefore);
    expectNear(rod.position, sys.position(0, 1), 1e-12, 'position at the (single) point');
    expect(rod.quaternion.toArray().every(Number.isFinite), 'no NaN').toBe(true);
    collapse = false;
    physics.update();
    expectAlong(worldAxis(rod, 'y').dir, sys.position(0, 1), sys.position(0, 2), 1e-6, 'oriented again');
    physics.dispose();
  });

  it('a mesh first bound to a zero-length segment keeps the orientation it had', async () => {
    const dp = createSystem('double-pendulum');
    const exact = dp.positions.bind(dp);
    const collapsed: System = Object.assign(Object.create(dp) as System, {
      positions(q: ArrayLike<number>, out: Float64Array): void {
        exact(q, out);
        for (let k = 0; k < 3; k++) out[6 + k] = out[3 + k];
      },
    });
    const physics = await LNNPhysics();
    await physics.addSystem(collapsed, { name: 'c' });
    const mesh = new Mesh();
    mesh.rotation.set(0.1, 0.2, 0.3);
    const mine = mesh.quaternion.clone();
    physics.addMesh(mesh, { system: 'c', link: [1, 2], stretch: true });
    expect(mesh.quaternion.equals(mine)).toBe(true);
    expect(mesh.scale.toArray()).toEqual([1, 1, 1]);
    physics.dispose();
  });

  it('inside a transformed group (rotated, scaled) the mesh still spans the points in world space', async () => {
    const physics = await LNNPhysics();
    const origin = new Vector3(0.5, 1, 0);
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [1, 2], origin });
    const scene = new Scene();
    const group = new Group();
    group.position.set(5, -1, 2);
    group.rotation.set(0.3, -0.7, 1.1);
    group.scale.setScalar(2.5);
    scene.add(group);
    const rod = new Mesh();
    rod.userData.lnn = { system: 'dp', link: [1, 2], stretch: true };
    group.add(rod);
    physics.addScene(scene);
    physics.step(1 / 30);
    const a = dp.position(0, 1);
    const b = dp.position(0, 2);
    rod.updateWorldMatrix(true, false);
    expectNear(
      new Vector3().setFromMatrixPosition(rod.matrixWorld),
      a.clone().add(b).multiplyScalar(0.5),
      1e-12,
      'world midpoint',
    );
    const { dir, length } = worldAxis(rod, 'y');
    expectAlong(dir, a, b, 1e-6, 'world axis');
    expect(length, 'world length of the unit-length axis = |b − a|').toBeCloseTo(a.distanceTo(b), 12);
    physics.dispose();
  });

  it('follows the chosen copy of a batch (origin and offsets included)', async () => {
    const physics = await LNNPhysics();
    const dp = await physics.addSystem('double-pendulum', {
      name: 'dp',
      count: 2,
      q0: [0.3, 0.4, -1, 2],
      offsets: [0, 0, 0, 4, 0, 0],
    });
    const rod = physics.addMesh(new Mesh(), { system: dp, link: [0, 2], index: 1, stretch: true });
    const a = dp.position(1, 0);
    const b = dp.position(1, 2);
    expect(a.x, 'copy 1 hangs from x = 4').toBe(4);
    expectNear(rod.position, a.clone().add(b).multiplyScalar(0.5), 1e-12, 'midpoint of copy 1');
    expect(rod.scale.y).toBeCloseTo(a.distanceTo(b), 12);
    physics.dispose();
  });
});

describe('point bindings with alignTo', () => {
  it('sits at the point with its axis toward the other point; without alignTo the rotation is untouched', async () => {
    const physics = await LNNPhysics();
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1] });
    const scene = new Scene();
    const hanging = new Mesh(new CylinderGeometry(0.02, 0.02, 1).translate(0, 0.5, 0));
    hanging.userData.lnn = { system: 'dp', point: 0, alignTo: 1 };
    const facing = new Mesh();
    facing.userData.lnn = { system: 'dp', point: 2, alignTo: 1, axis: 'z' };
    const plain = new Mesh();
    plain.rotation.set(0.4, 0.5, 0.6);
    const mine = plain.quaternion.clone();
    plain.userData.lnn = { system: 'dp', point: 2 };
    scene.add(hanging, facing, plain);
    physics.addScene(scene);
    for (let f = 0; f < 20; f++) {
      physics.step(1 / 45);
      const p = [0, 1, 2].map((k) => dp.position(0, k));
      expectNear(hanging.position, p[0], 1e-12, 'at the pivot');
      expectAlong(worldAxis(hanging, 'y').dir, p[0], p[1], 1e-6, 'rod toward bob 1');
      expect(hanging.scale.toArray(), 'alignTo never scales').toEqual([1, 1, 1]);
      expectNear(facing.position, p[2], 1e-12, 'at bob 2');
      expectAlong(worldAxis(facing, 'z').dir, p[2], p[1], 1e-6, 'z toward bob 1');
      expectNear(plain.position, p[2], 1e-12, 'plain point binding');
      expect(plain.quaternion.equals(mine), 'plain point binding: rotation left alone').toBe(true);
    }
    physics.dispose();
  });
});

describe('addScene binds only three-lnn bindings', () => {
  it('ignores unbound objects and three.js physics-addon data ({ mass }, { mass, restitution })', async () => {
    const physics = await LNNPhysics();
    await physics.addSystem('double-pendulum', { name: 'dp', q0: [2, 1] });
    const scene = new Scene();
    const ball = new Mesh();
    ball.name = 'ball';
    ball.userData.physics = { mass: 1 }; // three's AmmoPhysics / RapierPhysics / JoltPhysics
    ball.position.set(3, 4, 5);
    const floor = new Mesh();
    floor.userData.physics = { mass: 0, restitution: 0.5 };
    const box = new Group();
    box.userData.physics = { mass: 1 };
    const inner = new Mesh();
    inner.userData.physics = { mass: 2 };
    const bob = new Mesh();
    bob.userData.lnn = { system: 'dp', point: 2 };
    inner.add(bob);
    box.add(inner);
    const plain = new Mesh();
    plain.userData.other = 'x';
    const both = new Mesh(); // the same mesh may carry data for both: only userData.lnn is read
    both.userData.physics = { mass: 1 };
    both.userData.lnn = { system: 'dp', link: [0, 1] };
    scene.add(ball, floor, box, plain, both);
    expect(physics.addScene(scene), 'only the objects with userData.lnn').toEqual([bob, both]);
    physics.step(1 / 10);
    expect(ball.position.toArray(), 'an addon mesh is not moved').toEqual([3, 4, 5]);
    expect(floor.position.toArray()).toEqual([0, 0, 0]);
    expect(physics.addScene(new Group()), 'nothing to bind').toEqual([]);
    physics.dispose();
  });

  it('an old userData.physics binding is not read, and addMesh says where bindings moved', async () => {
    const physics = await LNNPhysics();
    await physics.addSystem('double-pendulum', { name: 'dp' });
    const scene = new Scene();
    const old = new Mesh();
    old.name = 'old';
    old.userData.physics = { system: 'dp', point: 2 };
    scene.add(old);
    expect(physics.addScene(scene)).toEqual([]);
    expect(() => physics.addMesh(old)).toThrow(
      "addMesh('old'): no binding given and mesh.userData.lnn is not set, e.g. { system: 'dp', point: 2 } (three-lnn bindings moved from userData.physics to userData.lnn)",
    );
    const ball = new Mesh();
    ball.name = 'ball';
    ball.userData.physics = { mass: 1 };
    expect(() => physics.addMesh(ball)).toThrow(
      /^addMesh\('ball'\): no binding given and mesh\.userData\.lnn is not set, e\.g\. \{ system: 'dp', point: 2 \}$/,
    );
    physics.dispose();
  });
});

describe('malformed bindings: one-line errors naming the mesh and the expected shape', () => {
  const SHAPE =
    '; a binding is { system, point, index?, alignTo?, axis? } or { system, link: [a, b], index?, axis?, stretch? }, got ';
  const cases: [string, unknown, string][] = [
    ['three addon data', { mass: 1 }, 'point or link is missing'],
    ['not an object', 2, 'not an object'],
    ['null', null, 'not an object'],
    ['no system', { point: 1 }, 'binding.system must be a system name or handle'],
    ['a numeric system', { system: 3, point: 1 }, 'binding.system must be a system name or handle'],
    ['point and link', { system: 'dp', point: 1, link: [0, 1] }, 'give point or link, not both'],
    ['a one-point link', { system: 'dp', link: [1] }, 'binding.link must be two point indices [a, b]'],
    [
      'a link that is not an array',
      { system: 'dp', link: 1 },
      'binding.link must be two point indices [a, b]',
    ],
    ['a link to itself', { system: 'dp', link: [1, 1] }, 'binding.link needs two different points'],
    ['alignTo = point', { system: 'dp', point: 1, alignTo: 1 }, 'binding.alignTo must be another point'],
    ['a bad axis', { system: 'dp', link: [0, 1], axis: 'w' }, "binding.axis must be 'x', 'y' or 'z'"],
    [
      'a non-boolean stretch',
      { system: 'dp', link: [0, 1], stretch: 'yes' },
      'binding.stretch must be a boolean',
    ],
    ['stretch on a point binding', { system: 'dp', point: 1, stretch: true }, "unknown field 'stretch'"],
    ['a typo', { system: 'dp', link: [0, 1], strech: true }, "unknown field 'strech' for a link binding"],
  ];
  it.each(cases)('%s', async (_name, binding, problem) => {
    const physics = await LNNPhysics();
    await physics.addSystem('double-pendulum', { name: 'dp' });
    const mesh = new Mesh();
    mesh.name = 'rod';
    let message = '';
    try {
      physics.addMesh(mesh, binding as MeshBinding);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.startsWith(`addMesh('rod'): ${problem}`), message).toBe(true);
    expect(message, 'names the expected shape').toContain(SHAPE);
    expect(message, 'one line').not.toContain('\n');
    expect(message.length, 'short').toBeLessThan(400);
    physics.dispose();
  });

  it('unknown points and copies of a link or alignTo are errors listing what exists; addScene throws too', async () => {
    const physics = await LNNPhysics();
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', count: 2 });
    const mesh = new Mesh();
    mesh.name = 'rod';
    expect(() => physics.addMesh(mesh, { system: 'dp', link: [1, 3] })).toThrow(
      /^addMesh\('rod'\): System 'dp' \(double-pendulum\) has 3 points \(0…2\); got point 3$/,
    );
    expect(() => physics.addMesh(mesh, { system: dp, point: 0, alignTo: -1 })).toThrow(/got point -1/);
    expect(() => physics.addMesh(mesh, { system: dp, link: [0, 1], index: 2 })).toThrow(
      /2 copies.*got index 2/,
    );
    const scene = new Scene();
    const bad = new Mesh();
    bad.name = 'bad';
    bad.userData.lnn = { system: 'dp', link: [0, 0] };
    scene.add(bad);
    expect(() => physics.addScene(scene)).toThrow(
      /^addMesh\('bad'\): binding\.link needs two different points/,
    );
    physics.dispose();
  });

  it('a handle of another physics world is refused', async () => {
    const a = await LNNPhysics();
    const b = await LNNPhysics();
    const other = await b.addSystem('double-pendulum', { name: 'dp' });
    await a.addSystem('double-pendulum', { name: 'dp' });
    expect(() => a.addMesh(new Mesh(), { system: other, point: 1 })).toThrow(/not in this physics world/);
    a.dispose();
    b.dispose();
  });

  it('BINDING_KEY is the userData key', () => {
    expect(BINDING_KEY).toBe('lnn');
  });
});
