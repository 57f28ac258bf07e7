import * as THREE from 'three';
import { CSS2DObject } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import type { SurfaceView as SurfaceViewSpec } from '../scenes/types.js';
import type { Lane } from './Lane.js';
import { escapeHtml } from './RigView.js';
import { gridOf, nodeOfPoint, type StateEdit, type View3D, type ViewGrab } from './View3D.js';

/** Colours of the height ramp: troughs, rest, crests (the lane's colour, darkened, sits at rest). */
const TROUGH = new THREE.Color('#1d4ed8');
const CREST = new THREE.Color('#f97316');
/** How much of the lane's colour the surface keeps at rest (a white lane would wash out the lighting). */
const REST_SHADE = 0.55;

interface Sheet {
  lane: Lane;
  group: THREE.Group;
  mesh: THREE.Mesh<THREE.BufferGeometry, THREE.MeshStandardMaterial>;
  rim: THREE.Mesh<THREE.BufferGeometry, THREE.MeshStandardMaterial>;
  points: Float64Array;
  base: THREE.Color;
  label: CSS2DObject;
  labelEl: HTMLDivElement;
  lastLabel: string;
  /** Half the height the sheet may reach (its initial peak, with room for modes that add up). */
  reach: number;
  /** Extent of the grid in x and z (its rim at the lane's origin … extent). */
  width: number;
  depth: number;
}

/** Width σ of a poke's Gaussian bump, as a share of the grid's side (in nodes; at least one node). */
const POKE_WIDTH = 1 / 8;

/**
 * A grid system (the membrane) drawn as a lit, shadow-casting surface per lane: one `BufferGeometry` whose
 * vertices are the system's points (`positions(q)`, boundary included), rewritten in place every frame
 * (`needsUpdate`, normals recomputed), coloured by height, inside a rim; lanes side by side along x.
 * A press on a surface grabs the node nearest the hit; dragging up or down pokes it (a `poke` state
 * edit: that node of every lane at the pointer's height, a smooth bump around it), with the height
 * clamped to the learned lanes' training box (or, with none, to the height the view is framed for).
 */
export class SurfaceView implements View3D {
  readonly group = new THREE.Group();
  private readonly sheets: Sheet[] = [];
  /** Displacements are drawn this many times larger. */
  private readonly heightScale: number;

  constructor(lanes: readonly Lane[], spec: SurfaceViewSpec) {
    const n = lanes.length;
    const [ox, oy, oz] = spec.offset ?? [0, 0, 0];
    this.heightScale = spec.heightScale ?? 1;
    lanes.forEach((lane, k) => {
      const sys = lane.system;
      const { columns, rows } = spec;
      if (sys.pointCount !== columns * rows) {
        throw new Error(
          `surface view: lane '${lane.key}' has ${sys.pointCount} points, the grid needs ${columns}×${rows}`,
        );
      }
      const group = new THREE.Group();
      group.name = `surface:${lane.key}`;
      group.position.set(ox + (k - (n - 1) / 2) * spec.spacing, oy, oz);
      const geometry = new THREE.BufferGeometry();
      const position = new THREE.BufferAttribute(new Float32Array(columns * rows * 3), 3);
      position.setUsage(THREE.DynamicDrawUsage);
      const color = new THREE.BufferAttribute(new Float32Array(columns * rows * 3), 3);
      color.setUsage(THREE.DynamicDrawUsage);
      geometry.setAttribute('position', position);
      geometry.setAttribute('color', color);
      const index: number[] = [];
      for (let r = 0; r + 1 < rows; r++) {
        for (let c = 0; c + 1 < columns; c++) {
          const a = r * columns + c;
          index.push(a, a + columns, a + 1, a + 1, a + columns, a + columns + 1);
        }
      }
      geometry.setIndex(index);
      const material = new THREE.MeshStandardMaterial({
        vertexColors: true,
        roughness: 0.55,
        metalness: 0.05,
        side: THREE.DoubleSide,
      });
      const mesh = new THREE.Mesh(geometry, material);
      mesh.castShadow = true;
      mesh.receiveShadow = true;
      // The vertices move every frame; the grid never leaves its rim's box, which the view frames.
      mesh.frustumCulled = false;
      const points = new Float64Array(sys.pointCount * 3);
      sys.positions(lane.q0.subarray(0, sys.dof), points);
      let width = 0;
      let depth = 0;
      let peak = 0;
      for (let i = 0; i < sys.pointCount; i++) {
        width = Math.max(width, points[3 * i]);
        depth = Math.max(depth, points[3 * i + 2]);
        peak = Math.max(peak, Math.abs(points[3 * i + 1]) * this.heightScale);
      }
      const reach = Math.max(0.1, 1.5 * peak);
      const rim = this.buildRim(width, depth);
      group.add(mesh, rim);

      const labelEl = document.createElement('div');
      labelEl.className = 'lane-label';
      labelEl.style.setProperty('--lane-color', lane.color);
      const label = new CSS2DObject(labelEl);
      label.position.set(width / 2, reach + 0.3, 0);
      group.add(label);
      this.group.add(group);
      const sheet: Sheet = {
        lane,
        group,
        mesh,
        rim,
        points,
        base: new THREE.Color(lane.color).multiplyScalar(REST_SHADE),
        label,
        labelEl,
        lastLabel: '',
        reach,
        width,
        depth,
      };
      this.sheets.push(sheet);
      this.draw(sheet, lane.q0);
    });
  }

