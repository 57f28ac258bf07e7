import * as THREE from 'three';
import { CSS2DObject } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import type { FieldView as FieldViewSpec } from '../scenes/types.js';
import { type Lane, wrapAngle } from './Lane.js';
import { escapeHtml } from './RigView.js';

/** Inferno-like colour stops for flip time (early = bright). */
const STOPS: readonly [number, number, number][] = [
  [0.99, 0.96, 0.64],
  [0.98, 0.6, 0.2],
  [0.85, 0.27, 0.3],
  [0.5, 0.12, 0.45],
  [0.16, 0.05, 0.3],
];

const tmp = new THREE.Color();

/** Colour of a value in [0, 1] on {@link STOPS}. */
function ramp(x: number, out: THREE.Color): THREE.Color {
  const v = Math.min(1, Math.max(0, x)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(v));
  const f = v - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return out.setRGB(
    a[0] + f * (b[0] - a[0]),
    a[1] + f * (b[1] - a[1]),
    a[2] + f * (b[2] - a[2]),
    THREE.SRGBColorSpace,
  );
}

interface Grid {
  lane: Lane;
  mesh: THREE.InstancedMesh;
  flipTime: Float64Array;
  label: CSS2DObject;
  labelEl: HTMLDivElement;
  lastLabel: string;
}

/**
 * Thousands of batched copies as one InstancedMesh of tiles per lane, laid out on the grid of their
 * initial states. A tile is coloured by the time its pendulum first flipped over (bright = early, dark
 * = late; unflipped tiles show their current angle faintly), or, for a learned lane in `error` mode, by
 * the log distance of its state from the exact one.
 */
export class FieldView {
  readonly group = new THREE.Group();
  private readonly grids: Grid[] = [];
  private readonly geometry = new THREE.PlaneGeometry(1, 1);
  private readonly material = new THREE.MeshBasicMaterial({ color: 0xffffff });
  private readonly extras: THREE.Object3D[] = [];
  /** Width of one lane's grid in world units. */
  readonly size = 4;
  /** Gap between grids. */
  readonly gap = 0.8;
  /** Number of copies that have flipped, per lane key. */
  readonly flipped = new Map<string, number>();

