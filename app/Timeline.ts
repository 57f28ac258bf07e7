import { download, type RunInfo, runToCsv, runToJson } from './exportRun.js';
import type { Lane } from './Lane.js';
import type { Simulation } from './Simulation.js';

/** What the timeline works on, and asks of the app. */
export interface TimelineHost {
  /** The running simulation (replaced when a scene opens). */
  readonly sim: Simulation;
  readonly lanes: readonly Lane[];
  /** Restart the run from its initial state. */
  restart(): Promise<void>;
  /** Forget the drawn trails (the view jumps in time). */
  clearTrails(): void;
  /** Re-read the clock into the controls (play/pause label). */
  refreshControls(): void;
  /** What an export writes besides the recording (scene, settings, routes, link). */
  runInfo(): RunInfo;
  /** Name of an exported file, without extension. */
  exportName(): string;
}

/**
 * The footer: play / pause, one step, reset, the scrub bar over the recording (replay, and branching the
 * run from a replayed moment), the time label and the CSV / JSON export.
 */
export class Timeline {
  /** Index of the recorded sample shown while scrubbing, or −1 when live. */
  private replayIndex = -1;

  constructor(
    private readonly el: HTMLElement,
    private readonly host: TimelineHost,
  ) {
    // Icon buttons carry a caption too: shown on touch screens, where there is no hover tooltip.
    el.innerHTML = `
      <button class="btn icon" data-act="reset" title="Reset to the initial state" aria-label="Reset"><span class="ic">⟲</span><span class="cap">Reset</span></button>
      <button class="btn icon" data-act="play" title="Play / pause" aria-label="Pause"><span class="ic">❚❚</span><span class="cap">Pause</span></button>
      <button class="btn icon" data-act="step" title="One step" aria-label="Step"><span class="ic">⇥</span><span class="cap">Step</span></button>
      <span class="rec" title="Every step is recorded"><i></i>REC</span>
      <input type="range" class="scrub" min="0" max="0" step="1" value="0" aria-label="Timeline" />
      <span class="time">t = 0.00 s</span>
      <button class="btn" data-act="live" hidden>Back to live</button>
      <span class="spacer"></span>
      <button class="btn" data-act="csv" title="Download the recorded run as CSV">CSV</button>
      <button class="btn" data-act="json" title="Download the recorded run as JSON">JSON</button>`;
    const q = (sel: string) => el.querySelector(sel) as HTMLElement;
    q('[data-act=reset]').addEventListener('click', () => void this.host.restart());
    q('[data-act=play]').addEventListener('click', () => this.togglePlay());
    q('[data-act=step]').addEventListener('click', () => this.stepOnce());
    q('[data-act=live]').addEventListener('click', () => this.goLive());
    q('[data-act=csv]').addEventListener('click', () => this.download('csv'));
    q('[data-act=json]').addEventListener('click', () => this.download('json'));
    const scrub = q('.scrub') as HTMLInputElement;
    // Keyboard and the slider's own handling.
    scrub.addEventListener('input', () => this.scrubTo(Number(scrub.value)));
    // Mouse, pen and touch alike: the position under the pointer, followed while it is down.
    scrub.addEventListener('pointerdown', (e) => {
      if (scrub.disabled || e.button !== 0) return;
      e.preventDefault();
      scrub.focus();
      scrub.setPointerCapture(e.pointerId);
      this.scrubAt(scrub, e.clientX);
    });
    scrub.addEventListener('pointermove', (e) => {
      if (scrub.hasPointerCapture(e.pointerId)) this.scrubAt(scrub, e.clientX);
    });
    const release = (e: PointerEvent) => {
      if (scrub.hasPointerCapture(e.pointerId)) scrub.releasePointerCapture(e.pointerId);
    };
    scrub.addEventListener('pointerup', release);
    scrub.addEventListener('pointercancel', release);
  }

  /** Whether a recorded moment is shown (the live run waits). */
  get replaying(): boolean {
    return this.replayIndex >= 0;
  }

  /** Back to live without touching the lanes (a new run started). */
  reset(): void {
    this.replayIndex = -1;
  }

