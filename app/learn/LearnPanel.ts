import type GUI from 'lil-gui';
import uPlot from 'uplot';
import type { LearnSession, LearnSettings } from './LearnSession.js';

const axisStyle: uPlot.Axis = {
  stroke: '#8b95a5',
  font: '11px system-ui, sans-serif',
  grid: { stroke: 'rgba(255,255,255,0.06)', width: 1 },
  ticks: { stroke: 'rgba(255,255,255,0.12)', width: 1, size: 3 },
  size: 40,
};

/** Most times per second the status line and the loss curve are redrawn. */
const REDRAW_MS = 250;

/**
 * The "Learn" folder of the controls: network width, steps, batch, learning rate and checkpoint
 * interval (defaults per number of coordinates), fine-tune from the scene's shipped LNN, Start / Stop /
 * Resume / Discard / Export, a status line (step, loss, validation q̈ L1, speed) and a live loss curve
 * (training loss and validation q̈ L1 on a log scale, in the style of the app's plots).
 */
export class LearnPanel {
  readonly folder: GUI;
  private readonly settings: LearnSettings;
  private readonly status: HTMLElement;
  private readonly plotBox: HTMLElement;
  private plot: uPlot | null = null;
  private readonly unsubscribe: () => void;
  private lastDraw = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    parent: GUI,
    private readonly session: LearnSession,
  ) {
    const folder = parent.addFolder('Learn');
    this.folder = folder;
    folder.domElement.classList.add('learn-folder');
    const reason = session.unavailableReason();
    this.settings = session.defaults(false);
    this.status = document.createElement('div');
    this.status.className = 'learn-status';
    this.status.style.cssText =
      'padding:4px 8px;font:12px system-ui,sans-serif;line-height:1.4;white-space:pre-wrap';
    this.plotBox = document.createElement('div');
    this.plotBox.className = 'learn-plot';
    if (reason) {
      this.status.textContent = `Learning is not available here: ${reason}.`;
      folder.$children.append(this.status);
      folder.close();
      this.unsubscribe = () => {};
      return;
    }
    const s = this.settings;
    const base = session.baseModel();
    if (base) {
      folder
        .add(s, 'fineTune')
        .name('Fine-tune shipped LNN')
        .onChange((on: boolean) => {
          Object.assign(s, session.defaults(on));
          for (const c of folder.controllersRecursive()) c.updateDisplay();
        });
    }
    folder.add(s, 'width', 4, 256, 1).name('Hidden width (×2)');
    folder.add(s, 'steps', 10, 50_000, 10).name('Steps');
    folder.add(s, 'batch', 8, 2048, 8).name('Batch');
    folder.add(s, 'lr', 1e-5, 0.3).name('Learning rate');
    folder.add(s, 'checkpointEvery', 10, 5000, 10).name('Swap every (steps)');
    folder.add(s, 'cpuShare', 0.05, 1, 0.05).name('Worker CPU share');
    const actions = {
      start: () => void session.start({ ...s }),
      stop: () => session.stop(),
      resume: () => session.resume(),
      discard: () => void session.discard(),
      export: () => void session.download(),
    };
    folder.add(actions, 'start').name('Start');
    folder.add(actions, 'stop').name('Stop');
    folder.add(actions, 'resume').name('Resume');
    folder.add(actions, 'discard').name('Discard');
    folder.add(actions, 'export').name('Export model (model.json + weights.bin)');
    folder.$children.append(this.status, this.plotBox);
    this.unsubscribe = session.onChange(() => this.schedule());
    this.render();
  }

  /** Stop listening and free the plot (the folder goes with the controls). */
  dispose(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.plot?.destroy();
    this.plot = null;
  }

  private schedule(): void {
    const now = performance.now();
    if (now - this.lastDraw >= REDRAW_MS) {
      this.render();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.render();
    }, REDRAW_MS);
  }

  private render(): void {
    this.lastDraw = performance.now();
    const st = this.session.state;
    const fmt = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : '–');
    const lines: string[] = [];
    switch (st.status) {
      case 'idle':
        lines.push(
          'Trains an LNN on this scene in a worker: states from a box around the exact run so far, exact q̈ as targets.',
        );
        break;
      case 'starting':
        lines.push('Starting the trainer…');
        break;
      default:
        lines.push(
          `${st.status} · step ${st.step} / ${st.steps} · loss ${fmt(st.loss)} · q̈ L1 (validation) ${fmt(st.valL1)}`,
        );
        if (st.stepsPerSecond > 0 && st.status === 'training')
          lines.push(
            `${st.stepsPerSecond.toFixed(0)} steps/s on ${st.backend} · network ${st.layers.join('→')}`,
          );
    }
    if (st.reason) lines.push(st.reason);
    if (st.swaps > 0)
      lines.push(
        `The learned lane runs the checkpoint of step ${st.checkpointStep}; it restarts from the exact lane's current state at each swap.`,
      );
    this.status.textContent = lines.join('\n');
    this.status.dataset.status = st.status;
    this.drawCurve();
  }

  private drawCurve(): void {
    const c = this.session.curve;
    if (c.step.length === 0) {
      this.plot?.destroy();
      this.plot = null;
      return;
    }
    const x = c.step;
    const val = x.map((s) => c.val.get(s) ?? null);
    const data = [x, c.loss, val] as unknown as uPlot.AlignedData;
    if (!this.plot) {
      const width = Math.max(160, (this.folder.domElement.clientWidth || 240) - 8);
      this.plot = new uPlot(
        {
          width,
          height: 120,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false }, y: { distr: 3 } },
          axes: [
            axisStyle,
            { ...axisStyle, values: (_u, v) => v.map((t) => (t == null ? '' : t.toExponential(0))) },
          ],
          series: [
            { label: 'step' },
            { label: 'loss', stroke: '#f472b6', width: 1.25, points: { show: false } },
            {
              label: 'q̈ L1 (validation)',
              stroke: '#38bdf8',
              width: 1.5,
              spanGaps: true,
              points: { size: 4 },
            },
          ],
        },
        data,
        this.plotBox,
      );
    } else {
      this.plot.setData(data);
    }
  }
}
