// A plucked string whose motion comes from a learned graph Lagrangian (one small network per edge,
// trained on an 8-node string), drawn as a rope: one cylinder per link, bound to the two nodes it joins.
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
  /** Displacements of the moving nodes: learned, and exact (the ghost). */
  learned: number[];
  exact: number[];
  /** Every node's position [x, y, z, x, y, z, …] as drawn this frame (ends included). */
  points: number[];
  /** The link meshes, link i between nodes i and i + 1. */
  links: THREE.Mesh[];
}
const example: Example = {
  ready: false,
  error: null,
  frames: 0,
  t: 0,
  learned: [],
  exact: [],
  points: [],
  links: [],
};
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
  camera.position.set(0, 0, 2.8);
  addEventListener('resize', () => {
    camera.aspect = innerWidth / innerHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(innerWidth, innerHeight);
  });

  // 24 moving nodes 0.1 apart between two fixed ends, plucked at 30% of the length.
  const nodes = 24;
  const q0 = Array.from({ length: nodes }, (_, i) => {
    const x = (i + 1) / (nodes + 1);
    return 0.15 * (x < 0.3 ? x / 0.3 : (1 - x) / 0.7);
  });
  const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
  const rope = await physics.addSystem('string', {
    name: 'rope',
    engine: 'lgn',
    model: shippedModel('string-lgn'),
    params: { nodes },
    q0,
    origin: { x: -((nodes + 1) * 0.1) / 2, y: 0, z: 0 },
  });
  const exact = await physics.addGhost(rope, { engine: 'analytic', radius: 0.02 });
  scene.add(exact.object);

  // A cylinder 1 long along y, turned onto each link and stretched to its length every frame.
  const geometry = new THREE.CylinderGeometry(0.025, 0.025, 1, 12);
  const material = new THREE.MeshStandardMaterial({ color: 0xd9a25f, roughness: 0.8 });
  for (let i = 0; i <= nodes; i++) {
    const link = new THREE.Mesh(geometry, material);
    link.userData.lnn = { system: 'rope', link: [i, i + 1], stretch: true };
    scene.add(link);
    example.links.push(link);
  }
  physics.addScene(scene);

  const points = new Float64Array(rope.system.pointCount * 3);
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
      example.learned = Array.from(rope.handle.q);
      example.exact = Array.from(exact.system.handle.q);
      example.points = Array.from(rope.points3(0, points));
      const middle = nodes / 2;
      readout.textContent =
        `t = ${example.t.toFixed(2)} s   node ${middle}: ` +
        `learned ${example.learned[middle - 1].toFixed(4)}, exact ${example.exact[middle - 1].toFixed(4)}`;
    } catch (error) {
      renderer.setAnimationLoop(null);
      fail(error);
    }
  });
} catch (error) {
  fail(error);
}
