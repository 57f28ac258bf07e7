import * as THREE from 'three';
import { CSS2DObject } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import type { Lane } from './Lane';

/** How lanes are placed: next to each other, or on top of each other with the non-reference ones as ghosts. */
export type RigLayout = 'side' | 'overlay';

/** Options of {@link RigView}. */
export interface RigViewOptions {
  /** Placement of the lanes. @default 'side' */
  layout?: RigLayout;
  /** Distance between lane origins along x in the side layout. @default 2.6 */
  spacing?: number;
  /** Radius of the sphere drawn at point i. @default 0.09 for moving points, 0.04 for the first (pivot) */
  pointRadius?: (i: number) => number;
  /** Points drawn as fixed anchors (grey, small). @default [0] */
  fixedPoints?: readonly number[];
  /** Rod radius. @default 0.025 */
  rodRadius?: number;
  /** Point whose path is traced. @default the last point */
  trailPoint?: number;
  /** Trail length in frames. @default 240 */
  trailLength?: number;
  /** Height of the lane labels above the origin. @default 2.35 */
  labelY?: number;
  /** Lane key drawn solid in the overlay layout. @default 'analytic' */
  referenceKey?: string;
  /** Lay lanes out along y (rows, first on top) instead of x. @default false */
  stackVertically?: boolean;
  /** How many states of a batched lane are drawn. @default 1 */
  maxStates?: number;
  /** Scene background colour the trails fade into. @default '#0d1117' */
  background?: string;
}

const UP = new THREE.Vector3(0, 1, 0);
const va = new THREE.Vector3();
const vb = new THREE.Vector3();
const dir = new THREE.Vector3();
const m4 = new THREE.Matrix4();
const quat = new THREE.Quaternion();
const scl = new THREE.Vector3();

/** Meshes of one drawn state of one lane. */
interface RigMeshes {
  rods: THREE.InstancedMesh;
  bobs: THREE.InstancedMesh;
  trail: THREE.Line;
  trailFill: number;
}

/** The meshes of one lane. */
interface LaneRig {
  lane: Lane;
  group: THREE.Group;
  states: RigMeshes[];
  label: CSS2DObject;
  labelEl: HTMLDivElement;
  materials: THREE.Material[];
  extraGeometries: THREE.BufferGeometry[];
  points: Float64Array;
  qi: Float64Array;
  lastLabel: string;
}

/**
 * Draws small-batch lanes (pendulums, chains, strings, particles) from their systems' forward
 * kinematics: rods between `system.segments`, spheres at the points, a fading trail of one point and a
 * label per lane. Positions are interpolated between fixed steps with the simulation's alpha.
 */
export class RigView {
  readonly group = new THREE.Group();
  private readonly rigs: LaneRig[] = [];
  private readonly options: Required<Omit<RigViewOptions, 'pointRadius' | 'trailPoint'>> &
    Pick<RigViewOptions, 'pointRadius' | 'trailPoint'>;
  private readonly rodGeometry = new THREE.CylinderGeometry(1, 1, 1, 14, 1);
  private readonly bobGeometry = new THREE.SphereGeometry(1, 24, 16);
  private showTrails = true;

  constructor(lanes: readonly Lane[], options: RigViewOptions = {}) {
    this.options = {
      layout: options.layout ?? 'side',
      spacing: options.spacing ?? 2.6,
      fixedPoints: options.fixedPoints ?? [0],
      rodRadius: options.rodRadius ?? 0.025,
      trailLength: options.trailLength ?? 240,
      labelY: options.labelY ?? 2.35,
      referenceKey: options.referenceKey ?? 'analytic',
      maxStates: options.maxStates ?? 1,
      stackVertically: options.stackVertically ?? false,
      background: options.background ?? '#0d1117',
      pointRadius: options.pointRadius,
      trailPoint: options.trailPoint,
    };
    for (const lane of lanes) this.rigs.push(this.buildRig(lane));
    this.applyLayout();
  }

  /** Current layout. */
  get layout(): RigLayout {
    return this.options.layout;
  }

  /** Switch between side-by-side and overlaid ghosts. */
  setLayout(layout: RigLayout): void {
    this.options.layout = layout;
    this.applyLayout();
    this.clearTrails();
  }

  /** Show or hide the trails. */
  setTrails(on: boolean): void {
    this.showTrails = on;
    for (const rig of this.rigs) for (const s of rig.states) s.trail.visible = on;
  }

