import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Lane } from './Lane.js';
import { wrapAngle } from './Lane.js';
import type { Recorder } from './Recorder.js';

/** Largest number of points drawn per series (the recording is strided down to this). */
const MAX_POINTS = 1200;

const axisStyle: uPlot.Axis = {
  stroke: '#8b95a5',
  font: '12px system-ui, sans-serif',
  labelFont: '12px system-ui, sans-serif',
  grid: { stroke: 'rgba(255,255,255,0.06)', width: 1 },
  ticks: { stroke: 'rgba(255,255,255,0.12)', width: 1, size: 4 },
  size: 44,
};

/** How many points each plot drew at its last redraw (the test hook reads this). */
export interface PlotStats {
  energy: number;
  divergence: number;
  phase: number;
  /** Redraws since the plots were built. */
  redraws: number;
}

/**
 * The live plots of a scene: the relative energy ledger (E − E₀ − W) / E₀ per lane (W: work of pushes and
 * damping; without forces this is the energy drift), divergence from the reference lane on a
 * log scale, and a phase portrait (q_i, q̇_i) of a chosen coordinate. Redrawn from the
 * {@link Recorder}, strided to at most {@link MAX_POINTS} points, at most a few times per second.
 */
export class Plots {
  readonly stats: PlotStats = { energy: 0, divergence: 0, phase: 0, redraws: 0 };
  /** Coordinate shown in the phase portrait. */
  phaseIndex = 0;
  /** Seconds of history in the phase portrait. */
  phaseWindow = 12;
  private energy: uPlot | null = null;
  private div: uPlot | null = null;
  private phase: uPlot | null = null;
  private lanes: readonly Lane[] = [];
  private lastVersion = -1;
  private readonly resizeObserver: ResizeObserver;
  private readonly boxes: HTMLElement[];

  constructor(private readonly container: HTMLElement) {
    container.classList.add('plots');
    this.boxes = ['Energy ledger  (E − E₀ − W) / E₀', 'Divergence  ‖q − q_exact‖', 'Phase portrait'].map(
      (title) => {
        const box = document.createElement('section');
        box.className = 'plot';
        const h = document.createElement('h3');
        h.textContent = title;
        const body = document.createElement('div');
        body.className = 'plot-body';
        box.append(h, body);
        container.append(box);
        return box;
      },
    );
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  /** Rebuild the plots for a new set of lanes. */
  setLanes(lanes: readonly Lane[], phaseLabels?: readonly string[]): void {
    this.destroyPlots();
    this.lanes = lanes;
    const lanesSeries = (lane: Lane): uPlot.Series => ({
      label: lane.label,
      stroke: lane.color,
      width: 1.5,
      points: { show: false },
      spanGaps: false,
    });
    const w = this.plotWidth();
    const h = this.plotHeight();
    this.energy = new uPlot(
      {
        width: w,
        height: h,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false }, y: { range: symmetricRange } },
        axes: [axisStyle, { ...axisStyle, values: (_u, v) => v.map(fmtSci) }],
        series: [{ label: 't (s)' }, ...lanes.map(lanesSeries)],
      },
      [[], ...lanes.map(() => [])],
      this.body(0),
    );
    this.div = new uPlot(
      {
        width: w,
        height: h,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false }, y: { distr: 3, range: logRange } },
        axes: [axisStyle, { ...axisStyle, space: 18, values: (_u, v) => decadeLabels(v) }],
        series: [{ label: 't (s)' }, ...lanes.map(lanesSeries)],
      },
      [[], ...lanes.map(() => [])],
      this.body(1),
    );
    const labels = phaseLabels ?? [];
    const name = labels[this.phaseIndex] ?? `q${this.phaseIndex}`;
    this.boxes[2].querySelector('h3')!.textContent = `Phase portrait  (${name}, d${name}/dt)`;
    this.phase = new uPlot(
      {
        mode: 2,
        width: w,
        height: h,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, auto: true, range: paddedRange }, y: { auto: true, range: paddedRange } },
        axes: [axisStyle, axisStyle],
        series: [
          {},
          ...lanes.map((lane) => ({
            label: lane.label,
            stroke: lane.color,
            width: 1.25,
            paths: uPlot.paths.linear!(),
            points: { show: false },
            facets: [
              { scale: 'x', auto: true },
              { scale: 'y', auto: true },
            ],
          })),
        ] as uPlot.Series[],
      },
      [null, ...lanes.map(() => [[], []])] as unknown as uPlot.AlignedData,
      this.body(2),
    );
    this.lastVersion = -1;
  }

  /** Redraw from the recording if it changed. */
  update(rec: Recorder, force = false): void {
    if (!this.energy || !this.div || !this.phase) return;
    if (!force && rec.version === this.lastVersion) return;
    this.lastVersion = rec.version;
    const n = rec.length;
    const stride = Math.max(1, Math.ceil(n / MAX_POINTS));
    const xs: number[] = [];
    for (let s = 0; s < n; s += stride) xs.push(rec.t[s]);
    const energy: (number | null)[][] = [];
    const div: (number | null)[][] = [];
    let eCount = 0;
    let dCount = 0;
    for (const tr of rec.tracks) {
      const e: (number | null)[] = [];
      const d: (number | null)[] = [];
      for (let s = 0; s < n; s += stride) {
        const ev = tr.drift[s];
        const dv = tr.divergence[s];
        e.push(Number.isFinite(ev) ? ev : null);
        d.push(Number.isFinite(dv) && dv > 0 ? dv : null);
        if (Number.isFinite(ev)) eCount++;
        if (Number.isFinite(dv) && dv > 0) dCount++;
      }
      energy.push(e);
      div.push(d);
    }
    this.energy.setData([xs, ...energy]);
    this.div.setData([xs, ...div]);

    // Phase portrait: the last `phaseWindow` seconds of coordinate `phaseIndex`, broken where a wrapped
    // angle jumps across ±π.
    const i = this.phaseIndex;
    const t0 = n > 0 ? rec.t[n - 1] - this.phaseWindow : 0;
    const first = rec.indexAt(t0);
    const pStride = Math.max(1, Math.ceil((n - first) / MAX_POINTS));
    let pCount = 0;
    const phase = rec.tracks.map((tr, l) => {
      const px: (number | null)[] = [];
      const py: (number | null)[] = [];
      const lane = this.lanes[l];
      if (!lane || tr.states === 0 || i >= tr.dof) return [px, py];
      const isAngle = lane.system.angles[i];
      const stateSize = tr.states * tr.dof;
      let prev = Number.NaN;
      for (let s = first; s < n; s += pStride) {
        const raw = tr.q[s * stateSize + i];
        const x = isAngle ? wrapAngle(raw) : raw;
        const y = tr.qd[s * stateSize + i];
        if (!Number.isFinite(tr.drift[s])) continue;
        if (isAngle && Math.abs(x - prev) > Math.PI) {
          px.push(null);
          py.push(null);
        }
        px.push(x);
        py.push(y);
        prev = x;
        pCount++;
      }
      return [px, py];
    });
    this.phase.setData([null, ...phase] as unknown as uPlot.AlignedData);
    this.stats.energy = eCount;
    this.stats.divergence = dCount;
    this.stats.phase = pCount;
    this.stats.redraws++;
  }

  /** Remove the plots and stop observing size changes. */
  dispose(): void {
    this.destroyPlots();
    this.resizeObserver.disconnect();
    this.container.replaceChildren();
  }

  private destroyPlots(): void {
    this.energy?.destroy();
    this.div?.destroy();
    this.phase?.destroy();
    this.energy = this.div = this.phase = null;
  }

  private body(i: number): HTMLElement {
    return this.boxes[i].querySelector('.plot-body') as HTMLElement;
  }

  private plotWidth(): number {
    return Math.max(160, (this.boxes[0]?.clientWidth ?? 300) - 6);
  }

  private plotHeight(): number {
    return Math.max(120, this.container.clientHeight - 34);
  }

  private resize(): void {
    const w = this.plotWidth();
    const h = this.plotHeight();
    this.energy?.setSize({ width: w, height: h });
    this.div?.setSize({ width: w, height: h });
    this.phase?.setSize({ width: w, height: h });
  }
}

