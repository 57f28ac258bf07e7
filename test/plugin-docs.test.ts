import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Object3D, type Scene, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import type { LNNPhysicsInstance } from '../plugins/three/index';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The code block that follows the `<!-- example: <name>` marker in docs/plugin.md, unmodified. */
function example(name: string): string {
  const md = readFileSync(join(root, 'docs/plugin.md'), 'utf8');
  const at = md.indexOf(`<!-- example: ${name}`);
  expect(at, `docs/plugin.md has the ${name} example marker`).toBeGreaterThan(-1);
  const m = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
  expect(m, 'a ```ts block follows the marker').not.toBeNull();
  return m![1];
}

/** Write `source` under tmp/ (git-ignored), type-check it alone with strict options, and return its path. */
function compile(name: string, source: string): string {
  const dir = join(root, 'tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `plugin-doc-${name}.ts`);
  writeFileSync(file, source);
  const tsc = join(root, 'node_modules/.bin/tsc');
  const args = ['--ignoreConfig', '--noEmit', '--strict', '--target', 'ES2022', '--module', 'ESNext'];
  args.push('--moduleResolution', 'bundler', '--skipLibCheck', '--types', 'node');
  args.push('--allowImportingTsExtensions', '--lib', 'ES2022,DOM', file);
  try {
    execFileSync(tsc, args, { cwd: root, encoding: 'utf8' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`the ${name} example does not type-check:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return file;
}

// What "your app" provides: a scene, a camera and a renderer whose animation loop is driven by a fake
// clock at 60 frames per second (Node has no WebGL and no requestAnimationFrame). Like requestAnimationFrame's,
// its timestamps are on performance.now()'s clock, which THREE.Timer compares them with.
const PRELUDE = `import { PerspectiveCamera, Scene } from 'three';
export const scene = new Scene();
const camera = new PerspectiveCamera();
export const rendered: number[] = [];
const renderer = {
  setAnimationLoop(callback: ((now: number) => void) | null): void {
    const start = performance.now();
    for (let frame = 0; callback && frame < 120; frame++) callback(start + (frame * 1000) / 60);
  },
  render(s: Scene, c: PerspectiveCamera): void {
    if (s === scene && c === camera) rendered.push(s.children.length);
  },
};
`;

describe('docs/plugin.md', () => {
  it('the drop-in example type-checks and runs verbatim (2 s at 60 fps, fake renderer)', async () => {
    const file = compile('drop-in', `${PRELUDE}\n${example('drop-in')}\nexport { physics };\n`);
    const mod = (await import(file)) as { scene: Scene; rendered: number[]; physics: LNNPhysicsInstance };
    expect(mod.rendered.length, 'one render per frame').toBe(120);
    // 119 frame intervals of 1/60 s = 238 fixed steps of 1/120 s.
    expect(mod.physics.world.stepCount, 'fixed steps taken').toBe(238);
    const dp = mod.physics.systems.get('dp')!;
    const bound = mod.scene.children.filter((o: Object3D) => o.userData.lnn !== undefined);
    const bobs = bound.filter((o) => o.userData.lnn.point !== undefined);
    const rods = bound.filter((o) => o.userData.lnn.link !== undefined);
    expect([bobs.length, rods.length], 'two bobs and two rods bound').toEqual([2, 2]);
    for (const bob of bobs) {
      const expected = dp.position(0, bob.userData.lnn.point);
      expect(bob.position.distanceTo(expected), 'bob at the interpolated forward kinematics').toBeLessThan(
        1e-12,
      );
    }
    for (const rod of rods) {
      const [a, b] = rod.userData.lnn.link.map((k: number) => dp.position(0, k));
      expect(
        rod.position.distanceTo(a.clone().add(b).multiplyScalar(0.5)),
        'rod at the midpoint',
      ).toBeLessThan(1e-12);
      const axis = new Vector3(0, 1, 0).applyQuaternion(rod.quaternion);
      expect(axis.cross(b.clone().sub(a).normalize()).length(), 'rod along its link').toBeLessThan(1e-9);
      expect(rod.scale.y, 'rod stretched to the link length (1)').toBeCloseTo(1, 12);
    }
    expect(bobs[1].position.y, 'the pendulum moved from its start').not.toBeCloseTo(
      2 - Math.cos(2) - Math.cos(1),
      3,
    );
    mod.physics.dispose();
  });

  it('the cannon-es example type-checks and runs verbatim', async () => {
    const file = compile('cannon', `${example('cannon')}\nexport { bobs, detach };\n`);
    const mod = (await import(file)) as {
      bobs: import('cannon-es').Body[];
      detach: import('../plugins/cannon/index').LagrangianAttachment;
    };
    expect(mod.detach.time, '600 steps of 1/600 s').toBeCloseTo(1, 12);
    const points = new Float64Array(9);
    mod.detach.system.positions(mod.detach.q, points);
    expect(mod.bobs[1].position.y, 'the lower bob sits where the system is').toBeCloseTo(3 + points[7], 12);
    expect(mod.bobs[1].type, 'detached: dynamic again').toBe(1);
    expect(mod.bobs[1].velocity.length(), 'keeps its velocity').toBeGreaterThan(0);
  });
});
