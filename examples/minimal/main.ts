import * as THREE from 'three';
import { shippedModel } from 'three-lnn';
import { LNNPhysics } from 'three-lnn/three';

const renderer = new THREE.WebGLRenderer({ antialias: true });
renderer.setSize(innerWidth, innerHeight);
document.body.append(renderer.domElement);
const scene = new THREE.Scene();
scene.add(new THREE.HemisphereLight(0xffffff, 0x444455, 3));
const camera = new THREE.PerspectiveCamera(45, innerWidth / innerHeight, 0.1, 100);
camera.position.set(0, 0, 6);

// A double pendulum whose accelerations come from a Lagrangian neural network.
const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
const dp = await physics.addSystem('double-pendulum', {
  name: 'dp',
  engine: 'lnn',
  model: shippedModel('double-pendulum-lnn'),
  q0: [2, 1],
  origin: { x: 0, y: 1, z: 0 },
});

// Your meshes follow it: a bob on each mass, a rod on each link (a cylinder 1 long, stretched to fit).
const material = new THREE.MeshStandardMaterial({ color: 0xff8844 });
for (const point of [1, 2]) {
  const bob = new THREE.Mesh(new THREE.SphereGeometry(0.1), material);
  bob.userData.lnn = { system: 'dp', point };
  const rod = new THREE.Mesh(new THREE.CylinderGeometry(0.02, 0.02, 1), material);
  rod.userData.lnn = { system: 'dp', link: [point - 1, point], stretch: true };
  scene.add(bob, rod);
}
physics.addScene(scene);

const timer = new THREE.Timer();
renderer.setAnimationLoop((now) => {
  timer.update(now);
  physics.step(timer.getDelta()); // fixed 1/120-s steps, interpolated for the frame
  renderer.render(scene, camera);
});
Object.assign(window, { physics, dp }); // to look at from the browser console
