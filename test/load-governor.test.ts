import { describe, expect, it } from 'vitest';
import { LOAD_LEVELS, LoadGovernor } from '../app/loadGovernor';

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

  it('never goes below the floor, and the floor leaves the physics alone', () => {
    const g = new LoadGovernor();
    const levels = feed(g, 200, 120);
    const floor = LOAD_LEVELS.length - 1;
    expect(Math.max(...levels)).toBe(floor);
    expect(g.level.level).toBe(floor);
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
    // Nothing in a level names dt, substeps or anything else the World steps with.
    for (const l of LOAD_LEVELS)
      expect(Object.keys(l).sort()).toEqual(['level', 'name', 'pixelRatioCap', 'plotSeconds', 'trailScale']);
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
