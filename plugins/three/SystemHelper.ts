import {
  BufferAttribute,
  BufferGeometry,
  type ColorRepresentation,
  CylinderGeometry,
  InstancedMesh,
  LineBasicMaterial,
  LineSegments,
  type Material,
  Matrix4,
  MeshStandardMaterial,
  Object3D,
  Quaternion,
  Vector3,
} from 'three';
import type { PhysicsSystem } from './PhysicsSystem.js';

/** Options of {@link SystemHelper} (`physics.createSystemHelper(handle, options)`). */
export interface SystemHelperOptions {
  /**
   * Which copy to draw, or `'all'` for every copy of the batch (in one draw call).
   * @default 0
   */
  index?: number | 'all';
  /**
   * `'line'`: one line per segment (rods, string); `'tube'`: one instanced cylinder per segment.
   * @default 'line'
   */
  style?: 'line' | 'tube';
  /**
   * Colour of the rods.
   * @default 0xcccccc
   */
  color?: ColorRepresentation;
  /**
   * Tube radius (style `'tube'`), in scene units.
   * @default 0.015
   */
  radius?: number;
  /**
   * Opacity; below 1 the material is transparent (used for ghosts).
   * @default 1
   */
  opacity?: number;
  /**
   * A material to use instead of the helper's own (the caller keeps ownership: not disposed).
   * @default undefined
   */
  material?: Material;
}

const up = new Vector3(0, 1, 0);
const a = new Vector3();
const b = new Vector3();
const dir = new Vector3();
const rotation = new Quaternion();
const scale = new Vector3();
const matrix = new Matrix4();

/**
 * Draws the segments of a system (`system.segments`: rods, chain links, string pieces) following its
 * interpolated state, as lines or as tubes. Coordinates are world space: add it to the scene (or to an
 * untransformed group). `physics.createSystemHelper` updates it after every `physics.step`; call
 * {@link SystemHelper.update} yourself when using the class directly.
 * @example scene.add(physics.createSystemHelper(dp, { style: 'tube', color: 'orange' }));
 */
export class SystemHelper extends Object3D {
  /** The system drawn. */
  readonly system: PhysicsSystem;
  /** The drawable: LineSegments (style 'line') or an InstancedMesh of cylinders (style 'tube'). */
  readonly drawable: LineSegments | InstancedMesh;
  private readonly copies: number[];
  private readonly points: Float64Array;
  private readonly ownsMaterial: boolean;

  constructor(system: PhysicsSystem, options: SystemHelperOptions = {}) {
    super();
    this.system = system;
    const index = options.index ?? 0;
    if (index !== 'all') system.checkIndex(index);
    this.copies = index === 'all' ? Array.from({ length: system.count }, (_, i) => i) : [index];
    const segments = system.system.segments.length;
    const n = this.copies.length * segments;
    const opacity = options.opacity ?? 1;
    const color = options.color ?? 0xcccccc;
    this.points = new Float64Array(system.system.pointCount * 3);
    this.ownsMaterial = options.material === undefined;
    const transparent = opacity < 1;
    if ((options.style ?? 'line') === 'line') {
      const geometry = new BufferGeometry();
      geometry.setAttribute('position', new BufferAttribute(new Float32Array(n * 6), 3));
      const material =
        options.material ?? new LineBasicMaterial({ color, transparent, opacity, depthWrite: !transparent });
      this.drawable = new LineSegments(geometry, material);
    } else {
      const radius = options.radius ?? 0.015;
      if (!(radius > 0)) throw new Error(`SystemHelper: radius must be > 0, got ${radius}`);
      // A unit-height cylinder along y, centred: scaled to each segment's length and rotated onto it.
      const geometry = new CylinderGeometry(radius, radius, 1, 12, 1);
      const material =
        options.material ??
        new MeshStandardMaterial({ color, transparent, opacity, depthWrite: !transparent });
      this.drawable = new InstancedMesh(geometry, material, n);
    }
    this.drawable.frustumCulled = false;
    this.name = `${system.name} helper`;
    this.add(this.drawable);
    this.update();
  }

  /** Move the segments to the system's current (interpolated) state. */
  update(): void {
    const segs = this.system.system.segments;
    const pts = this.points;
    let k = 0;
    if (this.drawable instanceof LineSegments) {
      const attr = this.drawable.geometry.getAttribute('position') as BufferAttribute;
      const arr = attr.array as Float32Array;
      for (const c of this.copies) {
        this.system.points3(c, pts);
        for (const [i, j] of segs) {
          arr[k++] = pts[3 * i];
          arr[k++] = pts[3 * i + 1];
          arr[k++] = pts[3 * i + 2];
          arr[k++] = pts[3 * j];
          arr[k++] = pts[3 * j + 1];
          arr[k++] = pts[3 * j + 2];
        }
      }
      attr.needsUpdate = true;
      return;
    }
    const mesh = this.drawable;
    for (const c of this.copies) {
      this.system.points3(c, pts);
      for (const [i, j] of segs) {
        a.set(pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
        b.set(pts[3 * j], pts[3 * j + 1], pts[3 * j + 2]);
        dir.subVectors(b, a);
        const len = dir.length();
        if (len > 0) rotation.setFromUnitVectors(up, dir.divideScalar(len));
        else rotation.identity();
        scale.set(1, len, 1);
        matrix.compose(a.add(b).multiplyScalar(0.5), rotation, scale);
        mesh.setMatrixAt(k++, matrix);
      }
    }
    mesh.instanceMatrix.needsUpdate = true;
  }

  /** Free the geometry and (when created here) the material; remove from the parent. Idempotent. */
  override dispose(): void {
    this.drawable.geometry.dispose();
    if (this.ownsMaterial) (this.drawable.material as Material).dispose();
    if (this.drawable instanceof InstancedMesh) this.drawable.dispose();
    this.removeFromParent();
    super.dispose();
  }
}
