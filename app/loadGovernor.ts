/**
 * The app's load governor: pure logic, fed one sample per animation frame (the time since the previous
 * frame and the app's own work in it), answering with a load level. When frames miss the 60 fps budget
 * for a sustained stretch it steps the level down; when frames have headroom for a longer stretch it
 * steps back up. Every level changes only how the run is drawn (pixel ratio, trail points, plot
 * refreshes), never the physics: the World's results depend only on dt and the step count, and no level
 * touches either. The same sequence of samples always gives the same levels (no clock, no randomness).
 *
 * The rules, per window of frames spanning at least {@link GovernorOptions.windowMs} of frame time:
 * - a frame is *late* when it came more than 1.25 frame periods (20.8 ms) after the previous one;
 * - a window *misses* when more than a fifth of its frames are late; {@link GovernorOptions.missWindows}
 *   windows in a row that miss step the level down by one (down to the last level, the floor);
 * - a window has *headroom* when none of its frames is late and the app's mean work per frame is under
 *   half the budget; {@link GovernorOptions.headroomWindows} such windows in a row step the level up by
 *   one. A step up that is followed by a step down within {@link GovernorOptions.retryMs} doubles the
 *   headroom needed for that step up next time (up to 16×), so a device that cannot hold a level does
 *   not oscillate around it;
 * - any other window resets both runs;
 * - a frame interval over {@link GovernorOptions.gapMs} (a hidden tab, a debugger pause, a scene being
 *   opened) is not a frame time: it discards the window being filled and both runs;
 * - the first window after any change of level is discarded (the change itself costs a frame).
 */

/** One load level: what the app draws at it. */
export interface LoadLevel {
  /** Index in {@link LOAD_LEVELS}: 0 is full load. */
  readonly level: number;
  /** Short name, shown to the user. */
  readonly name: string;
  /** The renderer's pixel ratio is at most this (the device's own ratio is also capped at 2). */
  readonly pixelRatioCap: number;
  /** Share of each trail's points drawn (the newest ones). */
  readonly trailScale: number;
  /** Seconds between plot redraws. */
  readonly plotSeconds: number;
}

/** The levels, from full load down to the floor. None changes dt, substeps or anything the physics sees. */
export const LOAD_LEVELS: readonly LoadLevel[] = [
  { level: 0, name: 'full', pixelRatioCap: 2, trailScale: 1, plotSeconds: 0.12 },
  { level: 1, name: 'pixel ratio 1.5', pixelRatioCap: 1.5, trailScale: 1, plotSeconds: 0.12 },
  { level: 2, name: 'pixel ratio 1', pixelRatioCap: 1, trailScale: 1, plotSeconds: 0.12 },
  { level: 3, name: 'pixel ratio 1, half trails', pixelRatioCap: 1, trailScale: 0.5, plotSeconds: 0.12 },
  {
    level: 4,
    name: 'pixel ratio 1, half trails, plots 2/s',
    pixelRatioCap: 1,
    trailScale: 0.5,
    plotSeconds: 0.5,
  },
];

/** Tuning of {@link LoadGovernor}. */
export interface GovernorOptions {
  /** Frame budget, ms. @default 1000 / 60 */
  budgetMs?: number;
  /** Least frame time a window spans, ms. @default 1000 */
  windowMs?: number;
  /** Windows in a row that miss before a step down. @default 2 */
  missWindows?: number;
  /** Windows in a row with headroom before a step up. @default 5 */
  headroomWindows?: number;
  /** A step down this soon after a step up makes the next step up wait twice as long, ms. @default 10000 */
  retryMs?: number;
  /** A frame interval longer than this is a gap, not a frame time, ms. @default 1000 */
  gapMs?: number;
}

/** What {@link LoadGovernor.sample} answers. */
export interface GovernorState {
  /** The level now. */
  readonly level: LoadLevel;
  /** Whether this sample changed the level. */
  readonly changed: boolean;
}

