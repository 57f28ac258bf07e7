import * as THREE from 'three';
import { CSS2DObject } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import { InstancedBobs, PhysicsSystem, SystemHelper } from '../plugins/three/index.js';
import type { SystemHandle } from '../src/index.js';
import type { Lane } from './Lane.js';

/** How lanes are placed: next to each other, or on top of each other with the non-reference ones as ghosts. */
export type RigLayout = 'side' | 'overlay';

/** Options of {@link RigView}. */
export interface RigViewOptions {
  /** Placement of the lanes. @default 'side' */
  layout?: RigLayout;
  /** Distance between lane origins in the side layout. @default 2.6 */
  spacing?: number;
  /** Lay lanes out along y (rows, first on top) instead of x. @default false */
  stackVertically?: boolean;
  /** Added to every lane's origin. @default [0, 0, 0] */
  offset?: readonly [number, number, number];
  /** Tick marks along x under each lane. @default none */
  ruler?: { readonly from: number; readonly to: number; readonly step: number };
  /** A vertical marker at x = x₀ + t (the speed of light, c = 1) across the lanes. @default false */
  lightFront?: boolean;
  /** Radius of the spheres at the moving points. @default 0.09 */
  pointRadius?: number;
  /** Rod radius. @default 0.025 */
  rodRadius?: number;
  /** Point whose path is traced. @default the last point */
  trailPoint?: number;
  /** Trail length in frames. @default 240 */
  trailLength?: number;
  /** Height of the lane labels above the lane's origin. @default 2.35 */
  labelY?: number;
  /** Lane key drawn solid in the overlay layout. @default 'analytic' */
  referenceKey?: string;
  /** Scene background colour the trails fade into. @default '#0d1117' */
  background?: string;
  /**
   * Motion out of the x–y plane: lane extents are 3D (a pendulum's whole reach sphere), rods and bobs cast
   * shadows, and the stage frames the lanes in perspective over a ground plane. @default false
   */
  threeD?: boolean;
}

/** The meshes of one lane. */
interface LaneRig {
  lane: Lane;
  /** Placed at the lane's origin: reach ring, mount, label. Its `position` is the helpers' origin. */
  group: THREE.Group;
  label: CSS2DObject;
  labelEl: HTMLDivElement;
  lastLabel: string;
  rodMat: THREE.MeshStandardMaterial;
  bobMat: THREE.MeshStandardMaterial;
  trailMat: THREE.LineBasicMaterial;
  ownMaterials: THREE.Material[];
  ownGeometries: THREE.BufferGeometry[];
  /** Rods and bobs from the three.js plugin, rebuilt whenever a restarted run brings a new handle. */
  rods: SystemHelper | null;
  bobs: InstancedBobs | null;
  bound: SystemHandle | null;
  /** The plugin's view of the bound handle (world-space kinematics at the lane's origin). */
  system: PhysicsSystem | null;
  trail: THREE.Line;
  trailFill: number;
  points: Float64Array;
  /** Region the lane occupies around its origin (for camera framing). */
  extent: THREE.Box3;
}

/**
 * Draws small-batch lanes (pendulums, chains, strings, particles) with the three.js plugin's helpers —
 * tubes along `system.segments` ({@link SystemHelper}) and instanced bobs ({@link InstancedBobs}) at the
 * interpolated state — plus, per lane, a fading trail of one point, a faint ring of the reachable region
 * and a label with the lane's status. In the overlay layout, every lane but the reference is a
 * translucent ghost on top of it.
 */
export class RigView {
  readonly group = new THREE.Group();
  private readonly rigs: LaneRig[] = [];
  private readonly o: Required<Omit<RigViewOptions, 'trailPoint' | 'ruler'>> &
    Pick<RigViewOptions, 'trailPoint' | 'ruler'>;
  private showTrails = true;
  /** Points of each trail drawn: the newest ones, at most the trail length (the load governor lowers it). */
  private trailDrawn: number;
  private front: THREE.Group | null = null;
  private readonly shared: { materials: THREE.Material[]; geometries: THREE.BufferGeometry[] } = {
    materials: [],
    geometries: [],
  };