  /** Forget the trails (after a reset or a jump in the timeline). */
  clearTrails(): void {
    for (const rig of this.rigs) for (const s of rig.states) s.trailFill = 0;
  }

  /** The x offset of a lane's origin. */
  originOf(lane: Lane): THREE.Vector3 {
    const rig = this.rigs.find((r) => r.lane === lane);
    return rig ? rig.group.position.clone() : new THREE.Vector3();
  }

  /** Total width the lanes occupy (for camera framing). */
  get width(): number {
    if (this.options.layout === 'overlay' || this.options.stackVertically) return this.options.spacing;
    return this.options.spacing * this.rigs.length;
  }

  /** Total height the lanes' origins span (stacked layout), 0 otherwise. */
  get stackHeight(): number {
    if (this.options.layout === 'overlay' || !this.options.stackVertically) return 0;
    return this.options.spacing * (this.rigs.length - 1);
  }

  /** Move every mesh to the lanes' render-time (interpolated) states. */
  update(): void {
    for (const rig of this.rigs) this.updateRig(rig);
  }

  /** Free geometries, materials and labels. */
  dispose(): void {
    for (const rig of this.rigs) {
      for (const m of rig.materials) m.dispose();
      for (const s of rig.states) s.trail.geometry.dispose();
      for (const g of rig.extraGeometries) g.dispose();
      rig.label.removeFromParent();
      rig.labelEl.remove();
    }
    this.rodGeometry.dispose();
    this.bobGeometry.dispose();
    this.group.removeFromParent();
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
    const materials: THREE.Material[] = [rodMat, bobMat, trailMat];
    const extraGeometries: THREE.BufferGeometry[] = [];
    const states: RigMeshes[] = [];
    const nStates = Math.min(lane.batch, this.options.maxStates);
    for (let s = 0; s < nStates; s++) {
      const rods = new THREE.InstancedMesh(this.rodGeometry, rodMat, Math.max(sys.segments.length, 1));
      rods.count = sys.segments.length;
      const bobs = new THREE.InstancedMesh(this.bobGeometry, bobMat, sys.pointCount);
      rods.frustumCulled = false;
      bobs.frustumCulled = false;
      const n = this.options.trailLength;
      const tg = new THREE.BufferGeometry();
      tg.setAttribute('position', new THREE.BufferAttribute(new Float32Array(n * 3), 3));
      const colors = new Float32Array(n * 3);
      const bg = new THREE.Color(this.options.background);
      for (let i = 0; i < n; i++) {
        const c = bg.clone().lerp(color, (i / (n - 1)) ** 1.5);
        colors.set([c.r, c.g, c.b], i * 3);
      }
      tg.setAttribute('color', new THREE.BufferAttribute(colors, 3));
      tg.setDrawRange(0, 0);
      const trail = new THREE.Line(tg, trailMat);
      trail.frustumCulled = false;
      group.add(rods, bobs);
      this.group.add(trail);
      states.push({ rods, bobs, trail, trailFill: 0 });
    }
    // A faint circle of the reachable region (pendulums and chains hang from point 0 at the origin):
    // it marks each lane's place even while the lane is unavailable.
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
      materials.push(ringMat);
      const ring = new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), ringMat);
      ring.name = 'reach';
      group.add(ring);
      const mount = new THREE.Mesh(
        new THREE.BoxGeometry(0.5, 0.06, 0.06),
        new THREE.MeshStandardMaterial({ color: 0x3a4658, roughness: 0.6 }),
      );
      mount.name = 'mount';
      materials.push(mount.material as THREE.Material);
      group.add(mount);
      extraGeometries.push(ring.geometry, mount.geometry);
    }
    const labelEl = document.createElement('div');
    labelEl.className = 'lane-label';
    labelEl.style.setProperty('--lane-color', lane.color);
    const label = new CSS2DObject(labelEl);
    label.position.set(0, this.options.labelY, 0);
    group.add(label);
    this.group.add(group);
    return {
      lane,
      group,
      states,
      label,
      labelEl,
      materials,
      extraGeometries,
      points: new Float64Array(sys.pointCount * 3),
      qi: new Float64Array(sys.dof),
      lastLabel: '',
    };
  }

  private applyLayout(): void {
    const n = this.rigs.length;
    const overlay = this.options.layout === 'overlay';
    this.rigs.forEach((rig, i) => {
      const offset = overlay ? 0 : (i - (n - 1) / 2) * this.options.spacing;
      if (this.options.stackVertically) rig.group.position.set(0, -offset, overlay ? -0.01 * i : 0);
      else rig.group.position.set(offset, 0, overlay ? -0.01 * i : 0);
      const ghost = overlay && rig.lane.key !== this.options.referenceKey;
      for (const m of rig.materials.slice(0, 2)) {
        m.transparent = ghost;
        m.opacity = ghost ? 0.4 : 1;
        m.depthWrite = !ghost;
        m.needsUpdate = true;
      }
      rig.label.visible = !overlay;
    });
  }

  private updateRig(rig: LaneRig): void {
    const { lane, points, qi } = rig;
    const sys = lane.system;
    const dof = sys.dof;
    const drawable = lane.enabled && lane.drawable;
    this.updateLabel(rig);
    const q = lane.qRender;
    for (let s = 0; s < rig.states.length; s++) {
      const meshes = rig.states[s];
      meshes.rods.visible = drawable;
      meshes.bobs.visible = drawable;
      meshes.trail.visible = drawable && this.showTrails;
      if (!drawable) continue;
      for (let i = 0; i < dof; i++) qi[i] = q[s * dof + i];
      sys.positions(qi, points);
      this.placeRods(meshes.rods, sys.segments, points);
      this.placeBobs(meshes.bobs, points);
      this.pushTrail(meshes, points, rig.group.position);
    }
  }

  private placeRods(rods: THREE.InstancedMesh, segments: Lane['system']['segments'], p: Float64Array): void {
    const r = this.options.rodRadius;
    for (let j = 0; j < segments.length; j++) {
      const [i0, i1] = segments[j];
      va.set(p[i0 * 3], p[i0 * 3 + 1], p[i0 * 3 + 2]);
      vb.set(p[i1 * 3], p[i1 * 3 + 1], p[i1 * 3 + 2]);
      dir.subVectors(vb, va);
      const len = dir.length();
      if (len > 1e-12) quat.setFromUnitVectors(UP, dir.multiplyScalar(1 / len));
      else quat.identity();
      scl.set(r, len, r);
      va.add(vb).multiplyScalar(0.5);
      m4.compose(va, quat, scl);
      rods.setMatrixAt(j, m4);
    }
    rods.instanceMatrix.needsUpdate = true;
  }

  private placeBobs(bobs: THREE.InstancedMesh, p: Float64Array): void {
    const fixed = this.options.fixedPoints;
    const radius = this.options.pointRadius ?? ((i: number) => (fixed.includes(i) ? 0.04 : 0.09));
    quat.identity();
    for (let i = 0; i < bobs.count; i++) {
      const r = radius(i);
      va.set(p[i * 3], p[i * 3 + 1], p[i * 3 + 2]);
      scl.set(r, r, r);
      m4.compose(va, quat, scl);
      bobs.setMatrixAt(i, m4);
    }
    bobs.instanceMatrix.needsUpdate = true;
  }

  private pushTrail(meshes: RigMeshes, p: Float64Array, origin: THREE.Vector3): void {
    const pc = p.length / 3;
    const idx = this.options.trailPoint ?? pc - 1;
    const attr = meshes.trail.geometry.getAttribute('position') as THREE.BufferAttribute;
    const arr = attr.array as Float32Array;
    const n = this.options.trailLength;
    const x = p[idx * 3] + origin.x;
    const y = p[idx * 3 + 1] + origin.y;
    const z = p[idx * 3 + 2] + origin.z;
    // Newest vertex last, so it gets the brightest end of the colour ramp; the drawn range grows
    // from the end while the trail fills.
    arr.copyWithin(0, 3);
    arr[(n - 1) * 3] = x;
    arr[(n - 1) * 3 + 1] = y;
    arr[(n - 1) * 3 + 2] = z;
    if (meshes.trailFill < n) meshes.trailFill++;
    meshes.trail.geometry.setDrawRange(n - meshes.trailFill, meshes.trailFill);
    attr.needsUpdate = true;
  }

  private updateLabel(rig: LaneRig): void {
    const lane = rig.lane;
    const status =
      lane.status === 'running'
        ? lane.enabled
          ? lane.outOfRange
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