/** Steps the load level down when frames miss the budget for a while, back up when they have headroom. */
export class LoadGovernor {
  private readonly o: Required<GovernorOptions>;
  private index = 0;
  private winMs = 0;
  private winFrames = 0;
  private winLate = 0;
  private winWork = 0;
  private misses = 0;
  private headroom = 0;
  private skipNext = false;
  /** Frame time summed over every sample (the governor's own clock, for the retry rule). */
  private clock = 0;
  private lastUpAt = Number.NEGATIVE_INFINITY;
  /** Per level: how many times more headroom a step up to it needs (after failed step ups). */
  private readonly upBackoff = LOAD_LEVELS.map(() => 1);

  constructor(options: GovernorOptions = {}) {
    this.o = {
      budgetMs: options.budgetMs ?? 1000 / 60,
      windowMs: options.windowMs ?? 1000,
      missWindows: options.missWindows ?? 2,
      headroomWindows: options.headroomWindows ?? 5,
      retryMs: options.retryMs ?? 10_000,
      gapMs: options.gapMs ?? 1000,
    };
  }

  /** The level now. */
  get level(): LoadLevel {
    return LOAD_LEVELS[this.index];
  }

  /**
   * One frame: `intervalMs` since the previous frame, `workMs` the app spent on it.
   * Returns the level after it and whether it changed.
   */
  sample(intervalMs: number, workMs: number): GovernorState {
    if (!(intervalMs >= 0) || intervalMs > this.o.gapMs) {
      this.clearWindow();
      this.misses = 0;
      this.headroom = 0;
      return { level: this.level, changed: false };
    }
    this.clock += intervalMs;
    this.winMs += intervalMs;
    this.winFrames++;
    if (intervalMs > 1.25 * this.o.budgetMs) this.winLate++;
    this.winWork += Math.max(0, workMs);
    if (this.winMs < this.o.windowMs) return { level: this.level, changed: false };
    const late = this.winLate / this.winFrames;
    const meanWork = this.winWork / this.winFrames;
    this.clearWindow();
    if (this.skipNext) {
      this.skipNext = false;
      return { level: this.level, changed: false };
    }
    if (late > 0.2) {
      this.headroom = 0;
      if (++this.misses >= this.o.missWindows && this.index < LOAD_LEVELS.length - 1) {
        // A step up that did not hold: the next one to that level needs more headroom.
        if (this.clock - this.lastUpAt < this.o.retryMs)
          this.upBackoff[this.index] = Math.min(16, this.upBackoff[this.index] * 2);
        return this.moveTo(this.index + 1);
      }
    } else if (late === 0 && meanWork < 0.5 * this.o.budgetMs) {
      this.misses = 0;
      if (this.index > 0 && ++this.headroom >= this.o.headroomWindows * this.upBackoff[this.index - 1]) {
        this.lastUpAt = this.clock;
        return this.moveTo(this.index - 1);
      }
    } else {
      this.misses = 0;
      this.headroom = 0;
    }
    return { level: this.level, changed: false };
  }

  /** Back to full load, forgetting every window and backoff (e.g. when a test takes the clock). */
  reset(): void {
    this.index = 0;
    this.clock = 0;
    this.lastUpAt = Number.NEGATIVE_INFINITY;
    this.upBackoff.fill(1);
    this.misses = 0;
    this.headroom = 0;
    this.skipNext = false;
    this.clearWindow();
  }

  /**
   * Forget the window being filled (a scene is being opened, the clock is the test's): what comes next
   * is a new window. The runs of missed and headroom windows are kept.
   */
  clearWindow(): void {
    this.winMs = 0;
    this.winFrames = 0;
    this.winLate = 0;
    this.winWork = 0;
  }

  private moveTo(index: number): GovernorState {
    this.index = index;
    this.misses = 0;
    this.headroom = 0;
    this.skipNext = true;
    return { level: this.level, changed: true };
  }
}
