import { BufferAttribute, BufferGeometry, type ColorRepresentation, Line, LineBasicMaterial } from 'three';

/**
 * A line through the last `length` positions of a point, kept in a fixed-size ring buffer: nothing is
 * allocated or shifted per frame. Each sample is written twice (at `head` and `head + length`), so the last
 * `length` samples are always one contiguous, ordered run of the vertex buffer, drawn with a draw range.
 * @example const trail = new TrailLine(256, 'cyan'); trail.push(x, y, z);
 */
export class TrailLine extends Line<BufferGeometry, LineBasicMaterial> {
  /** Samples kept. */
  readonly length: number;
  private head = 0;
  private filled = 0;
  private readonly positions: Float32Array;

  /**
   * @param length samples kept, ≥ 2
   * @param color line colour
   * @param opacity below 1 makes the line transparent
   */
  constructor(length = 256, color: ColorRepresentation = 0x66ccff, opacity = 1) {
    if (!(Number.isInteger(length) && length >= 2)) {
      throw new Error(`TrailLine: length must be an integer ≥ 2, got ${length}`);
    }
    const positions = new Float32Array(2 * length * 3);
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(positions, 3));
    geometry.setDrawRange(0, 0);
    super(geometry, new LineBasicMaterial({ color, transparent: opacity < 1, opacity }));
    this.length = length;
    this.positions = positions;
    this.frustumCulled = false;
  }

  /** Append a sample (world space); the oldest drops out once the buffer is full. */
  push(x: number, y: number, z: number): void {
    const { positions, length } = this;
    const i = this.head;
    for (const k of [i, i + length]) {
      positions[3 * k] = x;
      positions[3 * k + 1] = y;
      positions[3 * k + 2] = z;
    }
    this.head = (i + 1) % length;
    this.filled = Math.min(this.filled + 1, length);
    // The newest `filled` samples end at index head + length − 1 (mirror copy) in order.
    const start = this.head + length - this.filled;
    this.geometry.setDrawRange(start, this.filled);
    const attr = this.geometry.getAttribute('position') as BufferAttribute;
    attr.needsUpdate = true;
  }

  /** Forget every sample. */
  reset(): void {
    this.head = 0;
    this.filled = 0;
    this.geometry.setDrawRange(0, 0);
  }

  /**
   * The kept samples, oldest first, as `[count * 3]` (for tests and tools).
   */
  samples(): Float32Array {
    const start = this.geometry.drawRange.start;
    return this.positions.slice(3 * start, 3 * (start + this.filled));
  }

  /** Free the geometry and material; remove from the parent. */
  override dispose(): void {
    this.geometry.dispose();
    this.material.dispose();
    this.removeFromParent();
    super.dispose();
  }
}