/** y range symmetric about zero, never thinner than ±1e-9 (so a perfectly conserving engine shows flat). */
function symmetricRange(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const m = Math.max(Math.abs(min ?? 0), Math.abs(max ?? 0), 1e-9) * 1.1;
  return [-m, m];
}

/** Data range padded by 5%; a single value (one sample) gets ±1 so the axis never has zero width. */
function paddedRange(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [-1, 1];
  if (max - min < 1e-9 * Math.max(1, Math.abs(min))) return [min - 1, max + 1];
  const pad = 0.05 * (max - min);
  return [min - pad, max + pad];
}

/** Decade-aligned log range. */
function logRange(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const lo = Number.isFinite(min) && min > 0 ? min : 1e-12;
  const hi = Number.isFinite(max) && max > 0 ? max : 1;
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(Math.max(hi, lo * 10)))];
}

/** Labels of a log axis: powers of ten only, thinned to at most six (1e-9, 1e-6, 1e-3, 1). */
export function decadeLabels(splits: number[]): string[] {
  const exps = splits.map((v) => (v > 0 ? Math.log10(v) : Number.NaN));
  const decades = exps.filter((e) => Math.abs(e - Math.round(e)) < 1e-6);
  const step = Math.max(1, Math.ceil(decades.length / 6));
  return splits.map((v, i) => {
    const e = exps[i];
    if (!(Math.abs(e - Math.round(e)) < 1e-6) || Math.round(e) % step !== 0) return '';
    return fmtDecade(v);
  });
}

/** Label only the powers of ten of a log axis (1e-3, 0.01, 1, …); minor ticks stay blank. */
export function fmtDecade(v: number): string {
  if (!(v > 0)) return '';
  const e = Math.log10(v);
  if (Math.abs(e - Math.round(e)) > 1e-6) return '';
  const k = Math.round(e);
  return k >= -2 && k <= 2 ? String(10 ** k) : `1e${k}`;
}

/** Compact tick label: 0.001 → 1e-3, 0.25 → 0.25. */
export function fmtSci(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 0.01 && a < 1000) return String(Number(v.toPrecision(3)));
  const e = Math.floor(Math.log10(a));
  const m = v / 10 ** e;
  return `${Math.abs(m - Math.round(m)) < 1e-9 ? Math.round(m) : m.toFixed(1)}e${e}`;
}
