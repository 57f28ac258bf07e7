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
 *   windows in a row that miss lower the load by one step: the pace when stepping the physics took more
 *   than half of the window's work (and the pace is not at its floor), else the drawing level (down to
 *   its floor, then the pace);
 * - a window has *headroom* when none of its frames is late and the app's mean work per frame is under
 *   half the budget; {@link GovernorOptions.headroomWindows} such windows in a row undo the last lowering
 *   (last lowered, first restored). A step up that is followed by a step down within {@link GovernorOptions.retryMs} doubles the
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

/** One pace: how many fixed steps a frame may take at most. */
export interface Pace {
  /** Index in {@link PACES}: 0 is real time. */
  readonly level: number;
  /** Short name, shown to the user. */
  readonly name: string;
  /**
   * Most fixed steps per frame, or null for the app's own setting (`maxStepsPerFrame`). Steps due beyond
   * it are dropped from the clock (the World's bail-out), so simulated time runs slower than wall time;
   * the steps taken are the same steps.
   */
  readonly stepsPerFrame: number | null;
}

/** The paces, from real time down to the floor. None changes dt, substeps or the integrator. */
export const PACES: readonly Pace[] = [
  { level: 0, name: 'real time', stepsPerFrame: null },
  { level: 1, name: 'slow motion: at most 2 steps per frame', stepsPerFrame: 2 },
  { level: 2, name: 'slow motion: at most 1 step per frame', stepsPerFrame: 1 },
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
  /** The drawing level now. */
  readonly level: LoadLevel;
  /** The pace now. */
  readonly pace: Pace;
  /** Whether this sample changed the level or the pace. */
  readonly changed: boolean;
}

/** Which of the two a step lowered. */
type Axis = 'draw' | 'pace';

/** Lowers the drawing or the pace when frames miss the budget for a while, undoes it when they have headroom. */
export class LoadGovernor {
  private readonly o: Required<GovernorOptions>;
  private index = 0;
  private paceIndex = 0;
  /** The lowerings in effect, oldest first (a step up undoes the last). */
  private readonly lowered: Axis[] = [];
  private winPhysics = 0;
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
  /**
   * Per depth (number of lowerings in effect): how many times more headroom a step up to it needs (after
   * failed step ups).
   */
  private readonly upBackoff = Array.from({ length: LOAD_LEVELS.length + PACES.length }, () => 1);

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

  /** The drawing level now. */
  get level(): LoadLevel {
    return LOAD_LEVELS[this.index];
  }

  /** The pace now. */
  get pace(): Pace {
    return PACES[this.paceIndex];
  }

  /**
   * One frame: `intervalMs` since the previous frame, `workMs` the app spent on it, `physicsMs` the part
   * of that spent stepping the physics. Returns the level and pace after it and whether either changed.
   */
  sample(intervalMs: number, workMs: number, physicsMs = 0): GovernorState {
    if (!(intervalMs >= 0) || intervalMs > this.o.gapMs) {
      this.clearWindow();
      this.misses = 0;
      this.headroom = 0;
      return this.state(false);
    }
    this.clock += intervalMs;
    this.winMs += intervalMs;
    this.winFrames++;
    if (intervalMs > 1.25 * this.o.budgetMs) this.winLate++;
    this.winWork += Math.max(0, workMs);
    this.winPhysics += Math.min(Math.max(0, physicsMs), Math.max(0, workMs));
    if (this.winMs < this.o.windowMs) return this.state(false);
    const late = this.winLate / this.winFrames;
    const meanWork = this.winWork / this.winFrames;
    const physicsBound = this.winPhysics > 0.5 * this.winWork;
    this.clearWindow();
    if (this.skipNext) {
      this.skipNext = false;
      return this.state(false);
    }
    const depth = this.lowered.length;
    if (late > 0.2) {
      this.headroom = 0;
      const canDraw = this.index < LOAD_LEVELS.length - 1;
      const canPace = this.paceIndex < PACES.length - 1;
      if (++this.misses >= this.o.missWindows && (canDraw || canPace)) {
        // A step up that did not hold: the next one to this depth needs more headroom.
        if (this.clock - this.lastUpAt < this.o.retryMs)
          this.upBackoff[depth] = Math.min(16, this.upBackoff[depth] * 2);
        return this.lower((physicsBound && canPace) || !canDraw ? 'pace' : 'draw');
      }
    } else if (late === 0 && meanWork < 0.5 * this.o.budgetMs) {
      this.misses = 0;
      if (depth > 0 && ++this.headroom >= this.o.headroomWindows * this.upBackoff[depth - 1]) {
        this.lastUpAt = this.clock;
        return this.raise();
      }
    } else {
      this.misses = 0;
      this.headroom = 0;
    }
    return this.state(false);
  }

  /** Back to full load and real time, forgetting every window and backoff (e.g. when a test takes the clock). */
  reset(): void {
    this.index = 0;
    this.paceIndex = 0;
    this.lowered.length = 0;
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
    this.winPhysics = 0;
  }

  private lower(axis: Axis): GovernorState {
    if (axis === 'pace') this.paceIndex++;
    else this.index++;
    this.lowered.push(axis);
    return this.changed();
  }

  private raise(): GovernorState {
    if (this.lowered.pop() === 'pace') this.paceIndex--;
    else this.index--;
    return this.changed();
  }

  private changed(): GovernorState {
    this.misses = 0;
    this.headroom = 0;
    this.skipNext = true;
    return this.state(true);
  }

  private state(changed: boolean): GovernorState {
    return { level: this.level, pace: this.pace, changed };
  }
}
