import { PerspectiveCamera, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { LNNPhysics, type PhysicsSystem, PointerDrag } from '../plugins/three/index';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { createSystem } from '../src/systems/registry';

/** A stand-in for a canvas: an EventTarget with a style, a size and pointer capture. */
class FakeElement extends EventTarget {
  readonly style = { touchAction: '', cursor: '' };
  captured = new Set<number>();
  getBoundingClientRect() {
    return { left: 0, top: 0, width: 800, height: 600, right: 800, bottom: 600, x: 0, y: 0 };
  }
  setPointerCapture(id: number) {
    this.captured.add(id);
  }
  hasPointerCapture(id: number) {
    return this.captured.has(id);
  }
  releasePointerCapture(id: number) {
    this.captured.delete(id);
  }
}

function pointer(type: string, x: number, y: number, timeStamp: number, pointerId = 1): Event {
  const e = new Event(type, { cancelable: true, bubbles: true });
  Object.assign(e, { clientX: x, clientY: y, pointerId, pointerType: 'mouse', button: 0, buttons: 1 });
  Object.defineProperty(e, 'timeStamp', { value: timeStamp });
  return e;
}

function camera(): PerspectiveCamera {
  const c = new PerspectiveCamera(45, 800 / 600, 0.1, 100);
  c.position.set(0, 0, 6);
  c.lookAt(0, 0, 0);
  c.updateMatrixWorld();
  return c;
}

/** Screen position (px) of a world point. */
function screen(cam: PerspectiveCamera, p: Vector3): [number, number] {
  const v = p.clone().project(cam);
  return [((v.x + 1) / 2) * 800, ((1 - v.y) / 2) * 600];
}

async function setup(q0 = [0, 0]) {
  const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
  const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0, origin: { x: 0, y: 1, z: 0 } });
  const cam = camera();
  const el = new FakeElement();
  const controls = { enabled: true };
  const drag = new PointerDrag(physics, cam, el as unknown as HTMLElement, { controls });
  return { physics, dp, cam, el, controls, drag };
}