  constructor(lanes: readonly Lane[], options: RigViewOptions = {}) {
    this.o = {
      layout: options.layout ?? 'side',
      spacing: options.spacing ?? 2.6,
      stackVertically: options.stackVertically ?? false,
      offset: options.offset ?? [0, 0, 0],
      ruler: options.ruler,
      lightFront: options.lightFront ?? false,
      pointRadius: options.pointRadius ?? 0.09,
      rodRadius: options.rodRadius ?? 0.025,
      trailLength: options.trailLength ?? 240,
      labelY: options.labelY ?? 2.35,
      referenceKey: options.referenceKey ?? 'analytic',
      background: options.background ?? '#0d1117',
      trailPoint: options.trailPoint,
      threeD: options.threeD ?? false,
    };
    this.trailDrawn = this.o.trailLength;
    for (const lane of lanes) this.rigs.push(this.buildRig(lane));
    if (this.o.lightFront) this.buildLightFront();
    this.applyLayout();
  }

  /** Whether the lanes are drawn in 3D (see {@link RigViewOptions.threeD}). */
  get threeD(): boolean {
    return this.o.threeD;
  }

  /** Whether lanes are stacked in rows (along y) rather than side by side. */
  get stacked(): boolean {
    return this.o.stackVertically;
  }

  /** Current layout. */
  get layout(): RigLayout {
    return this.o.layout;
  }

  /** Switch between side-by-side and overlaid ghosts. */
  setLayout(layout: RigLayout): void {
    this.o.layout = layout;
    this.applyLayout();
    this.clearTrails();
  }

  /** Show or hide the trails. */
  setTrails(on: boolean): void {
    this.showTrails = on;
  }

  /**
   * Draw only the newest `scale` share of each trail's points (1: the whole trail). The trail keeps
   * recording every point, so a later larger share shows the full history at once.
   */
  setTrailScale(scale: number): void {
    const n = this.o.trailLength;
    this.trailDrawn = Math.max(Math.min(n, 2), Math.min(n, Math.round(n * scale)));
    for (const rig of this.rigs) this.applyDrawRange(rig);
  }

  /** Points each trail draws at most (the trail length, or fewer at a lowered load level). */
  get trailPoints(): number {
    return this.trailDrawn;
  }

  /**
   * The drawn lanes' systems (world-space kinematics, for the pointer drag), with their lanes: lanes that
   * are enabled and drawable, bound to the current run's handles.
   */
  dragSystems(): { lane: Lane; system: PhysicsSystem }[] {
    const out: { lane: Lane; system: PhysicsSystem }[] = [];
    for (const rig of this.rigs) {
      const { lane, system } = rig;
      if (system && rig.bound === lane.handle && lane.enabled && lane.drawable) out.push({ lane, system });
    }
    return out;
  }

  /** Forget the trails (after a restart or a jump in the timeline). */
  clearTrails(): void {
    for (const rig of this.rigs) rig.trailFill = 0;
  }

  /** The region all lanes occupy in the current layout, labels included. */
  bounds(): THREE.Box3 {
    const box = new THREE.Box3();
    for (const rig of this.rigs) {
      const b = rig.extent.clone().translate(rig.group.position);
      box.union(b);
      box.expandByPoint(
        new THREE.Vector3(
          rig.group.position.x,
          rig.group.position.y + this.o.labelY + 0.25,
          this.o.threeD ? rig.group.position.z : 0,
        ),
      );
    }
    return box;
  }

  /** Move every mesh to the lanes' render-time (interpolated) states; `t` is the simulated time. */
  update(t = 0): void {
    for (const rig of this.rigs) this.updateRig(rig);
    if (this.front) {
      const x0 = this.rigs[0]?.lane.q0[0] ?? 0;
      this.front.position.x = this.o.offset[0] + x0 + t;
    }
  }

  /** Free every geometry, material and label. */
  dispose(): void {
    for (const rig of this.rigs) {
      this.unbind(rig);
      for (const m of rig.ownMaterials) m.dispose();
      for (const g of rig.ownGeometries) g.dispose();
      rig.trail.geometry.dispose();
      rig.label.removeFromParent();
      rig.label.element.remove();
    }
    for (const m of this.shared.materials) m.dispose();
    for (const g of this.shared.geometries) g.dispose();
    this.front?.traverse((o) => {
      if (o instanceof CSS2DObject) o.element.remove();
    });
    this.group.removeFromParent();
  }

