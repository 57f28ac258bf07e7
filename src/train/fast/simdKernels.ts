import * as tf from '@tensorflow/tfjs-core';
import { TRAIN_KERNELS_WASM } from '../../generated/trainKernelsWasm.js';
import type { GradKernels } from './kernels.js';

/** A buffer in the kernels' arena: a byte offset into the module's memory and a length in values. */
export interface Slab {
  readonly ptr: number;
  readonly size: number;
  readonly f64: boolean;
}

/** The exports of wasm/trainKernels.ts (pointers are byte offsets into `memory`). */
interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  activate(...args: number[]): void;
  curvatureHessian(...args: number[]): void;
  reverseAdjoint(...args: number[]): void;
  tangentAdjoint(...args: number[]): void;
  columnSum(src: number, rows: number, cols: number, out: number): void;
  transpose(A: number, rows: number, cols: number, out: number): void;
  mmSmallK(A: number, m: number, kk: number, B: number, n: number, C: number): void;
  mmSmallN(A: number, m: number, kk: number, B: number, n: number, C: number): void;
  mmTNSmallK(A: number, m: number, kk: number, B: number, n: number, C: number): void;
}

/** Inner (or transposed-outer) dimensions up to this run in the module, not on the backend's GEMM. */
const SMALL = 16;
const ALIGN = 16;
const PAGE = 65536;

let compiled: WebAssembly.Module | null = null;
let compiling: Promise<WebAssembly.Module> | null = null;