  get labels(): readonly THREE.Object3D[] {
    return this.sheets.map((x) => x.label);
  }

  bounds(): THREE.Box3 {
    const box = new THREE.Box3();
    for (const s of this.sheets) {
      const p = s.group.position;
      box.expandByPoint(new THREE.Vector3(p.x - 0.1, p.y - s.reach, p.z - 0.1));
      box.expandByPoint(new THREE.Vector3(p.x + s.width + 0.1, p.y + s.reach + 0.35, p.z + s.depth + 0.1));
    }
    return box;
  }

  update(_t: number): void {
    for (const s of this.sheets) {
      const lane = s.lane;
      const drawable = lane.enabled && lane.drawable;
      s.mesh.visible = drawable;
      this.updateLabel(s);
      if (drawable) this.draw(s, lane.qRender);
    }
  }

  reset(): void {}

  pick(raycaster: THREE.Raycaster): ViewGrab | null {
    const meshes: THREE.Object3D[] = [];
    for (const s of this.sheets) {
      if (!s.mesh.visible || !s.lane.handle || !gridOf(s.lane.system)) continue;
      // The vertices move every frame: bound what is drawn now.
      s.mesh.geometry.computeBoundingSphere();
      meshes.push(s.mesh);
    }
    const hit = raycaster.intersectObjects(meshes, false)[0];
    const sheet = hit && this.sheets.find((s) => s.mesh === hit.object);
    if (!sheet) return null;
    const grid = gridOf(sheet.lane.system)!;
    const local = sheet.group.worldToLocal(hit.point.clone());
    const h = sheet.width / (grid.nx + 1);
    const i = Math.min(grid.nx, Math.max(1, Math.round(local.x / h)));
    const j = Math.min(grid.ny, Math.max(1, Math.round(local.z / h)));
    return { lane: sheet.lane, copy: 0, point: j * (grid.nx + 2) + i, position: hit.point.clone() };
  }

  /**
   * A poke of the grabbed node to the pointer's height: the ray meets the vertical plane through the
   * node that faces the camera (a camera looking straight down: the plane facing it).
   */
  edit(grab: ViewGrab, ray: THREE.Ray): StateEdit | null {
    const sheet = this.sheets.find((s) => s.lane === grab.lane);
    const grid = sheet && gridOf(sheet.lane.system);
    if (!sheet || !grid || nodeOfPoint(grid, grab.point) < 0) return null;
    const h = sheet.width / (grid.nx + 1);
    const at = new THREE.Vector3(
      (grab.point % (grid.nx + 2)) * h,
      0,
      Math.floor(grab.point / (grid.nx + 2)) * h,
    );
    sheet.group.localToWorld(at);
    const normal = new THREE.Vector3(ray.direction.x, 0, ray.direction.z);
    if (normal.lengthSq() < 1e-6) normal.copy(ray.direction);
    const hit = ray.intersectPlane(
      new THREE.Plane().setFromNormalAndCoplanarPoint(normal.normalize(), at),
      at,
    );
    if (!hit) return null;
    const limit = this.pokeLimit(sheet);
    const height = Math.max(-limit, Math.min(limit, (hit.y - sheet.group.position.y) / this.heightScale));
    const width = Math.max(1, POKE_WIDTH * Math.min(grid.nx, grid.ny));
    return { kind: 'poke', point: grab.point, copy: 0, value: [height, width] };
  }

  pointOf(laneKey: string, point: number, _copy: number): THREE.Vector3 | null {
    const sheet = this.sheets.find((s) => s.lane.key === laneKey);
    if (!sheet?.mesh.visible || !(point >= 0 && point < sheet.lane.system.pointCount)) return null;
    const pos = sheet.mesh.geometry.getAttribute('position') as THREE.BufferAttribute;
    return sheet.group.localToWorld(new THREE.Vector3().fromBufferAttribute(pos, point));
  }