  /** Tick marks every `step` along x, just under the lane's axis, with a label every unit. */
  private buildRuler(
    group: THREE.Group,
    color: THREE.Color,
    materials: THREE.Material[],
    geometries: THREE.BufferGeometry[],
  ): void {
    const { from, to, step } = this.o.ruler!;
    const pts: THREE.Vector3[] = [new THREE.Vector3(from, -0.18, -0.02), new THREE.Vector3(to, -0.18, -0.02)];
    for (let x = from; x <= to + 1e-9; x += step) {
      const major = Math.abs(x - Math.round(x)) < 1e-9;
      pts.push(new THREE.Vector3(x, -0.18, -0.02), new THREE.Vector3(x, major ? -0.28 : -0.23, -0.02));
    }
    const mat = new THREE.LineBasicMaterial({ color, transparent: true, opacity: 0.35 });
    const lines = new THREE.LineSegments(new THREE.BufferGeometry().setFromPoints(pts), mat);
    group.add(lines);
    materials.push(mat);
    geometries.push(lines.geometry);
  }

  /** A vertical line spanning the lanes that moves at c = 1, labelled. */
  private buildLightFront(): void {
    const n = this.rigs.length;
    const top = this.o.stackVertically ? ((n - 1) / 2) * this.o.spacing + 0.5 : 2.5;
    const front = new THREE.Group();
    const mat = new THREE.LineDashedMaterial({
      color: 0xfde68a,
      dashSize: 0.08,
      gapSize: 0.06,
      transparent: true,
      opacity: 0.7,
    });
    const line = new THREE.Line(
      new THREE.BufferGeometry().setFromPoints([
        new THREE.Vector3(0, top, 0.01),
        new THREE.Vector3(0, -top, 0.01),
      ]),
      mat,
    );
    line.computeLineDistances();
    const el = document.createElement('div');
    el.className = 'axis-label light';
    el.textContent = 'light: x = c·t';
    const label = new CSS2DObject(el);
    label.position.set(0, top + 0.15, 0);
    front.add(line, label);
    this.shared.materials.push(mat);
    this.shared.geometries.push(line.geometry);
    this.front = front;
    this.group.add(front);
  }

