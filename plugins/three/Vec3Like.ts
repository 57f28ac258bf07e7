/** A position or offset: a three.js Vector3 or any `{ x, y, z }`. */
export interface Vec3Like {
  x: number;
  y: number;
  z: number;
}
