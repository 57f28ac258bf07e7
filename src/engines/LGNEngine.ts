import * as tf from '@tensorflow/tfjs-core';
import type { System } from '../core/types.js';
import { LearnedEngine } from '../learned/LearnedEngine.js';
import { type LearnedEngineInit, openEngine } from '../learned/openEngine.js';
import type { LearnedEngineOptions } from '../learned/options.js';
import { angleFlags, type EngineKernels, epsilonOf } from '../learned/Route.js';
import { readBack } from '../learned/readBack.js';
import type { WeightSet } from '../learned/weights.js';
import { type GraphEdges, gridEdges, solveGraph64 } from '../linalg/graphSolve.js';
import type { ModelSource } from '../model/loadModel.js';
import { type GridSize, lgnGrid } from '../model/metadata.js';
import { referenceAccelerations, referenceEnergy, wrapAngle } from '../model/reference.js';
import { packedLagrangianTerms } from '../nn/lagrangianTerms.js';
import { bandedTermsFolded, gridTermsFolded, solveGridCg } from '../nn/lgn.js';
import type { Accelerations } from '../nn/lnn.js';
import { type NetworkSpec, specFromModel, wrapAngles } from '../nn/mlp.js';
import { solveTridiagonal } from '../nn/solve.js';
import { solveTridiagonal64 } from '../nn/solve64.js';
import { tidy } from '../nn/tidy.js';
import { fusedLagrangianPack } from '../nn/wasmKernels.js';

/**
 * A Lagrangian Graph Network engine: one small shared network gives the local term ℓ of every edge,
 * L = Σ ℓ, so one model runs any graph size. On a path of N nodes with fixed ends (a string) H_vv is
 * tridiagonal and solved in O(N); on an nx × ny grid with a fixed boundary (a membrane; the run grid is
 * the system's `nx`, `ny`) H_vv couples grid neighbours and is solved by Jacobi-preconditioned conjugate
 * gradients in O(nodes) per iteration, never as a dense matrix. All edges of all states go through the
 * network as one batch.
 * @example const engine = await LGNEngine.load('assets/models/string-lgn', createSystem('string', { nodes: 32 }));
 * @example const drum = await LGNEngine.load('assets/models/membrane-lgn', createSystem('membrane', { nx: 64, ny: 64 }));
 */
export class LGNEngine extends LearnedEngine {
  readonly id = 'lgn' as const;

  /**
   * Load an lgn model, check it against `system` (any number of nodes), initialise the backend, upload
   * the weights.
   * @throws ModelFormatError for a bad file or a non-lgn model
   */
  static load(source: ModelSource, system: System, options: LearnedEngineOptions = {}): Promise<LGNEngine> {
    return openEngine('lgn', source, system, options, (init) => new LGNEngine(init));
  }

  /** The grid the model runs on (the system's `nx` × `ny`), or null for a path model. */
  readonly grid: GridSize | null;

  private constructor(init: LearnedEngineInit) {
    super(init, new LgnKernels(init));
    this.grid = lgnGrid(init.model.metadata, init.system);
  }

  /** Learned energy E = q̇·∂L/∂q̇ − L of one state (float64 evaluation of the network, O(edges)). */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return referenceEnergy(this.model, q, qd, this.grid ?? undefined);
  }
}

/**
 * The kernels of the `lgn` engine: every edge of every state through the shared network (fused wasm/cpu
 * pass or plain TF.js ops), then a float64 solve (tridiagonal on a path, sparse CG on a grid); the
 * resident tensor q̈. The `js` route is the float64 reference evaluator (on the run grid for a grid
 * model). An external force (α·Q) is added to the solve's right-hand side.
 */
class LgnKernels implements EngineKernels {
  /** The float64 reference on the run grid (grid models; a path model uses the route's default). */
  readonly js?: EngineKernels['js'];
  private readonly grid: GridSize | null;
  private readonly edges: GraphEdges | null;
  private gridOff = new Float64Array(0);
  private readonly dof: number;
  private readonly spec: NetworkSpec;
  private readonly epsilon: number | undefined;
  private readonly wrapFlags: readonly boolean[];
  private xq = new Float32Array(0);
  private xv = new Float32Array(0);
  private xs32 = new Float32Array(0);
  private diag = new Float64Array(0);
  private off = new Float64Array(0);
  private rhs = new Float64Array(0);

