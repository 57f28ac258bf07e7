/**
 * Browser page for test/browser/cannon-knock.test.ts: a cannon-es ball, thrown on an arc whose apex is a
 * resting pendulum bob, knocks the bob (a simple pendulum run by the exact engine through the two-way
 * `attachLagrangian`) and bounces back; three.js draws the scene with strobed ghosts and trails. The
 * simulation runs in fixed steps (10 cannon steps of 1/600 s per 60-fps frame), independent of the page's
 * frame rate, and its figures are published on `window.__cannonKnock`.
 */
import { Body, Sphere, Vec3, World } from 'cannon-es';
import * as THREE from 'three';
import { attachLagrangian, type LagrangianImpact } from '../../plugins/cannon/index';
import { publishPage } from './pages/publish';

/** What the page reports. */
export interface CannonKnockResult {
  backend: string;
  twoWay: boolean;
  impacts: number;
  /** Pendulum angle (rad) just before the first impact, its largest |θ| after, and at the last frame. */
  thetaBefore: number;
  thetaMax: number;
  thetaEnd: number;
  /** Ball horizontal velocity just before and just after the impact (m/s). */
  ballVxBefore: number;
  ballVxAfter: number;
  /** Bob speed l·θ̇ just after the impact (m/s). */
  bobSpeedAfter: number;
  /** 1-D two-body answer for the ball and the bob (m/s), effective mass m along the horizontal. */
  analyticBall: number;
  analyticBob: number;
  /** The coupling's effective mass of the bob along the normal (kg). */
  effectiveMass: number;
  /** Simulated seconds at the impact and at the drawn frame. */
  tImpact: number;
  tEnd: number;
}

declare global {
  interface Window {
    __cannonKnock?: CannonKnockResult | { error: string };
  }
}

const G = 9.8;
const M = 1; // bob mass, kg
const L = 1.2; // rod length, m
const MB = 0.5; // ball mass, kg
const E = 0.9; // restitution
const R = 0.12; // sphere radii, m
const PIVOT = { x: 0, y: 2.2, z: 0 };
const APEX_T = 0.45; // s from the throw to the apex at the bob
const VX = 4; // m/s