  constructor(
    lanes: readonly Lane[],
    private readonly spec: FieldViewSpec,
    private readonly reference: Lane | null,
  ) {
    const { columns, rows } = spec;
    const tile = this.size / columns;
    const n = lanes.length;
    lanes.forEach((lane, k) => {
      if (lane.batch !== columns * rows) {
        throw new Error(
          `field view: lane '${lane.key}' has ${lane.batch} copies, the grid needs ${columns}×${rows}`,
        );
      }
      const mesh = new THREE.InstancedMesh(this.geometry, this.material, lane.batch);
      mesh.name = `field:${lane.key}`;
      const m = new THREE.Matrix4();
      const x0 = (k - (n - 1) / 2) * (this.size + this.gap);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < columns; c++) {
          m.makeScale(tile * 0.94, tile * 0.94, 1);
          m.setPosition(x0 - this.size / 2 + (c + 0.5) * tile, -this.size / 2 + (r + 0.5) * tile, 0);
          mesh.setMatrixAt(r * columns + c, m);
          mesh.setColorAt(r * columns + c, tmp.setRGB(0.1, 0.1, 0.12));
        }
      }
      mesh.instanceMatrix.needsUpdate = true;
      this.group.add(mesh);
      const labelEl = document.createElement('div');
      labelEl.className = 'lane-label';
      labelEl.style.setProperty('--lane-color', lane.color);
      const label = new CSS2DObject(labelEl);
      label.position.set(x0, this.size / 2 + 0.35, 0);
      this.group.add(label);
      this.addAxisLabels(x0);
      this.grids.push({
        lane,
        mesh,
        flipTime: new Float64Array(lane.batch).fill(Number.NaN),
        label,
        labelEl,
        lastLabel: '',
      });
    });
  }

  /** Total width of the grids (for camera framing). */
  get width(): number {
    return this.grids.length * (this.size + this.gap);
  }

  /** Forget flip times (after a reset). */
  reset(): void {
    for (const g of this.grids) g.flipTime.fill(Number.NaN);
  }

  /** Update flip times (at simulated time `t`) and tile colours. */
  update(t: number): void {
    const ref = this.reference;
    for (const g of this.grids) {
      const { lane, mesh, flipTime } = g;
      const dof = lane.system.dof;
      const q = lane.qRender;
      const drawable = lane.drawable && lane.enabled;
      mesh.visible = drawable;
      this.updateLabel(g);
      if (!drawable) continue;
      const errorMode = this.spec.colorBy === 'error' && ref && ref !== lane && ref.drawable;
      let flips = 0;
      for (let b = 0; b < lane.batch; b++) {
        const o = b * dof;
        let flippedNow = false;
        for (let i = 0; i < dof; i++) if (Math.abs(lane.q[o + i]) > Math.PI) flippedNow = true;
        if (flippedNow && Number.isNaN(flipTime[b])) flipTime[b] = t;
        if (!Number.isNaN(flipTime[b])) flips++;
        if (errorMode) {
          let s2 = 0;
          for (let i = 0; i < dof; i++) {
            const d = wrapAngle(lane.q[o + i] - ref.q[o + i]);
            s2 += d * d;
          }
          // log10 error from 1e-6 (dark) to π (bright).
          const e = (Math.log10(Math.sqrt(s2) + 1e-12) + 6) / (6 + Math.log10(Math.PI));
          ramp(1 - e, tmp);
        } else if (!Number.isNaN(flipTime[b])) {
          // Flip time on a log scale from 0.25 s (bright) to 30 s (dark).
          ramp(Math.log(Math.max(flipTime[b], 0.25) / 0.25) / Math.log(120), tmp);
        } else {
          const s = 0.07 + 0.06 * Math.cos(q[o + dof - 1]);
          tmp.setRGB(s, s, s * 1.25);
        }
        mesh.setColorAt(b, tmp);
      }
      if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
      this.flipped.set(lane.key, flips);
    }
  }

  /** Free GPU resources and labels. */
  dispose(): void {
    for (const g of this.grids) {
      g.mesh.dispose();
      g.label.removeFromParent();
      g.labelEl.remove();
    }
    for (const e of this.extras) {
      e.removeFromParent();
      if (e instanceof CSS2DObject) e.element.remove();
    }
    this.geometry.dispose();
    this.material.dispose();
    this.group.removeFromParent();
  }

  private addAxisLabels(x0: number): void {
    const mk = (text: string, x: number, y: number, cls: string) => {
      const el = document.createElement('div');
      el.className = `axis-label ${cls}`;
      const span = document.createElement('span');
      span.className = 'rot';
      span.textContent = text;
      el.append(span);
      const o = new CSS2DObject(el);
      o.position.set(x, y, 0);
      this.group.add(o);
      this.extras.push(o);
    };
    const h = this.size / 2;
    mk(`${this.spec.xLabel}  −π … π`, x0, -h - 0.25, 'x');
    mk(`${this.spec.yLabel}  −π … π`, x0 - h - 0.2, 0, 'y');
  }

  private updateLabel(g: Grid): void {
    const lane = g.lane;
    const flips = this.flipped.get(lane.key) ?? 0;
    const status =
      lane.status === 'running'
        ? `${flips} of ${lane.batch} flipped${lane.outOfRange ? ' · <span class="warn">outside training range</span>' : ''}`
        : lane.status === 'loading'
          ? '<span class="muted">loading…</span>'
          : `<span class="${lane.status === 'stopped' ? 'err' : 'muted'}">${escapeHtml(`${lane.status}: ${lane.reason}`)}</span>`;
    const mode =
      this.spec.colorBy === 'error' && this.reference && lane !== this.reference ? ' — error vs exact' : '';
    const html = `<strong>${escapeHtml(lane.label)}${mode}</strong><small>${status}</small>`;
    if (html !== g.lastLabel) {
      g.labelEl.innerHTML = html;
      g.lastLabel = html;
    }
  }
}