  /** Toggle play / pause; playing from a replayed moment continues the run from there. */
  togglePlay(): void {
    const sim = this.host.sim;
    if (this.replayIndex >= 0) {
      sim.resumeFrom(this.replayIndex);
      this.replayIndex = -1;
      this.host.clearTrails();
      sim.paused = false;
    } else {
      sim.paused = !sim.paused;
    }
    this.host.refreshControls();
    this.update();
  }

  /** One fixed step (pauses). */
  stepOnce(): void {
    if (this.replayIndex >= 0) this.goLive();
    const sim = this.host.sim;
    sim.paused = true;
    sim.stepOnce();
    this.host.refreshControls();
    this.update();
  }

  /** Show recorded sample `index` (pauses; the live state is untouched until play). */
  scrubTo(index: number): void {
    const sim = this.host.sim;
    const rec = sim.recorder;
    if (rec.length === 0) return;
    const i = Math.max(0, Math.min(rec.length - 1, Math.round(index)));
    sim.paused = true;
    if (i === rec.length - 1) {
      this.goLive();
      return;
    }
    this.replayIndex = i;
    this.host.lanes.forEach((lane, l) => {
      const tr = rec.tracks[l];
      const h = lane.handle;
      if (!tr || !h || tr.states === 0) return;
      const n = tr.states * tr.dof;
      h.interpolatedQ.set(tr.q.subarray(i * n, (i + 1) * n));
    });
    this.host.clearTrails();
    this.host.refreshControls();
    this.update();
  }

  /** Scrub to the sample under horizontal position `clientX` of the scrub bar. */
  private scrubAt(scrub: HTMLInputElement, clientX: number): void {
    const r = scrub.getBoundingClientRect();
    // The thumb's centre travels from half a thumb in from each end.
    const thumb = Math.min(16, r.height);
    const f = (clientX - r.left - thumb / 2) / Math.max(1, r.width - thumb);
    const max = Number(scrub.max);
    const index = Math.round(Math.min(1, Math.max(0, f)) * max);
    if (index === (this.replayIndex >= 0 ? this.replayIndex : max)) return;
    scrub.value = String(index);
    this.scrubTo(index);
  }

  /** Leave replay: show the live state again. */
  goLive(): void {
    this.replayIndex = -1;
    for (const lane of this.host.lanes) lane.handle?.interpolate(1);
    this.host.clearTrails();
    this.update();
  }

  /** Redraw the scrub bar, the time label and the play button. */
  update(): void {
    const sim = this.host.sim;
    const rec = sim.recorder;
    const t = this.el;
    const scrub = t.querySelector('.scrub') as HTMLInputElement;
    scrub.max = String(Math.max(0, rec.length - 1));
    const idx = this.replayIndex >= 0 ? this.replayIndex : rec.length - 1;
    scrub.value = String(idx);
    scrub.disabled = !rec.replayable;
    const time = idx >= 0 ? rec.t[idx] : 0;
    (t.querySelector('.time') as HTMLElement).textContent =
      this.replayIndex >= 0
        ? `t = ${time.toFixed(2)} s (replay of ${rec.t[rec.length - 1].toFixed(2)} s)`
        : `t = ${sim.t.toFixed(2)} s`;
    const play = t.querySelector('[data-act=play]') as HTMLElement;
    const playing = !(sim.paused || this.replayIndex >= 0);
    const label = playing ? 'Pause' : 'Play';
    if (play.getAttribute('aria-label') !== label) {
      (play.querySelector('.ic') as HTMLElement).textContent = playing ? '❚❚' : '▶';
      (play.querySelector('.cap') as HTMLElement).textContent = label;
      play.setAttribute('aria-label', label);
    }
    (t.querySelector('[data-act=live]') as HTMLElement).hidden = this.replayIndex < 0;
    t.classList.toggle('replaying', this.replayIndex >= 0);
    t.classList.toggle('paused', sim.paused);
  }

  /** The recorded run as text (what the export buttons download). */
  exportText(kind: 'csv' | 'json'): string {
    const { sim, lanes } = this.host;
    return kind === 'csv'
      ? runToCsv(sim.recorder, lanes, this.host.runInfo())
      : runToJson(sim.recorder, lanes, this.host.runInfo());
  }

  private download(kind: 'csv' | 'json'): void {
    const name = `${this.host.exportName()}.${kind}`;
    download(name, this.exportText(kind), kind === 'csv' ? 'text/csv' : 'application/json');
  }
}
