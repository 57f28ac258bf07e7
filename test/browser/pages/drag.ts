/**
 * Browser page for test/browser/drag.test.ts: the three.js plugin's `PointerDrag` on an exact double
 * pendulum (a batch of two copies drawn as one InstancedMesh) with OrbitControls, as a user's page has
 * it. No animation loop of its own: the test steps it (`window.__drag.steps(n)`), so runs are exact.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { LNNPhysics, PointerDrag } from '../../../plugins/three';

const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(1);
renderer.setSize(innerWidth, innerHeight);
document.body.prepend(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x111111);
scene.add(new THREE.HemisphereLight(0xffffff, 0x444455, 3));
const camera = new THREE.PerspectiveCamera(45, innerWidth / innerHeight, 0.1, 100);
camera.position.set(0, 0, 6);
const orbit = new OrbitControls(camera, renderer.domElement);

const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
// Two copies at rest, 1.5 apart: one InstancedMesh of bobs draws both.
const dp = await physics.addSystem('double-pendulum', {
  name: 'dp',
  count: 2,
  q0: [0, 0],
  origin: { x: 0, y: 1, z: 0 },
  offsets: [-0.75, 0, 0, 0.75, 0, 0],
});
scene.add(physics.createSystemHelper(dp, { index: 'all', style: 'tube', radius: 0.02, color: 0x88aaff }));
scene.add(physics.createInstancedBobs(dp, { radius: 0.08, color: 0xff8844 }));

const drag = new PointerDrag(physics, camera, renderer.domElement, { controls: orbit });
const events: string[] = [];
drag.on('grab', (e) => events.push(`grab ${e.system.name} copy ${e.copy} point ${e.point}`));
drag.on('release', (e) =>
  events.push(`release ${e.system.name} copy ${e.copy} point ${e.point}${e.impulse ? ' pluck' : ''}`),
);
drag.on('unsupported', (e) => events.push(`unsupported ${e.system.name}: ${e.reason}`));

const render = () => {
  orbit.update();
  renderer.render(scene, camera);
};
render();

/** What the test reads and drives. */
export interface DragPage {
  /** Take `n` fixed steps, then draw. */
  steps(n: number): void;
  /** Client position (px) and world position of point `point` of copy `copy`. */
  screenOf(copy: number, point: number): { x: number; y: number; world: [number, number, number] };
  /** q̇ of every copy. */
  qd(): number[];
  q(): number[];
  /** Events of the drag, in order. */
  events: string[];
  /** Work done on each copy so far, and the energy ledger E − E₀ − W. */
  work(): number[];
  ledger(): number[];
  /** What is held now. */
  held(): { copy: number; point: number } | null;
  orbitEnabled(): boolean;
  camera(): number[];
  dispose(): void;
}

const page: DragPage = {
  steps: (n) => {
    physics.stepN(n);
    render();
  },
  screenOf: (copy, point) => {
    const p = dp.position(copy, point);
    const world = p.toArray() as [number, number, number];
    p.project(camera);
    const r = renderer.domElement.getBoundingClientRect();
    return { x: r.left + ((p.x + 1) / 2) * r.width, y: r.top + ((1 - p.y) / 2) * r.height, world };
  },
  qd: () => Array.from(dp.handle.qd),
  q: () => Array.from(dp.handle.q),
  events,
  work: () => Array.from(dp.handle.forces.ledger.work),
  ledger: () => [dp.handle.ledger(0), dp.handle.ledger(1)],
  held: () => (drag.grabbed ? { copy: drag.grabbed.copy, point: drag.grabbed.point } : null),
  orbitEnabled: () => orbit.enabled,
  camera: () => camera.position.toArray(),
  dispose: () => {
    drag.dispose();
    physics.dispose();
  },
};
Object.assign(window, { __drag: page });
document.getElementById('out')!.textContent = 'ready';
