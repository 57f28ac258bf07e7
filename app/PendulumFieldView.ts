import * as THREE from 'three';
import { CSS2DObject } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import type { PendulumsView } from '../scenes/types.js';
import { SPHERICAL_MIN_COS, tiltSwingAngles } from '../src/index.js';
import type { Lane } from './Lane.js';
import { escapeHtml } from './RigView.js';
import type { StateEdit, View3D, ViewGrab } from './View3D.js';

interface Field {
  lane: Lane;
  group: THREE.Group;
  rods: THREE.InstancedMesh;
  bobs: THREE.InstancedMesh;
  /** Pivot of each copy, in the field group's frame: `[copies * 3]`. */
  pivots: Float64Array;
  points: Float64Array;
  reach: number;
  label: CSS2DObject;
  labelEl: HTMLDivElement;
  lastLabel: string;
}

const UP = new THREE.Vector3(0, 1, 0);
const m4 = new THREE.Matrix4();
const quat = new THREE.Quaternion();
const dir = new THREE.Vector3();
const pos = new THREE.Vector3();
const scale = new THREE.Vector3();
const colour = new THREE.Color();

/**
 * A batch of pendulums (every copy of a lane) hung from a square grid of pivots in the horizontal plane,
 * drawn as two InstancedMeshes per lane — one of rods, one of bobs — whose instance matrices are rewritten
 * every frame from the system's points (pivot first, the bob last). A bob's colour is the azimuth of its
 * rod about the vertical, so copies that swing in step share a colour and drift apart in hue. Lanes stand
 * side by side along x. A press on a bob of a spherical pendulum grabs that copy (the InstancedMesh's
 * instanceId); while held, its rod points at the pointer on the sphere of the rod's length about its pivot,
 * at rest (a `state` edit of that copy in every lane), kept within the learned model's chart domain: the
 * cap within 60° of the downward vertical (cos θ ≥ SPHERICAL_MIN_COS, so cos α ≥ ½; released at rest
 * there, the pendulum never leaves it).
 */
export class PendulumFieldView implements View3D {
  readonly group = new THREE.Group();
  private readonly fields: Field[] = [];
  private readonly rodGeometry = new THREE.CylinderGeometry(1, 1, 1, 5, 1).translate(0, 0.5, 0);
  private readonly bobGeometry = new THREE.SphereGeometry(1, 12, 8);
  private readonly rodMaterial = new THREE.MeshStandardMaterial({
    color: 0x9aa4b5,
    roughness: 0.5,
    metalness: 0.3,
  });
  private readonly bobMaterial = new THREE.MeshStandardMaterial({ roughness: 0.35, metalness: 0.1 });
  private readonly width: number;

