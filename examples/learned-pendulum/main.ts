// A double pendulum driven by a Lagrangian neural network, with the exact equations as a ghost beside it.
import * as THREE from 'three';
import { shippedModel } from 'three-lnn';
import { LNNPhysics } from 'three-lnn/three';

/** What the page shows to tests (and to you, in the console: `example`). */
interface Example {
  ready: boolean;
  error: string | null;
  frames: number;
  /** Simulated time, s. */
  t: number;
  /** Angles (θ1, θ2) of the learned and of the exact pendulum, rad. */
  learned: number[];
  exact: number[];
  /** One row per frame for the first second: [t, learned θ1, θ2, exact θ1, θ2]. */
  history: number[][];
}
const example: Example = { ready: false, error: null, frames: 0, t: 0, learned: [], exact: [], history: [] };
Object.assign(window, { example });

const readout = document.querySelector('#readout')!;

/** Errors go on the page, not to the console. */
function fail(error: unknown): void {
  example.error = error instanceof Error ? error.message : String(error);
  const box = document.querySelector<HTMLElement>('#error')!;
  box.textContent = example.error;
  box.hidden = false;
}

try {
  const renderer = new THREE.WebGLRenderer({ antialias: true });
  renderer.setPixelRatio(devicePixelRatio);
  renderer.setSize(innerWidth, innerHeight);
  document.body.append(renderer.domElement);
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight(0xffffff, 0x333344, 3));
  const camera = new THREE.PerspectiveCamera(45, innerWidth / innerHeight, 0.1, 100);
  camera.position.set(0, 0, 5.5);
  addEventListener('resize', () => {
    camera.aspect = innerWidth / innerHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(innerWidth, innerHeight);
  });

  const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
  const learned = await physics.addSystem('double-pendulum', {
    name: 'learned',
    engine: 'lnn',
    model: shippedModel('double-pendulum-lnn'),
    q0: [2, 1],
    origin: { x: 0, y: 1, z: 0 },
  });
  // The exact equations of motion from the same start, drawn translucent behind the learned pendulum.
  const exact = await physics.addGhost(learned, { engine: 'analytic' });
  scene.add(exact.object);
  scene.add(physics.createSystemHelper(learned, { style: 'tube', color: 0x88aaff, radius: 0.025 }));

  // Meshes of your own follow the system through userData.lnn: point 0 is the pivot, 1 and 2 the bobs.
  const material = new THREE.MeshStandardMaterial({ color: 0xff8844 });
  for (const point of [1, 2]) {
    const bob = new THREE.Mesh(new THREE.SphereGeometry(0.1), material);
    bob.userData.lnn = { system: 'learned', point };
    scene.add(bob);
  }
  physics.addScene(scene);

  const timer = new THREE.Timer();
  timer.connect(document);
  example.ready = true;
  renderer.setAnimationLoop(() => {
    try {
      timer.update();
      physics.step(timer.getDelta());
      renderer.render(scene, camera);
      example.frames++;
      example.t = physics.time;
      example.learned = Array.from(learned.handle.q);
      example.exact = Array.from(exact.system.handle.q);
      if (example.t <= 1) example.history.push([example.t, ...example.learned, ...example.exact]);
      const angles = (q: number[]) => q.map((a) => a.toFixed(3).padStart(7)).join(' ');
      readout.textContent =
        `t = ${example.t.toFixed(2)} s\n` +
        `learned θ1 θ2 ${angles(example.learned)}\n` +
        `exact   θ1 θ2 ${angles(example.exact)}`;
    } catch (error) {
      renderer.setAnimationLoop(null);
      fail(error);
    }
  });
} catch (error) {
  fail(error);
}
