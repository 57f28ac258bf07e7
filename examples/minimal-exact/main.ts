import * as THREE from 'three';
import { LNNPhysics } from 'three-lnn/three';

const renderer = new THREE.WebGLRenderer({ antialias: true });
renderer.setSize(innerWidth, innerHeight);
document.body.append(renderer.domElement);
const scene = new THREE.Scene();
scene.add(new THREE.HemisphereLight(0xffffff, 0x444455, 3));
const camera = new THREE.PerspectiveCamera(45, innerWidth / innerHeight, 0.1, 100);
camera.position.set(0, 0, 6);

// The same double pendulum under its closed-form equations of motion: no model, no TensorFlow.js loaded.
const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
const dp = await physics.addSystem('double-pendulum', {
  name: 'dp',
  engine: 'analytic',
  q0: [2, 1],
  origin: { x: 0, y: 1, z: 0 },
});

const material = new THREE.MeshStandardMaterial({ color: 0x44aaff });
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
  physics.step(timer.getDelta());
  renderer.render(scene, camera);
});
Object.assign(window, { physics, dp }); // to look at from the browser console