  constructor({ model, system, options }: LearnedEngineInit) {
    this.dof = system.dof;
    this.spec = specFromModel(model);
    this.epsilon = epsilonOf(model, options.epsilon);
    this.wrapFlags = angleFlags(model, system.dof);
    this.grid = lgnGrid(model.metadata, system);
    this.edges = this.grid === null ? null : gridEdges(this.grid.nx, this.grid.ny);
    const grid = this.grid;
    if (grid !== null) {
      const epsilon = this.epsilon;
      this.js = (q, qd, qdd, batch, flags, force) => {
        const size = batch * this.dof;
        referenceAccelerations(model, q.subarray(0, size), qd.subarray(0, size), qdd, batch, {
          flags,
          epsilon,
          force,
          grid,
        });
      };
    }
  }

  tensor(
    weights: WeightSet,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void {
    if (this.edges !== null) {
      this.gridTensor(this.edges, weights, q, qd, qdd, batch, flags, force);
      return;
    }
    const n = this.dof;
    const e = n + 1;
    const rows = batch * e;
    if (this.xq.length < 2 * rows) {
      this.xq = new Float32Array(2 * rows);
      this.xv = new Float32Array(2 * rows);
    }
    const wrap = this.spec.angles[0];
    // Edge k of state b joins node k−1 and node k (0-based; −1 and n are the fixed ends).
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < e; k++) {
        const r = 2 * (b * e + k);
        const left = k - 1;
        const right = k;
        const ql = left >= 0 ? q[b * n + left] : 0;
        const qr = right < n ? q[b * n + right] : 0;
        this.xq[r] = wrap ? wrapAngle(ql) : ql;
        this.xq[r + 1] = wrap ? wrapAngle(qr) : qr;
        this.xv[r] = left >= 0 ? qd[b * n + left] : 0;
        this.xv[r + 1] = right < n ? qd[b * n + right] : 0;
      }
    }
    const data = weights.fused ? this.fusedPack(weights, rows) : this.plainPack(weights, rows);
    if (this.diag.length < n) {
      this.diag = new Float64Array(n);
      this.off = new Float64Array(n);
      this.rhs = new Float64Array(n);
    }
    // Per edge row: H over rows (v_left, v_right) × columns (v_left, v_right, u) at 0..5, then
    // (g_qL, g_qR, g_vL, g_vR) at 6..9.
    const eps = this.epsilon;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        const asRight = (b * e + i) * 10; // edge i: node i is its right end
        const asLeft = (b * e + i + 1) * 10; // edge i+1: node i is its left end
        this.diag[i] = data[asRight + 4] + data[asLeft + 0];
        this.rhs[i] = data[asRight + 6 + 1] + data[asLeft + 6 + 0] - (data[asRight + 5] + data[asLeft + 2]);
        if (force !== null) this.rhs[i] += force[b * n + i];
        if (i + 1 < n) this.off[i] = 0.5 * (data[asLeft + 1] + data[asLeft + 3]);
      }
      flags[b] = solveTridiagonal64(this.diag, 0, this.off, 0, this.rhs, 0, qdd, b * n, n, eps);
    }
  }

  /**
   * The tensor kernel on a grid: the edges of `g` through the network, each edge's 2×2 block of H_vv
   * and gradients added into the sparse system, then the float64 CG solve (`solveGraph64`).
   */
  private gridTensor(
    g: GraphEdges,
    weights: WeightSet,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void {
    const n = this.dof;
    const e = g.a.length;
    const rows = batch * e;
    if (this.xq.length < 2 * rows) {
      this.xq = new Float32Array(2 * rows);
      this.xv = new Float32Array(2 * rows);
    }
    const wrap = this.spec.angles[0];
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < e; k++) {
        const r = 2 * (b * e + k);
        const ia = g.a[k];
        const ib = g.b[k];
        const qa = ia >= 0 ? q[b * n + ia] : 0;
        const qb = ib >= 0 ? q[b * n + ib] : 0;
        this.xq[r] = wrap ? wrapAngle(qa) : qa;
        this.xq[r + 1] = wrap ? wrapAngle(qb) : qb;
        this.xv[r] = ia >= 0 ? qd[b * n + ia] : 0;
        this.xv[r + 1] = ib >= 0 ? qd[b * n + ib] : 0;
      }
    }
    const data = weights.fused ? this.fusedPack(weights, rows) : this.plainPack(weights, rows);
    if (this.diag.length < n) {
      this.diag = new Float64Array(n);
      this.rhs = new Float64Array(n);
    }
    if (this.gridOff.length < e) this.gridOff = new Float64Array(e);
    const diag = this.diag;
    const rhs = this.rhs;
    const off = this.gridOff;
    // Per edge row (as on a path): H over rows (v_a, v_b) × columns (v_a, v_b, u) at 0..5, then
    // (g_qa, g_qb, g_va, g_vb) at 6..9; column u holds H_vq q̇ of the edge.
    for (let b = 0; b < batch; b++) {
      diag.fill(0, 0, n);
      if (force !== null) for (let i = 0; i < n; i++) rhs[i] = force[b * n + i];
      else rhs.fill(0, 0, n);
      for (let k = 0; k < e; k++) {
        const d = (b * e + k) * 10;
        const ia = g.a[k];
        const ib = g.b[k];
        if (ia >= 0) {
          diag[ia] += data[d];
          rhs[ia] += data[d + 6] - data[d + 2];
        }
        if (ib >= 0) {
          diag[ib] += data[d + 4];
          rhs[ib] += data[d + 7] - data[d + 5];
        }
        off[k] = ia >= 0 && ib >= 0 ? 0.5 * (data[d + 1] + data[d + 3]) : 0;
      }
      flags[b] = solveGraph64(g, diag, 0, off, 0, rhs, 0, qdd, b * n, this.epsilon);
    }
  }

  /** Fused wasm/cpu pass over all edges: primal rows, then 3 tangent rows per edge. */
  private fusedPack(weights: WeightSet, rows: number): Float32Array {
    const total = rows * 4;
    if (this.xs32.length < total * 4) this.xs32 = new Float32Array(total * 4);
    const xs = this.xs32;
    xs.fill(0, 0, total * 4);
    for (let r = 0; r < rows; r++) {
      const vl = this.xv[2 * r];
      const vr = this.xv[2 * r + 1];
      const p = 4 * r;
      xs[p] = this.xq[2 * r];
      xs[p + 1] = this.xq[2 * r + 1];
      xs[p + 2] = vl;
      xs[p + 3] = vr;
      const t = 4 * (rows + 3 * r);
      xs[t + 2] = 1; // e_{v_left}
      xs[t + 4 + 3] = 1; // e_{v_right}
      xs[t + 8] = vl; // u = (v_left, v_right, 0, 0)
      xs[t + 9] = vr;
    }
    const fused = weights.fused!;
    return readBack(() =>
      fusedLagrangianPack(fused, this.spec.activation, tf.tensor2d(xs.subarray(0, total * 4), [total, 4]), 2),
    );
  }

  /** Plain-op pass (webgl), same row layout as the fused one. */
  private plainPack(weights: WeightSet, rows: number): Float32Array {
    const folded = weights.folded!;
    return readBack(() => {
      const p = packedLagrangianTerms(
        folded,
        this.spec.activation,
        tf.tensor2d(this.xq.subarray(0, 2 * rows), [rows, 2]),
        tf.tensor2d(this.xv.subarray(0, 2 * rows), [rows, 2]),
      );
      const h = tf.reshape(tf.slice(p.hessian, [0, 0, 0], [rows, 2, 3]), [rows, 6]);
      return tf.concat([h, p.grad], 1);
    });
  }

  /**
   * q̈ of tensor states `[batch, dof]` entirely on the backend (the resident route), with α·Q `force`
   * `[batch, dof]` added to the right-hand side of the tridiagonal (path) or CG (grid) solve.
   */
  resident(
    weights: WeightSet,
    q: tf.Tensor2D,
    qd: tf.Tensor2D,
    force: tf.Tensor2D | null = null,
  ): Accelerations {
    return tidy(() => {
      if (this.grid !== null) {
        const g = gridTermsFolded(weights.folded!, this.spec, this.grid, wrapAngles(q, this.wrapFlags), qd);
        const rhs = force === null ? g.rhs : (tf.add(g.rhs, force) as tf.Tensor2D);
        const { x, flags } = solveGridCg(g.diag, g.offX, g.offY, rhs, this.epsilon);
        return { qdd: x, flags };
      }
      const t = bandedTermsFolded(weights.folded!, this.spec, wrapAngles(q, this.wrapFlags), qd);
      const rhs = force === null ? t.rhs : (tf.add(t.rhs, force) as tf.Tensor2D);
      const { x, flags } = solveTridiagonal(t.diag, t.off, rhs, this.epsilon);
      return { qdd: x, flags };
    });
  }
}