describe('PointerDrag: pull a bob toward the pointer with a spring on its exact state', () => {
  it('grabs the nearest moving point, pulls it to the pointer, keeps the energy ledger, lets go', async () => {
    const { physics, dp, cam, el, controls, drag } = await setup();
    const events: string[] = [];
    drag.on('grab', (e) => events.push(`grab ${e.system.name} ${e.copy} ${e.point}`));
    drag.on('release', (e) => events.push(`release ${e.point} ${e.impulse === null ? 'no pluck' : 'pluck'}`));
    const forces: number[][] = [];
    drag.on('force', (e) => forces.push([...e.force]));

    const bob = dp.position(0, 2);
    const [x0, y0] = screen(cam, bob);
    el.dispatchEvent(pointer('pointerdown', x0 + 5, y0 - 3, 0));
    expect(events).toEqual(['grab dp 0 2']);
    expect(controls.enabled, 'orbit controls off while held').toBe(false);
    expect(el.style.touchAction).toBe('none');

    // Pull it 1 right and 0.5 up: the spring settles it near there (gravity pulls it a little below).
    const target = new Vector3(1, -0.5, 0);
    const [tx, ty] = screen(cam, target);
    el.dispatchEvent(pointer('pointermove', tx, ty, 500));
    physics.stepN(360);
    const held = dp.position(0, 2);
    expect(held.distanceTo(target), `bob at ${held.toArray()} near the pointer`).toBeLessThan(0.35);
    expect(held.distanceTo(bob), 'it moved').toBeGreaterThan(0.8);
    expect(forces.length, 'a force set before every step').toBe(360);
    for (const f of forces) expect(Math.hypot(f[0], f[1], f[2])).toBeLessThanOrEqual(60 + 1e-9);
    const W = dp.handle.forces.ledger.work[0];
    expect(W, 'the drag did work').toBeGreaterThan(1);
    expect(Math.abs(dp.handle.ledger(0)), 'E − E0 − W stays ~0 under the drag').toBeLessThan(1e-3 * W);

    // A slow release: no pluck; after the next step boundary no force acts.
    el.dispatchEvent(pointer('pointerup', tx, ty, 2000));
    expect(events.at(-1)).toBe('release 2 no pluck');
    expect(controls.enabled, 'orbit controls back on').toBe(true);
    physics.stepN(1);
    const n = forces.length;
    const q = Float64Array.from(dp.handle.q);
    const qd = Float64Array.from(dp.handle.qd);
    const work = dp.handle.forces.ledger.work[0];
    physics.stepN(60);
    expect(forces.length, 'no force after release').toBe(n);
    expect(dp.handle.forces.ledger.work[0], 'no more work after release').toBeCloseTo(work, 12);
    // The free run from the released state: the same as an unforced exact run from there.
    const free = await LNNPhysics({ fixedTimeStep: 1 / 120 });
    const ref = await free.addSystem('double-pendulum', { q0: q, qd0: qd });
    free.stepN(60);
    for (let i = 0; i < 2; i++) expect(dp.handle.q[i]).toBeCloseTo(ref.handle.q[i], 12);
    expect(Math.hypot(...dp.handle.qd), 'it swings after release').toBeGreaterThan(0.1);
    drag.dispose();
    physics.dispose();
    free.dispose();
  });

  it('a flick plucks: an impulse at the next step boundary, in the ledger', async () => {
    const { physics, dp, cam, el, drag } = await setup();
    const impulses: number[][] = [];
    drag.on('impulse', (e) => impulses.push([...e.impulse]));
    const [x0, y0] = screen(cam, dp.position(0, 2));
    el.dispatchEvent(pointer('pointerdown', x0, y0, 1000));
    // 0.6 world units right in 60 ms: 10 m/s.
    for (let k = 1; k <= 6; k++) {
      const [x, y] = screen(cam, new Vector3(0.1 * k, -1, 0));
      el.dispatchEvent(pointer('pointermove', x, y, 1000 + 10 * k));
    }
    const [x, y] = screen(cam, new Vector3(0.6, -1, 0));
    el.dispatchEvent(pointer('pointerup', x, y, 1060));
    expect(impulses, 'applied at the step boundary, not at once').toEqual([]);
    physics.stepN(1);
    expect(impulses.length).toBe(1);
    expect(impulses[0][0], 'J = pluck · v = 0.4 kg · 10 m/s, clamped to 6 N·s').toBeCloseTo(4, 6);
    expect(dp.handle.qd[0] + dp.handle.qd[1], 'the pendulum swings right').toBeGreaterThan(0.5);
    expect(Math.abs(dp.handle.ledger(0)), 'the ledger holds the impulse').toBeLessThan(1e-6);
    drag.dispose();
    physics.dispose();
  });

  it('refuses an engine that takes no forces (event with the reason, nothing grabbed, orbit left on)', async () => {
    const physics = await LNNPhysics();
    const sys = createSystem('double-pendulum');
    const engine = new AnalyticEngine(sys);
    Object.defineProperty(engine, 'forceSupport', { value: 'this test engine takes no forces' });
    const dp = await physics.addSystem(sys, { name: 'nf', engine, origin: { x: 0, y: 1, z: 0 } });
    const cam = camera();
    const el = new FakeElement();
    const controls = { enabled: true };
    const drag = new PointerDrag(physics, cam, el as unknown as HTMLElement, { controls });
    const seen: string[] = [];
    drag.on('unsupported', (e) => seen.push(`${e.system.name}: ${e.reason}`));
    drag.on('grab', () => seen.push('grab'));
    const [x0, y0] = screen(cam, dp.position(0, 2));
    const down = pointer('pointerdown', x0, y0, 0);
    el.dispatchEvent(down);
    expect(seen).toEqual(['nf: this test engine takes no forces']);
    expect(down.defaultPrevented, 'the press is left to the camera').toBe(false);
    expect(controls.enabled).toBe(true);
    expect(drag.grabbed).toBeNull();
    await expect(physics.addSystem(sys, { name: 'damped', engine, damping: 0.1 })).rejects.toThrow(
      /takes no forces/,
    );
    drag.dispose();
    physics.dispose();
  });

  it('pushes every target with the same force (targets option), from the grabbed one', async () => {
    const physics = await LNNPhysics();
    const a = await physics.addSystem('double-pendulum', { name: 'a', origin: { x: -1.5, y: 1, z: 0 } });
    const b = await physics.addSystem('double-pendulum', {
      name: 'b',
      origin: { x: 1.5, y: 1, z: 0 },
      engine: 'lagrangian',
    });
    const cam = camera();
    const el = new FakeElement();
    const all = [a, b];
    const drag = new PointerDrag(physics, cam, el as unknown as HTMLElement, {
      targets: (g) => all.map((system: PhysicsSystem) => ({ system, copy: g.copy, point: g.point })),
    });
    const byName = new Map<string, number[][]>();
    drag.on('force', (e) => {
      const list = byName.get(e.system.name) ?? [];
      list.push([...e.force]);
      byName.set(e.system.name, list);
    });
    const [x0, y0] = screen(cam, b.position(0, 1));
    el.dispatchEvent(pointer('pointerdown', x0, y0, 0));
    expect(drag.grabbed?.system).toBe(b);
    const [tx, ty] = screen(cam, b.position(0, 1).add(new Vector3(0.5, 0.2, 0)));
    el.dispatchEvent(pointer('pointermove', tx, ty, 100));
    physics.stepN(60);
    expect(byName.get('a')?.length).toBe(60);
    expect(byName.get('a'), 'the same push on both').toEqual(byName.get('b'));
    // Same start, same forces, exact engines: the same motion (relative to each origin).
    for (let i = 0; i < 2; i++) expect(a.handle.q[i]).toBeCloseTo(b.handle.q[i], 9);
    expect(Math.abs(a.handle.q[0]), 'both moved').toBeGreaterThan(0.05);
    drag.dispose();
    const down = pointer('pointerdown', x0, y0, 0);
    el.dispatchEvent(down);
    expect(drag.grabbed, 'disposed: presses ignored').toBeNull();
    physics.dispose();
  });

  it('energyDrift uses the ledger: damping does not fire it', async () => {
    const physics = await LNNPhysics();
    const dp = await physics.addSystem('double-pendulum', { q0: [2, 1], damping: 0.5 });
    const fired: number[] = [];
    physics.on('energyDrift', (e) => fired.push(e.drift));
    physics.stepN(240);
    expect(dp.energy(0), 'damping took energy out').toBeLessThan(dp.handle.energy0[0] - 0.5);
    expect(fired).toEqual([]);
    physics.dispose();
  });
});
