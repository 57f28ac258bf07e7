// A learned double pendulum inside a cannon-es world: its two bobs are cannon bodies that the network's
// dynamics drive, and they knock falling boxes about; everything else is cannon's own physics.
import * as CANNON from 'cannon-es';
import * as THREE from 'three';
import { shippedModel } from 'three-lnn';
import { attachLagrangian } from 'three-lnn/cannon';

/** What the page shows to tests (and to you, in the console: `example`). */
interface Example {
  ready: boolean;
  error: string | null;
  frames: number;
  /** Simulated time, s. */
  t: number;
  /** The pendulum's angles (θ1, θ2), rad, and its bobs' positions [x, y, z, x, y, z]. */
  pendulum: number[];
  bobs: number[];
  /** Heights of the boxes' centres: at the start and now. */
  boxesStart: number[];
  boxes: number[];
}
const example: Example = {
  ready: false,
  error: null,
  frames: 0,
  t: 0,
  pendulum: [],
  bobs: [],
  boxesStart: [],
  boxes: [],
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
  camera.position.set(0, 2.5, 9);
  camera.lookAt(0, 1.5, 0);
  addEventListener('resize', () => {
    camera.aspect = innerWidth / innerHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(innerWidth, innerHeight);
  });

  const world = new CANNON.World({ gravity: new CANNON.Vec3(0, -9.8, 0) });
  const ground = new CANNON.Body({ type: CANNON.Body.STATIC, shape: new CANNON.Plane() });
  ground.quaternion.setFromEuler(-Math.PI / 2, 0, 0);
  world.addBody(ground);
  const floor = new THREE.Mesh(
    new THREE.PlaneGeometry(12, 6),
    new THREE.MeshStandardMaterial({ color: 0x333333 }),
  );
  floor.rotation.x = -Math.PI / 2;
  scene.add(floor);

  // Every moving body gets a mesh that copies it each frame.
  const moving: [CANNON.Body, THREE.Mesh][] = [];
  const add = (body: CANNON.Body, geometry: THREE.BufferGeometry, color: THREE.ColorRepresentation) => {
    const mesh = new THREE.Mesh(geometry, new THREE.MeshStandardMaterial({ color }));
    world.addBody(body);
    scene.add(mesh);
    moving.push([body, mesh]);
    return body;
  };
  const bobs = [0, 1].map(() =>
    add(
      new CANNON.Body({ mass: 1, shape: new CANNON.Sphere(0.15) }),
      new THREE.SphereGeometry(0.15),
      0xff8844,
    ),
  );
  const boxes = [-1.6, -0.8, 0, 0.8, 1.6].map((x, i) =>
    add(
      new CANNON.Body({
        mass: 0.2,
        shape: new CANNON.Box(new CANNON.Vec3(0.2, 0.2, 0.2)),
        position: new CANNON.Vec3(x, 4.5 + 0.6 * i, 0),
      }),
      new THREE.BoxGeometry(0.4, 0.4, 0.4),
      0x66aadd,
    ),
  );
  example.boxesStart = boxes.map((b) => b.position.y);

  // The learned double pendulum (pivot 2.5 above the floor) drives the two bobs: they become kinematic,
  // push the boxes through contacts and follow the network's motion, whatever hits them.
  const pivot = { x: 0, y: 2.5, z: 0 };
  const pendulum = await attachLagrangian(world, {
    bodies: bobs,
    system: 'double-pendulum',
    engine: 'lnn',
    model: shippedModel('double-pendulum-lnn'),
    q0: [2, 1],
    origin: pivot,
  });
  const rods = new THREE.Line(
    new THREE.BufferGeometry().setAttribute('position', new THREE.Float32BufferAttribute(9, 3)),
    new THREE.LineBasicMaterial({ color: 0xcccccc }),
  );
  rods.frustumCulled = false; // its points move every frame
  scene.add(rods);

  const timer = new THREE.Timer();
  timer.connect(document);
  example.ready = true;
  renderer.setAnimationLoop(() => {
    try {
      timer.update();
      world.step(1 / 120, timer.getDelta(), 10);
      for (const [body, mesh] of moving) {
        mesh.position.set(body.position.x, body.position.y, body.position.z);
        mesh.quaternion.set(body.quaternion.x, body.quaternion.y, body.quaternion.z, body.quaternion.w);
      }
      const line = rods.geometry.getAttribute('position');
      line.setXYZ(0, pivot.x, pivot.y, pivot.z);
      for (const [i, bob] of bobs.entries())
        line.setXYZ(i + 1, bob.position.x, bob.position.y, bob.position.z);
      line.needsUpdate = true;
      renderer.render(scene, camera);
      example.frames++;
      example.t = pendulum.time;
      example.pendulum = Array.from(pendulum.q);
      example.bobs = bobs.flatMap((b) => [b.position.x, b.position.y, b.position.z]);
      example.boxes = boxes.map((b) => b.position.y);
      readout.textContent =
        `t = ${example.t.toFixed(2)} s   θ1 θ2 ${example.pendulum.map((a) => a.toFixed(3)).join(' ')}\n` +
        `box heights ${example.boxes.map((y) => y.toFixed(2)).join(' ')}`;
    } catch (error) {
      renderer.setAnimationLoop(null);
      fail(error);
    }
  });
} catch (error) {
  fail(error);
}