async function run(): Promise<CannonKnockResult> {
  const world = new World({ gravity: new Vec3(0, -G, 0) });
  world.defaultContactMaterial.restitution = E;
  world.defaultContactMaterial.friction = 0;
  const bob = new Body({ mass: 1, shape: new Sphere(R) });
  world.addBody(bob);
  // Thrown so that the apex of its arc touches the bob's left side, moving horizontally.
  const bobY = PIVOT.y - L;
  const ball = new Body({
    mass: MB,
    shape: new Sphere(R),
    linearDamping: 0,
    angularDamping: 0,
    position: new Vec3(-2 * R - 0.004 - VX * APEX_T, bobY - 0.5 * G * APEX_T ** 2, 0),
    velocity: new Vec3(VX, G * APEX_T, 0),
  });
  world.addBody(ball);

  let before: { theta: number; vx: number } | null = null;
  let after: { vx: number; bob: number; mEff: number; t: number } | null = null;
  let lastTheta = 0;
  let lastVx = VX;
  world.addEventListener('preStep', () => {
    lastTheta = attached?.q[0] ?? 0;
    lastVx = ball.velocity.x;
  });
  const attached = await attachLagrangian(world, {
    bodies: [bob],
    system: 'simple-pendulum',
    params: { m: M, l: L, g: G },
    origin: PIVOT,
    onImpact: (i: LagrangianImpact) => {
      if (after) return;
      before = { theta: lastTheta, vx: lastVx };
      after = { vx: ball.velocity.x, bob: L * attached.qd[0], mEff: i.effectiveMass, t: attached.time };
    },
  });

  // three.js scene: orthographic view of the x–y plane.
  const stage = document.getElementById('stage')!;
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(1);
  renderer.setSize(960, 540);
  stage.prepend(renderer.domElement);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xf4f1ea);
  const halfW = 2.7;
  const halfH = (halfW * 540) / 960;
  const cx = -0.6;
  const cy = 0.9;
  const camera = new THREE.OrthographicCamera(cx - halfW, cx + halfW, cy + halfH, cy - halfH, 0.1, 20);
  camera.position.set(0, 0, 10);
  scene.add(new THREE.AmbientLight(0xffffff, 1.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.8);
  sun.position.set(-2, 4, 6);
  scene.add(sun);

  const sphere = new THREE.SphereGeometry(R, 32, 16);
  const bobColor = 0x2a6fdb;
  const ballColor = 0xe4572e;
  const solid = (color: number, opacity = 1): THREE.MeshStandardMaterial =>
    new THREE.MeshStandardMaterial({ color, roughness: 0.45, transparent: opacity < 1, opacity });
  const bobMesh = new THREE.Mesh(sphere, solid(bobColor));
  const ballMesh = new THREE.Mesh(sphere, solid(ballColor));
  scene.add(bobMesh, ballMesh);
  const pivot = new THREE.Mesh(new THREE.BoxGeometry(0.5, 0.06, 0.06), solid(0x444444));
  pivot.position.set(PIVOT.x, PIVOT.y + 0.03, 0);
  scene.add(pivot);
  const rodGeometry = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3()]);
  const rod = new THREE.Line(rodGeometry, new THREE.LineBasicMaterial({ color: 0x333333 }));
  scene.add(rod);
  const rest = new THREE.Line(
    new THREE.BufferGeometry().setFromPoints([
      new THREE.Vector3(PIVOT.x, PIVOT.y, 0),
      new THREE.Vector3(PIVOT.x, bobY - 0.3, 0),
    ]),
    new THREE.LineDashedMaterial({ color: 0x999999, dashSize: 0.05, gapSize: 0.04 }),
  );
  rest.computeLineDistances();
  scene.add(rest);
  const ballTrail: THREE.Vector3[] = [];
  const bobTrail: THREE.Vector3[] = [];

  // Fixed-step run: 60-fps frames of 10 cannon steps; a ghost of both bodies every 4 frames.
  const frames = Math.round((APEX_T + 0.55) * 60);
  let thetaMax = 0;
  for (let f = 0; f < frames; f++) {
    for (let s = 0; s < 10; s++) world.step(1 / 600);
    if (after) thetaMax = Math.max(thetaMax, Math.abs(attached.q[0]));
    ballTrail.push(new THREE.Vector3(ball.position.x, ball.position.y, -0.5));
    bobTrail.push(new THREE.Vector3(bob.position.x, bob.position.y, -0.5));
    if (f % 4 === 0) {
      const gBall = new THREE.Mesh(sphere, solid(ballColor, 0.18));
      gBall.position.set(ball.position.x, ball.position.y, -1);
      const gBob = new THREE.Mesh(sphere, solid(bobColor, 0.18));
      gBob.position.set(bob.position.x, bob.position.y, -1);
      scene.add(gBall, gBob);
    }
  }
  const trail = (pts: THREE.Vector3[], color: number): THREE.Line =>
    new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), new THREE.LineBasicMaterial({ color }));
  scene.add(trail(ballTrail, ballColor), trail(bobTrail, bobColor));
  bobMesh.position.set(bob.position.x, bob.position.y, 0);
  ballMesh.position.set(ball.position.x, ball.position.y, 0);
  rodGeometry.setFromPoints([new THREE.Vector3(PIVOT.x, PIVOT.y, 0), bobMesh.position.clone()]);
  renderer.render(scene, camera);

  if (!before || !after) throw new Error('the ball never reached the bob');
  const b = before as { theta: number; vx: number };
  const a = after as { vx: number; bob: number; mEff: number; t: number };
  const analyticBall = ((MB - E * M) / (MB + M)) * b.vx;
  const analyticBob = (((1 + E) * MB) / (MB + M)) * b.vx;
  const deg = (x: number): string => `${((x * 180) / Math.PI).toFixed(1)}°`;
  document.getElementById('legend')!.textContent =
    `cannon-es ball (${MB} kg, e = ${E}) knocks a Lagrangian pendulum (${M} kg, ${L} m), two-way\n` +
    `ball  ${b.vx.toFixed(2)} → ${a.vx.toFixed(3)} m/s   (two-body impulse: ${analyticBall.toFixed(3)})\n` +
    `bob   0 → ${a.bob.toFixed(3)} m/s   (${analyticBob.toFixed(3)}), swings to ${deg(thetaMax)}`;
  renderer.render(scene, camera);
  return {
    backend: 'webgl',
    twoWay: attached.twoWay,
    impacts: attached.impacts,
    thetaBefore: b.theta,
    thetaMax,
    thetaEnd: attached.q[0],
    ballVxBefore: b.vx,
    ballVxAfter: a.vx,
    bobSpeedAfter: a.bob,
    analyticBall,
    analyticBob,
    effectiveMass: a.mEff,
    tImpact: a.t,
    tEnd: attached.time,
  };
}

publishPage(run, (r) => {
  window.__cannonKnock = r;
});