function wasmBytes(): Uint8Array {
  const text = atob(TRAIN_KERNELS_WASM);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function simdError(e: unknown): Error {
  return new Error(
    `The exact-gradient kernels need WebAssembly SIMD (${e instanceof Error ? e.message : String(e)}); ` +
      'use a current browser or Node ≥ 20, or train with gradient: autodiff.',
  );
}

/**
 * Compile the training kernels ahead of use (asynchronously: browsers refuse synchronous compiles of
 * this size on the main thread). `Trainer.create` and `Trainer.resume` call it; afterwards
 * {@link SimdKernels} constructs synchronously.
 * @throws Error naming the missing feature where WebAssembly SIMD is unavailable
 */
export async function loadTrainKernels(): Promise<void> {
  if (compiled) return;
  compiling ??= WebAssembly.compile(wasmBytes() as BufferSource).catch((e: unknown) => {
    compiling = null;
    throw simdError(e);
  });
  compiled = await compiling;
}

/**
 * Whether the kernels compile here (compiling them synchronously when {@link loadTrainKernels} has not
 * run; a browser's main thread may refuse that, so call it first there).
 */
export function trainKernelsAvailable(): boolean {
  if (compiled) return true;
  try {
    compiled = new WebAssembly.Module(wasmBytes() as BufferSource);
    return true;
  } catch {
    return false;
  }
}

/**
 * {@link GradKernels} in float32: the elementwise kernels, the transposes and the products with a small
 * dimension (the input layer's) are wasm SIMD (wasm/trainKernels.ts) over one arena in the module's
 * memory, reused from call to call (it grows to the largest batch seen and stays); the wide GEMMs run on
 * the active TF.js backend (XNNPACK on wasm), their operands copied from and their results into the
 * arena. Deterministic: the same inputs give the same bits.
 */
export class SimdKernels implements GradKernels<Slab> {
  readonly float64 = false;
  private readonly x: KernelExports;
  private readonly base: number;
  private top: number;

  constructor() {
    if (!trainKernelsAvailable()) throw simdError(new Error('the module does not compile here'));
    this.x = new WebAssembly.Instance(compiled as WebAssembly.Module, {}).exports as unknown as KernelExports;
    this.base = Math.ceil(this.x.heapBase() / ALIGN) * ALIGN;
    this.top = this.base;
  }

  /** Bytes the arena holds now (its high-water mark). */
  get arenaBytes(): number {
    return this.x.memory.buffer.byteLength - this.base;
  }

  begin(): void {
    this.top = this.base;
  }

  private take(size: number, f64: boolean, zero: boolean): Slab {
    const bytes = Math.ceil((size * (f64 ? 8 : 4)) / ALIGN) * ALIGN;
    const ptr = this.top;
    const end = ptr + bytes;
    const mem = this.x.memory;
    if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / PAGE));
    this.top = end;
    if (zero) new Uint8Array(mem.buffer, ptr, bytes).fill(0);
    return { ptr, size, f64 };
  }

  alloc(size: number, zero = false): Slab {
    return this.take(size, false, zero);
  }

  alloc64(size: number): Slab {
    return this.take(size, true, true);
  }

  sub(t: Slab, offset: number, size: number): Slab {
    return { ptr: t.ptr + offset * (t.f64 ? 8 : 4), size, f64: t.f64 };
  }

  view(t: Slab): Float32Array {
    return new Float32Array(this.x.memory.buffer, t.ptr, t.size);
  }

  view64(t: Slab): Float64Array {
    return new Float64Array(this.x.memory.buffer, t.ptr, t.size);
  }

  mm(a: Slab, m: number, k: number, b: Slab, n: number): Slab {
    const out = this.alloc(m * n);
    if (k <= SMALL) this.x.mmSmallK(a.ptr, m, k, b.ptr, n, out.ptr);
    else if (n <= 4) this.x.mmSmallN(a.ptr, m, k, b.ptr, n, out.ptr);
    else this.backendMatMul(a, m, k, b, n, out);
    return out;
  }

  mmTN(a: Slab, m: number, k: number, b: Slab, n: number): Slab {
    const out = this.alloc(k * n);
    if (k <= SMALL) {
      this.x.mmTNSmallK(a.ptr, m, k, b.ptr, n, out.ptr);
      return out;
    }
    // Transposed here (the backend's transpose is several times slower), then a plain GEMM: the
    // backends run a GEMM with a transposed operand slower still.
    const at = this.alloc(m * k);
    this.x.transpose(a.ptr, m, k, at.ptr);
    this.backendMatMul(at, k, m, b, n, out);
    return out;
  }

  /** out = A [m, k] · B [k, n] on the TF.js backend's GEMM (XNNPACK on wasm). */
  private backendMatMul(a: Slab, m: number, k: number, b: Slab, n: number, out: Slab): void {
    tf.tidy(() => {
      const c = tf.matMul(tf.tensor2d(this.view(a), [m, k]), tf.tensor2d(this.view(b), [k, n]));
      const backend = tf.backend() as unknown as { typedArrayFromHeap?(t: tf.TensorInfo): Float32Array };
      // On wasm the product is read straight from the backend's heap (no intermediate copy).
      this.view(out).set(
        tf.getBackend() === 'wasm' && backend.typedArrayFromHeap
          ? backend.typedArrayFromHeap(c)
          : (c.dataSync() as Float32Array),
      );
    });
  }

  activate(
    act: 'softplus' | 'tanh',
    Z: Slab,
    bias: Slab,
    B: number,
    h: number,
    k: number,
    next: Slab,
    s1: Slab,
    s2: Slab,
    s3: Slab,
  ): void {
    this.x.activate(act === 'softplus' ? 0 : 1, Z.ptr, bias.ptr, B, h, k, next.ptr, s1.ptr, s2.ptr, s3.ptr);
  }

  curvatureHessian(
    G: Slab,
    s1: Slab,
    s2: Slab,
    Zd: Slab,
    B: number,
    h: number,
    k: number,
    delta: Slab,
    c: Slab,
    H: Slab,
  ): void {
    this.x.curvatureHessian(G.ptr, s1.ptr, s2.ptr, Zd.ptr, B, h, k, delta.ptr, c.ptr, H.ptr);
  }

  reverseAdjoint(
    dbar: Slab,
    Zd: Slab,
    rho: Slab,
    nu: Slab,
    s1: Slab,
    s2: Slab,
    s3: Slab,
    G: Slab,
    B: number,
    h: number,
    k: number,
    R: Slab,
    A: Slab,
    gb: Slab,
    zb: Slab,
  ): void {
    const p = [dbar, Zd, rho, nu, s1, s2, s3, G].map((t) => t.ptr);
    this.x.reverseAdjoint(...p, B, h, k, R.ptr, A.ptr, gb.ptr, zb.ptr);
  }

  tangentAdjoint(
    Zd: Slab,
    s1: Slab,
    s2: Slab,
    c: Slab,
    zb: Slab,
    AJ: Slab | null,
    rho: Slab,
    nu: Slab,
    R: Slab,
    A: Slab,
    B: number,
    h: number,
    k: number,
    Y: Slab,
  ): void {
    // Pointer 0 means "no layer above": the arena starts past the module's static data, never at 0.
    const p = [Zd, s1, s2, c, zb].map((t) => t.ptr);
    this.x.tangentAdjoint(...p, AJ ? AJ.ptr : 0, rho.ptr, nu.ptr, R.ptr, A.ptr, B, h, k, Y.ptr);
  }

  columnSum(src: Slab, rows: number, cols: number, out: Slab): void {
    this.x.columnSum(src.ptr, rows, cols, out.ptr);
  }
}
