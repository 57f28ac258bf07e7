import { describe, expect, it } from 'vitest';
import { LOAD_LEVELS, LoadGovernor, PACES } from '../app/loadGovernor';
import { createSystem } from '../src/systems/registry';
import { World } from '../src/world/World';

const BUDGET = 1000 / 60;

/** Feed `seconds` of frames `intervalMs` apart, each with `workMs` of app work; the levels seen. */
function feed(g: LoadGovernor, intervalMs: number, seconds: number, workMs = 5): number[] {
  const levels: number[] = [];
  const n = Math.round((seconds * 1000) / intervalMs);
  for (let i = 0; i < n; i++) levels.push(g.sample(intervalMs, workMs).level.level);
  return levels;
}

describe('the load governor', () => {
  it('stays at full load while frames keep 60 fps', () => {
    const g = new LoadGovernor();
    expect(new Set(feed(g, BUDGET, 30, 12))).toEqual(new Set([0]));
  });

  it('steps down one level after two seconds of missed frames, not before', () => {
    const g = new LoadGovernor();
    const levels = feed(g, 40, 1.9);
    expect(levels.at(-1), 'still full load before two windows missed').toBe(0);
    feed(g, 40, 0.2);
    expect(g.level.level, 'one step down after two missed windows').toBe(1);
    expect(g.level.pixelRatioCap).toBe(1.5);
  });

  it('does not step down for a single spike (or a few) among on-time frames', () => {
    const g = new LoadGovernor();
    for (let s = 0; s < 20; s++) {
      g.sample(250, 5);
      feed(g, BUDGET, 1);
    }
    expect(g.level.level).toBe(0);
  });

  it('treats a gap (hidden tab, pause) as no frame time', () => {
    const g = new LoadGovernor();
    feed(g, 40, 1.5);
    g.sample(5000, 0);
    feed(g, 40, 1.5);
    expect(g.level.level, 'the gap discarded the half-filled window').toBe(0);
  });

  it('never goes below the floor; drawing first when drawing is the work, then the pace', () => {
    const g = new LoadGovernor();
    const levels = feed(g, 200, 120);
    const floor = LOAD_LEVELS.length - 1;
    expect(Math.max(...levels)).toBe(floor);
    expect(g.level.level).toBe(floor);
    // With the drawing at its floor and frames still missing, the pace goes down to its floor too.
    expect(g.pace.level).toBe(PACES.length - 1);
    expect(g.pace.stepsPerFrame).toBe(1);
    expect(g.level).toEqual({
      level: floor,
      name: expect.any(String),
      pixelRatioCap: 1,
      trailScale: 0.5,
      plotSeconds: 0.5,
    });
    // Levels only ever change by one step at a time.
    for (let i = 1; i < levels.length; i++)
      expect(Math.abs(levels[i] - levels[i - 1])).toBeLessThanOrEqual(1);
    // Nothing in a level names dt, substeps or anything else the World steps with; a pace names only the
    // most steps per frame.
    for (const l of LOAD_LEVELS)
      expect(Object.keys(l).sort()).toEqual(['level', 'name', 'pixelRatioCap', 'plotSeconds', 'trailScale']);
    for (const p of PACES) expect(Object.keys(p).sort()).toEqual(['level', 'name', 'stepsPerFrame']);
  });

  it('lowers the pace first when stepping the physics is most of the work, and undoes the last lowering first', () => {
    const g = new LoadGovernor();
    // 100 ms frames, 60 ms of work of which 50 ms physics: the pace goes down, the drawing stays.
    const n = 25;
    for (let i = 0; i < n; i++) g.sample(100, 60, 50);
    expect(g.pace.level, 'one pace step after two missed windows').toBe(1);
    expect(g.level.level).toBe(0);
    for (let i = 0; i < 30; i++) g.sample(100, 60, 50);
    expect(g.pace.level).toBe(2);
    // At the pace floor, still missing: the drawing goes down.
    for (let i = 0; i < 30; i++) g.sample(100, 60, 50);
    expect(g.level.level).toBe(1);
    // Headroom: the drawing (lowered last) comes back first, then the pace, one step at a time.
    const seen: string[] = [];
    for (let i = 0; i < 60 * 40; i++) {
      const st = g.sample(BUDGET, 3, 1);
      if (st.changed) seen.push(`draw ${st.level.level} pace ${st.pace.level}`);
    }
    expect(seen).toEqual(['draw 0 pace 2', 'draw 0 pace 1', 'draw 0 pace 0']);
  });

  it('a pace changes only how many steps a frame takes: capped at 1 or 2 steps a frame, the World takes the same steps', () => {
    const dp = createSystem('double-pendulum');
    const run = (cap: number, frames: number) => {
      const w = new World();
      w.addSync(dp, { q0: [2, 1], qd0: [0, 0] });
      // 10 fps frames: 12 steps due each, `cap` taken, the rest dropped from the clock.
      for (let f = 0; f < frames; f++) w.step(1 / 120, 0.1, cap);
      return w;
    };
    const capped = run(1, 240);
    const two = run(2, 120);
    const free = run(12, 20);
    expect([capped.stepCount, two.stepCount, free.stepCount]).toEqual([240, 240, 240]);
    expect(capped.droppedSteps, 'slow motion: steps due beyond the cap are dropped').toBe(240 * 11);
    const state = (w: World) => [...w.systems[0].q, ...w.systems[0].qd];
    expect(state(capped), 'bitwise the same trajectory').toEqual(state(free));
    expect(state(two)).toEqual(state(free));
  });

  it('steps back up after five seconds of headroom (hysteresis), and waits longer after a failed step up', () => {
    const g = new LoadGovernor();
    feed(g, 40, 12);
    const low = g.level.level;
    expect(low).toBeGreaterThanOrEqual(2);
    // Headroom: on time, little work. The first window after a change is discarded; after the last step
    // down it was already, so five windows of headroom step up.
    const up = feed(g, BUDGET, 10, 3);
    const at = up.findIndex((l) => l !== low) / 60;
    expect(at, 'seconds of headroom before the step up').toBeGreaterThan(4.5);
    expect(at).toBeLessThan(5.5);
    expect(g.level.level, 'one step up at a time; then the first window after it is discarded').toBe(low - 1);
    // On time but busy (work over half the budget) is not headroom.
    feed(g, BUDGET, 20, 12);
    expect(g.level.level).toBe(low - 1);
    // That level misses again soon after the step up (first window discarded, then two missed): down,
    // and the next step up needs twice the headroom.
    const g2 = new LoadGovernor();
    feed(g2, 40, 12);
    feed(g2, BUDGET, 5.5, 3);
    expect(g2.level.level).toBe(low - 1);
    feed(g2, 40, 3);
    expect(g2.level.level).toBe(low);
    const again = feed(g2, BUDGET, 15, 3);
    const at2 = again.findIndex((l) => l !== low) / 60;
    expect(at2, 'backoff: ten windows (plus the discarded one) before the next step up').toBeGreaterThan(9.5);
    expect(at2).toBeLessThan(11.5);
  });

  it('is deterministic: the same frame times give the same levels', () => {
    const times = Array.from({ length: 3000 }, (_, i) => (Math.sin(i * 0.37) > 0.2 ? 45 : BUDGET));
    const run = () => {
      const g = new LoadGovernor();
      return times.map((t, i) => g.sample(t, i % 7).level.level);
    };
    expect(run()).toEqual(run());
  });

  it('reset() returns to full load', () => {
    const g = new LoadGovernor();
    feed(g, 100, 20);
    expect(g.level.level).toBeGreaterThan(0);
    g.reset();
    expect(g.level.level).toBe(0);
  });
});