  /**
   * Largest |height| a poke sets: the narrowest q bound of the lanes' training ranges (the learned
   * membrane's box), or, with no learned lane, the height this view is framed for.
   */
  private pokeLimit(sheet: Sheet): number {
    let limit = Infinity;
    for (const s of this.sheets) {
      for (const [lo, hi] of s.lane.ranges?.q ?? []) limit = Math.min(limit, Math.abs(lo), Math.abs(hi));
    }
    return Number.isFinite(limit) && limit > 0 ? limit : sheet.reach / this.heightScale;
  }

  dispose(): void {
    for (const s of this.sheets) {
      s.mesh.geometry.dispose();
      s.mesh.material.dispose();
      s.rim.geometry.dispose();
      s.rim.material.dispose();
      s.label.removeFromParent();
      s.labelEl.remove();
    }
    this.group.removeFromParent();
  }

  probe(): ReturnType<View3D['probe']> {
    const instances: Record<string, number> = {};
    const vertexSum: Record<string, number> = {};
    for (const s of this.sheets) {
      const arr = s.mesh.geometry.getAttribute('position').array as Float32Array;
      let sum = 0;
      for (let i = 1; i < arr.length; i += 3) sum += Math.abs(arr[i]);
      instances[s.lane.key] = arr.length / 3;
      vertexSum[s.lane.key] = sum;
    }
    return { kind: 'surface', instances, vertexSum };
  }

  /** Write the sheet's vertices (and height colours) for state q, in place. */
  private draw(s: Sheet, q: Float64Array): void {
    const sys = s.lane.system;
    sys.positions(q.subarray(0, sys.dof), s.points);
    const geometry = s.mesh.geometry;
    const position = geometry.getAttribute('position') as THREE.BufferAttribute;
    const color = geometry.getAttribute('color') as THREE.BufferAttribute;
    const pos = position.array as Float32Array;
    const col = color.array as Float32Array;
    const c = tmp;
    for (let i = 0; i < s.points.length; i += 3) {
      pos[i] = s.points[i];
      pos[i + 1] = s.points[i + 1] * this.heightScale;
      pos[i + 2] = s.points[i + 2];
      const h = Math.max(-1, Math.min(1, pos[i + 1] / (s.reach / 1.5)));
      c.copy(s.base).lerp(h >= 0 ? CREST : TROUGH, Math.min(1, Math.abs(h) * 1.2));
      col[i] = c.r;
      col[i + 1] = c.g;
      col[i + 2] = c.b;
    }
    position.needsUpdate = true;
    color.needsUpdate = true;
    geometry.computeVertexNormals();
  }

  /** A low frame around the fixed boundary (x from 0 to width, z from 0 to depth, at y = 0). */
  private buildRim(
    width: number,
    depth: number,
  ): THREE.Mesh<THREE.BufferGeometry, THREE.MeshStandardMaterial> {
    const t = 0.05;
    const outer = new THREE.Shape();
    outer.moveTo(-t, -t);
    outer.lineTo(width + t, -t);
    outer.lineTo(width + t, depth + t);
    outer.lineTo(-t, depth + t);
    outer.closePath();
    const hole = new THREE.Path();
    hole.moveTo(0, 0);
    hole.lineTo(0, depth);
    hole.lineTo(width, depth);
    hole.lineTo(width, 0);
    hole.closePath();
    outer.holes.push(hole);
    const geometry = new THREE.ExtrudeGeometry(outer, { depth: 0.06, bevelEnabled: false });
    // The shape is drawn in x–y; lay it flat so its y becomes z, centred on the membrane's plane.
    geometry.rotateX(Math.PI / 2);
    geometry.translate(0, 0.03, 0);
    const rim = new THREE.Mesh(
      geometry,
      new THREE.MeshStandardMaterial({ color: 0x8b95a7, roughness: 0.4, metalness: 0.6 }),
    );
    rim.castShadow = true;
    rim.receiveShadow = true;
    return rim;
  }

  private updateLabel(s: Sheet): void {
    const lane = s.lane;
    const status =
      lane.status === 'running'
        ? lane.outOfRange
          ? '<span class="warn">outside training range</span>'
          : ''
        : lane.status === 'loading'
          ? '<span class="muted">loading…</span>'
          : `<span class="${lane.status === 'stopped' ? 'err' : 'muted'}">${escapeHtml(`${lane.status}: ${lane.reason}`)}</span>`;
    const scale = this.heightScale !== 1 ? `heights ×${this.heightScale}` : '';
    const small = [scale, status].filter(Boolean).join(' · ');
    const html = `<strong>${escapeHtml(lane.label)}</strong>${small ? `<small>${small}</small>` : ''}`;
    if (html !== s.lastLabel) {
      s.labelEl.innerHTML = html;
      s.lastLabel = html;
    }
  }
}

const tmp = new THREE.Color();