  private buildRig(lane: Lane): LaneRig {
    const sys = lane.system;
    const color = new THREE.Color(lane.color);
    const group = new THREE.Group();
    group.name = `lane:${lane.key}`;
    const rodMat = new THREE.MeshStandardMaterial({ color, roughness: 0.45, metalness: 0.15 });
    const bobMat = new THREE.MeshStandardMaterial({
      color,
      roughness: 0.3,
      metalness: 0.1,
      emissive: color,
      emissiveIntensity: 0.25,
    });
    const trailMat = new THREE.LineBasicMaterial({ vertexColors: true, transparent: true, opacity: 0.9 });
    const ownMaterials: THREE.Material[] = [rodMat, bobMat, trailMat];
    const ownGeometries: THREE.BufferGeometry[] = [];

    // Extent: the points at the initial state, padded.
    const extent = new THREE.Box3();
    const p0 = new Float64Array(sys.pointCount * 3);
    sys.positions(lane.q0.subarray(0, sys.dof), p0);
    const solid = this.o.threeD;
    for (let i = 0; i < sys.pointCount; i++)
      extent.expandByPoint(new THREE.Vector3(p0[3 * i], p0[3 * i + 1], solid ? p0[3 * i + 2] : 0));
    extent.expandByVector(new THREE.Vector3(0.3, 0.3, solid ? 0.3 : 0));

    // Pendulums and chains (all coordinates angles, hanging from point 0): a faint circle of the
    // reachable region and a mount, which also mark the lane's place while it is unavailable.
    if (sys.angles.length > 0 && sys.angles.every(Boolean)) {
      const p = new Float64Array(sys.pointCount * 3);
      sys.positions(new Float64Array(sys.dof), p);
      let reach = 0;
      for (const [a, b] of sys.segments) {
        reach += Math.hypot(p[b * 3] - p[a * 3], p[b * 3 + 1] - p[a * 3 + 1], p[b * 3 + 2] - p[a * 3 + 2]);
      }
      const pts: THREE.Vector3[] = [];
      for (let k = 0; k <= 128; k++) {
        const a = (k / 128) * Math.PI * 2;
        pts.push(new THREE.Vector3(Math.cos(a) * reach, Math.sin(a) * reach, -0.02));
      }
      const ringMat = new THREE.LineBasicMaterial({ color, transparent: true, opacity: 0.13 });
      const ring = new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), ringMat);
      const mountMat = new THREE.MeshStandardMaterial({ color: 0x3a4658, roughness: 0.6 });
      const mount = new THREE.Mesh(
        solid ? new THREE.BoxGeometry(0.3, 0.06, 0.3) : new THREE.BoxGeometry(0.5, 0.06, 0.06),
        mountMat,
      );
      mount.castShadow = solid;
      // In 3D the reachable region is a sphere; a circle would read as an orbit, so only the mount shows.
      ring.visible = !solid;
      group.add(ring, mount);
      extent.union(
        new THREE.Box3(
          new THREE.Vector3(-reach, -reach, solid ? -reach : 0),
          new THREE.Vector3(reach, solid ? 0.1 : reach, solid ? reach : 0),
        ),
      );
      ownMaterials.push(ringMat, mountMat);
      ownGeometries.push(ring.geometry, mount.geometry);
    }

    const n = this.o.trailLength;
    const tg = new THREE.BufferGeometry();
    tg.setAttribute('position', new THREE.BufferAttribute(new Float32Array(n * 3), 3));
    const colors = new Float32Array(n * 3);
    const bg = new THREE.Color(this.o.background);
    for (let i = 0; i < n; i++) {
      const c = bg.clone().lerp(color, (i / Math.max(1, n - 1)) ** 1.5);
      colors.set([c.r, c.g, c.b], i * 3);
    }
    tg.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    tg.setDrawRange(0, 0);
    const trail = new THREE.Line(tg, trailMat);
    trail.frustumCulled = false;
    this.group.add(trail);

    // The CSS2D renderer owns the anchor's transform; the label inside it can be shifted freely.
    const anchor = document.createElement('div');
    const labelEl = document.createElement('div');
    labelEl.className = 'lane-label';
    labelEl.style.setProperty('--lane-color', lane.color);
    anchor.append(labelEl);
    const label = new CSS2DObject(anchor);
    if (this.o.stackVertically) {
      // Rows: the label sits just above the start of the row, left-aligned to it.
      anchor.className = 'label-anchor start';
      label.position.set(extent.min.x, this.o.labelY, 0);
    } else {
      label.position.set((extent.min.x + extent.max.x) / 2, this.o.labelY, 0);
    }
    group.add(label);
    if (this.o.ruler) {
      this.buildRuler(group, color, ownMaterials, ownGeometries);
      extent.expandByPoint(new THREE.Vector3(this.o.ruler.from, -0.3, 0));
      extent.expandByPoint(new THREE.Vector3(this.o.ruler.to, 0.3, 0));
    }
    this.group.add(group);
    return {
      lane,
      group,
      label,
      labelEl,
      lastLabel: '',
      rodMat,
      bobMat,
      trailMat,
      ownMaterials,
      ownGeometries,
      rods: null,
      bobs: null,
      bound: null,
      system: null,
      trail,
      trailFill: 0,
      points: new Float64Array(sys.pointCount * 3),
      extent,
    };
  }

  /** Build the plugin's helpers for the lane's current handle. */
  private bind(rig: LaneRig, handle: SystemHandle): void {
    this.unbind(rig);
    // The group's position object is the helpers' origin, so layout changes move them too.
    const ps = new PhysicsSystem(handle, rig.group.position);
    if (handle.system.segments.length > 0) {
      rig.rods = new SystemHelper(ps, { style: 'tube', radius: this.o.rodRadius, material: rig.rodMat });
      this.group.add(rig.rods);
    }
    rig.bobs = new InstancedBobs(ps, { radius: this.o.pointRadius, material: rig.bobMat });
    this.group.add(rig.bobs);
    if (this.o.threeD) {
      rig.bobs.castShadow = true;
      rig.rods?.traverse((o) => {
        o.castShadow = true;
      });
    }
    rig.bound = handle;
    rig.system = ps;
    rig.trailFill = 0;
  }

  private unbind(rig: LaneRig): void {
    rig.rods?.dispose();
    rig.bobs?.dispose();
    rig.rods = null;
    rig.bobs = null;
    rig.bound = null;
    rig.system = null;
  }

  private applyLayout(): void {
    const n = this.rigs.length;
    const overlay = this.o.layout === 'overlay';
    this.rigs.forEach((rig, i) => {
      const offset = overlay ? 0 : (i - (n - 1) / 2) * this.o.spacing;
      const z = overlay ? -0.01 * i : 0;
      const [ox, oy, oz] = this.o.offset;
      if (this.o.stackVertically) rig.group.position.set(ox, oy - offset, oz + z);
      else rig.group.position.set(ox + offset, oy, oz + z);
      const ghost = overlay && rig.lane.key !== this.o.referenceKey;
      for (const m of [rig.rodMat, rig.bobMat]) {
        m.transparent = ghost;
        m.opacity = ghost ? 0.4 : 1;
        m.depthWrite = !ghost;
        m.needsUpdate = true;
      }
      rig.label.visible = !overlay;
    });
  }

  private updateRig(rig: LaneRig): void {
    const lane = rig.lane;
    const handle = lane.handle;
    if (handle !== rig.bound) {
      if (handle) this.bind(rig, handle);
      else this.unbind(rig);
    }
    const drawable = lane.enabled && lane.drawable;
    this.updateLabel(rig);
    if (rig.rods) rig.rods.visible = drawable;
    if (rig.bobs) rig.bobs.visible = drawable;
    rig.trail.visible = drawable && this.showTrails;
    if (!drawable || !handle) return;
    rig.rods?.update();
    rig.bobs?.update();
    handle.positions(0, rig.points);
    this.pushTrail(rig);
  }

  private pushTrail(rig: LaneRig): void {
    const p = rig.points;
    const origin = rig.group.position;
    const idx = this.o.trailPoint ?? p.length / 3 - 1;
    const attr = rig.trail.geometry.getAttribute('position') as THREE.BufferAttribute;
    const arr = attr.array as Float32Array;
    const n = this.o.trailLength;
    // Newest vertex last, so it gets the brightest end of the colour ramp; the drawn range grows from
    // the end while the trail fills.
    arr.copyWithin(0, 3);
    arr[(n - 1) * 3] = p[idx * 3] + origin.x;
    arr[(n - 1) * 3 + 1] = p[idx * 3 + 1] + origin.y;
    arr[(n - 1) * 3 + 2] = p[idx * 3 + 2] + origin.z;
    if (rig.trailFill < n) rig.trailFill++;
    this.applyDrawRange(rig);
    attr.needsUpdate = true;
  }

  /** Draw the newest points of the trail: as many as it holds, at most {@link RigView.trailPoints}. */
  private applyDrawRange(rig: LaneRig): void {
    const drawn = Math.min(rig.trailFill, this.trailDrawn);
    rig.trail.geometry.setDrawRange(this.o.trailLength - drawn, drawn);
  }

  private updateLabel(rig: LaneRig): void {
    const lane = rig.lane;
    const status =
      lane.status === 'running'
        ? lane.enabled
          ? lane.forcesNote
            ? `<span class="warn">${escapeHtml(lane.forcesNote)}</span>`
            : lane.outOfRange
              ? '<span class="warn">outside training range</span>'
              : ''
          : '<span class="muted">off</span>'
        : lane.status === 'loading'
          ? '<span class="muted">loading…</span>'
          : lane.status === 'stopped'
            ? `<span class="err">stopped: ${escapeHtml(lane.reason)}</span>`
            : `<span class="muted">unavailable</span><em>${escapeHtml(lane.reason)}</em>`;
    const html = `<strong>${escapeHtml(lane.label)}</strong>${status ? `<small>${status}</small>` : ''}`;
    if (html !== rig.lastLabel) {
      rig.labelEl.innerHTML = html;
      rig.lastLabel = html;
    }
  }
}

/** Escape text for innerHTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