  constructor(
    lanes: readonly Lane[],
    private readonly spec: PendulumsView,
  ) {
    const { columns, rows, pitch } = spec;
    const n = lanes.length;
    const first = lanes[0]?.system;
    const reach0 = first ? reachOf(first) : 1;
    this.width = (columns - 1) * pitch + 2 * reach0;
    lanes.forEach((lane, k) => {
      if (lane.batch !== columns * rows) {
        throw new Error(
          `pendulum field view: lane '${lane.key}' has ${lane.batch} copies, the grid needs ${columns}×${rows}`,
        );
      }
      const sys = lane.system;
      const reach = reachOf(sys);
      const group = new THREE.Group();
      group.name = `pendulums:${lane.key}`;
      group.position.x = (k - (n - 1) / 2) * (this.width + 1);
      const rods = new THREE.InstancedMesh(this.rodGeometry, this.rodMaterial, lane.batch);
      const bobs = new THREE.InstancedMesh(this.bobGeometry, this.bobMaterial, lane.batch);
      for (const mesh of [rods, bobs]) {
        mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
        mesh.castShadow = true;
        mesh.receiveShadow = true;
        // Instances move far from the base geometry's bounds; the view frames the whole field instead.
        mesh.frustumCulled = false;
      }
      rods.name = `rods:${lane.key}`;
      bobs.name = `bobs:${lane.key}`;
      const pivots = new Float64Array(lane.batch * 3);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < columns; c++) {
          const b = r * columns + c;
          pivots[3 * b] = (c - (columns - 1) / 2) * pitch;
          pivots[3 * b + 2] = (r - (rows - 1) / 2) * pitch;
        }
      }
      group.add(rods, bobs);
      const labelEl = document.createElement('div');
      labelEl.className = 'lane-label';
      labelEl.style.setProperty('--lane-color', lane.color);
      const label = new CSS2DObject(labelEl);
      label.position.set(0, 0.5, -((rows - 1) / 2) * pitch - 0.3);
      group.add(label);
      this.group.add(group);
      const field: Field = {
        lane,
        group,
        rods,
        bobs,
        pivots,
        points: new Float64Array(sys.pointCount * 3),
        reach,
        label,
        labelEl,
        lastLabel: '',
      };
      this.fields.push(field);
      this.draw(field, lane.q0);
    });
  }

  get labels(): readonly THREE.Object3D[] {
    return this.fields.map((x) => x.label);
  }

  bounds(): THREE.Box3 {
    const box = new THREE.Box3();
    const { columns, rows, pitch } = this.spec;
    for (const f of this.fields) {
      const x = f.group.position.x;
      const hx = ((columns - 1) / 2) * pitch + f.reach * 0.8;
      const hz = ((rows - 1) / 2) * pitch + f.reach * 0.8;
      box.expandByPoint(new THREE.Vector3(x - hx, -f.reach, -hz));
      box.expandByPoint(new THREE.Vector3(x + hx, 0.6, hz));
    }
    return box;
  }

  update(_t: number): void {
    for (const f of this.fields) {
      const lane = f.lane;
      const drawable = lane.enabled && lane.drawable;
      f.rods.visible = drawable;
      f.bobs.visible = drawable;
      this.updateLabel(f);
      if (drawable) this.draw(f, lane.qRender);
    }
  }

  reset(): void {}

  pick(raycaster: THREE.Raycaster): ViewGrab | null {
    const meshes: THREE.Object3D[] = [];
    for (const f of this.fields) {
      if (!f.bobs.visible || !f.lane.handle || !draggable(f.lane.system)) continue;
      // Instances move every frame: bound where they are drawn now.
      f.bobs.computeBoundingSphere();
      meshes.push(f.bobs);
    }
    const hit = raycaster.intersectObjects(meshes, false)[0];
    const field = hit && this.fields.find((f) => f.bobs === hit.object);
    if (!field || hit.instanceId === undefined) return null;
    const point = field.lane.system.pointCount - 1;
    return { lane: field.lane, copy: hit.instanceId, point, position: hit.point.clone() };
  }

  /**
   * The grabbed copy's rod toward the pointer: where the ray meets the sphere of the rod's length about
   * the pivot (of the two crossings, the one nearer the bob now; a ray that misses: its closest point),
   * clamped to the cap cos θ ≥ {@link SPHERICAL_MIN_COS}; at rest.
   */
  edit(grab: ViewGrab, ray: THREE.Ray): StateEdit | null {
    const f = this.fields.find((x) => x.lane === grab.lane);
    if (!f || !draggable(f.lane.system)) return null;
    const sys = f.lane.system;
    const b = grab.copy;
    const p = new Float64Array(sys.pointCount * 3);
    sys.positions(f.lane.q.subarray(b * sys.dof, (b + 1) * sys.dof), p);
    const pivot = f.group.localToWorld(
      new THREE.Vector3(f.pivots[3 * b] + p[0], p[1], f.pivots[3 * b + 2] + p[2]),
    );
    const last = 3 * (sys.pointCount - 1);
    const bob = f.group.localToWorld(
      new THREE.Vector3(f.pivots[3 * b] + p[last], p[last + 1], f.pivots[3 * b + 2] + p[last + 2]),
    );
    const l = Math.hypot(p[last] - p[0], p[last + 1] - p[1], p[last + 2] - p[2]);
    const to = ray.origin.clone().sub(pivot);
    const bq = to.dot(ray.direction);
    const disc = bq * bq - (to.lengthSq() - l * l);
    const target = new THREE.Vector3();
    if (disc >= 0) {
      const near = ray.at(-bq - Math.sqrt(disc), new THREE.Vector3());
      const far = ray.at(-bq + Math.sqrt(disc), new THREE.Vector3());
      target.copy(near.distanceToSquared(bob) <= far.distanceToSquared(bob) ? near : far);
    } else {
      ray.closestPointToPoint(pivot, target);
    }
    const d = target.sub(pivot);
    if (!(d.lengthSq() > 0)) return null;
    d.normalize();
    // The cap: cos θ = −d_y ≥ SPHERICAL_MIN_COS.
    if (-d.y < SPHERICAL_MIN_COS) {
      const side = new THREE.Vector3(d.x, 0, d.z);
      if (side.lengthSq() < 1e-12) side.set(1, 0, 0);
      side.setLength(Math.sqrt(1 - SPHERICAL_MIN_COS ** 2));
      d.set(side.x, -SPHERICAL_MIN_COS, side.z);
    }
    const angles = new Float64Array(2);
    tiltSwingAngles(d.x, d.y, d.z, angles);
    return { kind: 'state', point: grab.point, copy: b, value: [angles[0], angles[1], 0, 0] };
  }

  pointOf(laneKey: string, point: number, copy: number): THREE.Vector3 | null {
    const f = this.fields.find((x) => x.lane.key === laneKey);
    const sys = f?.lane.system;
    if (!f || !sys || !f.bobs.visible || !(copy >= 0 && copy < f.lane.batch)) return null;
    if (!(point >= 0 && point < sys.pointCount)) return null;
    const p = new Float64Array(sys.pointCount * 3);
    sys.positions(f.lane.qRender.subarray(copy * sys.dof, (copy + 1) * sys.dof), p);
    return f.group.localToWorld(
      new THREE.Vector3(
        f.pivots[3 * copy] + p[3 * point],
        p[3 * point + 1],
        f.pivots[3 * copy + 2] + p[3 * point + 2],
      ),
    );
  }

  dispose(): void {
    for (const f of this.fields) {
      f.rods.dispose();
      f.bobs.dispose();
      f.label.removeFromParent();
      f.labelEl.remove();
    }
    this.rodGeometry.dispose();
    this.bobGeometry.dispose();
    this.rodMaterial.dispose();
    this.bobMaterial.dispose();
    this.group.removeFromParent();
  }

  probe(): ReturnType<View3D['probe']> {
    const instances: Record<string, number> = {};
    const vertexSum: Record<string, number> = {};
    for (const f of this.fields) {
      instances[f.lane.key] = f.bobs.count;
      let sum = 0;
      const arr = f.bobs.instanceMatrix.array as Float32Array;
      // Translation part of each instance matrix (elements 12, 13, 14).
      for (let i = 0; i < arr.length; i += 16)
        sum += Math.abs(arr[i + 12]) + Math.abs(arr[i + 13]) + Math.abs(arr[i + 14]);
      vertexSum[f.lane.key] = sum;
    }
    return { kind: 'pendulums', instances, vertexSum };
  }

  /** Place every copy's rod and bob for the flat state `q` (`[copies * dof]`). */
  private draw(f: Field, q: Float64Array): void {
    const sys = f.lane.system;
    const dof = sys.dof;
    const p = f.points;
    const last = sys.pointCount - 1;
    const rodRadius = 0.012 * Math.max(1, f.reach);
    const bobRadius = Math.min(0.1, this.spec.pitch * 0.12) * Math.max(1, f.reach);
    for (let b = 0; b < f.lane.batch; b++) {
      sys.positions(q.subarray(b * dof, (b + 1) * dof), p);
      const px = f.pivots[3 * b];
      const pz = f.pivots[3 * b + 2];
      dir.set(p[3 * last] - p[0], p[3 * last + 1] - p[1], p[3 * last + 2] - p[2]);
      const length = dir.length();
      if (length > 0) dir.divideScalar(length);
      else dir.set(0, -1, 0);
      quat.setFromUnitVectors(UP, dir);
      pos.set(px + p[0], p[1], pz + p[2]);
      scale.set(rodRadius, length, rodRadius);
      f.rods.setMatrixAt(b, m4.compose(pos, quat, scale));
      pos.set(px + p[3 * last], p[3 * last + 1], pz + p[3 * last + 2]);
      quat.identity();
      scale.setScalar(bobRadius);
      f.bobs.setMatrixAt(b, m4.compose(pos, quat, scale));
      // Hue: the rod's azimuth about the vertical; lightness: how far it swings out.
      const azimuth = Math.atan2(dir.z, dir.x) / (2 * Math.PI);
      const swing = Math.min(1, Math.hypot(dir.x, dir.z));
      colour.setHSL((azimuth + 1) % 1, 0.8, 0.35 + 0.3 * swing, THREE.SRGBColorSpace);
      f.bobs.setColorAt(b, colour);
    }
    f.rods.instanceMatrix.needsUpdate = true;
    f.bobs.instanceMatrix.needsUpdate = true;
    if (f.bobs.instanceColor) f.bobs.instanceColor.needsUpdate = true;
  }

  private updateLabel(f: Field): void {
    const lane = f.lane;
    const status =
      lane.status === 'running'
        ? `${lane.batch} pendulums${lane.outOfRange ? ' · <span class="warn">outside training range</span>' : ''}`
        : lane.status === 'loading'
          ? '<span class="muted">loading…</span>'
          : `<span class="${lane.status === 'stopped' ? 'err' : 'muted'}">${escapeHtml(`${lane.status}: ${lane.reason}`)}</span>`;
    const html = `<strong>${escapeHtml(lane.label)}</strong><small>${status}</small>`;
    if (html !== f.lastLabel) {
      f.labelEl.innerHTML = html;
      f.lastLabel = html;
    }
  }
}

/** Whether a press may drag a copy of the system (a spherical pendulum: the rod follows the pointer). */
function draggable(sys: Lane['system']): boolean {
  return sys.id === 'spherical-pendulum' && sys.dof === 2 && sys.pointCount === 2;
}

/** Length of the pendulum at rest: the sum of its segments' lengths at q = 0. */
function reachOf(sys: Lane['system']): number {
  const p = new Float64Array(sys.pointCount * 3);
  sys.positions(new Float64Array(sys.dof), p);
  let reach = 0;
  for (const [a, b] of sys.segments) {
    reach += Math.hypot(p[3 * b] - p[3 * a], p[3 * b + 1] - p[3 * a + 1], p[3 * b + 2] - p[3 * a + 2]);
  }
  return reach || 1;
}
