import * as tf from '@tensorflow/tfjs-core';
import type { RoutePrecision } from './Route.js';

/** Range and precision of a GLSL float type (`gl.getShaderPrecisionFormat`): bits of range and mantissa. */
export interface ShaderPrecision {
  /** log2 of the smallest representable magnitude's reciprocal (127 for IEEE float32). */
  readonly rangeMin: number;
  /** log2 of the largest representable magnitude (127 for IEEE float32, 15 for float16). */
  readonly rangeMax: number;
  /** Mantissa bits (23 for IEEE float32, 10 for float16, 0 when the type is not supported). */
  readonly precision: number;
}

/** Mantissa bits of float32: a fragment shader's highp below this computes in less than float32. */
export const FLOAT32_MANTISSA_BITS = 23;

/**
 * What the WebGL context of the TF.js webgl backend can do, and so in which precision the webgl
 * routes (`webgl`, its resident form, `webgl-fused`) compute. Read by {@link webglCapabilities}.
 */
export interface WebGLCapabilities {
  /** Whether a webgl backend context was read; false: no webgl backend in this page or process. */
  readonly available: boolean;
  /** WebGL version TF.js uses (`WEBGL_VERSION`: 0 none, 1, 2). */
  readonly version: number;
  /** The renderer string (unmasked when the context exposes it), '' when unknown. */
  readonly renderer: string;
  /** Whether the renderer is a software one (SwiftShader, llvmpipe). */
  readonly software: boolean;
  /** TF.js `WEBGL_RENDER_FLOAT32_CAPABLE`: the context can render to float32 textures. */
  readonly renderFloat32Capable: boolean;
  /** TF.js `WEBGL_RENDER_FLOAT32_ENABLED`: TF.js renders to float32 textures (else float16). */
  readonly renderFloat32Enabled: boolean;
  /** TF.js `WEBGL_FORCE_F16_TEXTURES`: float16 textures forced. */
  readonly forceF16Textures: boolean;
  /** Float textures can be sampled (core in WebGL2, `OES_texture_float` in WebGL1). */
  readonly floatTextures: boolean;
  /** Float32 colour buffers (`EXT_color_buffer_float`, `WEBGL_color_buffer_float` in WebGL1). */
  readonly colorBufferFloat: boolean;
  /** Float16 colour buffers (`EXT_color_buffer_half_float`). */
  readonly colorBufferHalfFloat: boolean;
  /** `highp float` in fragment shaders; null when not read. A mediump-only device reports precision 0. */
  readonly fragmentHighp: ShaderPrecision | null;
  /** `mediump float` in fragment shaders; null when not read. */
  readonly fragmentMediump: ShaderPrecision | null;
  /** Precision of the webgl routes' arithmetic here: `float16` or `float32`. */
  readonly precision: 'float32' | 'float16';
  /** Why the webgl routes compute in half precision (empty for float32). */
  readonly reasons: readonly string[];
}

/** The part of {@link WebGLCapabilities} the TF.js flags give. */
interface FlagPart {
  version: number;
  renderFloat32Capable: boolean;
  renderFloat32Enabled: boolean;
  forceF16Textures: boolean;
}

/** The part of {@link WebGLCapabilities} read from the WebGL context (once per page). */
interface ContextPart {
  renderer: string;
  software: boolean;
  floatTextures: boolean;
  colorBufferFloat: boolean;
  colorBufferHalfFloat: boolean;
  fragmentHighp: ShaderPrecision | null;
  fragmentMediump: ShaderPrecision | null;
}

let probed: ContextPart | undefined;

/** A TF.js flag, or `fallback` where it is not registered (no webgl backend module loaded). */
function flagBool(name: string, fallback: boolean): boolean {
  try {
    return tf.env().getBool(name);
  } catch {
    return fallback;
  }
}

function flags(): FlagPart {
  let version = 0;
  try {
    version = tf.env().getNumber('WEBGL_VERSION');
  } catch {
    version = 0;
  }
  return {
    version,
    renderFloat32Capable: flagBool('WEBGL_RENDER_FLOAT32_CAPABLE', false),
    renderFloat32Enabled: flagBool('WEBGL_RENDER_FLOAT32_ENABLED', true),
    forceF16Textures: flagBool('WEBGL_FORCE_F16_TEXTURES', false),
  };
}

/** The WebGL context of the initialised webgl backend (active or not), or null. */
function webglContext(): WebGLRenderingContext | null {
  try {
    const backend = tf.engine().registry.webgl as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
    return backend?.gpgpu?.gl ?? null;
  } catch {
    return null;
  }
}

function shaderPrecision(gl: WebGLRenderingContext, type: number): ShaderPrecision | null {
  const f = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, type);
  return f === null ? null : { rangeMin: f.rangeMin, rangeMax: f.rangeMax, precision: f.precision };
}

/** Read what the context can do; undefined when no webgl backend is initialised. */
function probe(): ContextPart | undefined {
  if (probed !== undefined) return probed;
  const gl = webglContext();
  if (gl === null) return undefined;
  const has = (name: string) => {
    try {
      return gl.getExtension(name) !== null;
    } catch {
      return false;
    }
  };
  let renderer = '';
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  } catch {
    renderer = '';
  }
  const webgl2 = typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext;
  probed = {
    renderer,
    software: /swiftshader|llvmpipe|software|softpipe/i.test(renderer),
    floatTextures: webgl2 || has('OES_texture_float'),
    colorBufferFloat: has('EXT_color_buffer_float') || (!webgl2 && has('WEBGL_color_buffer_float')),
    colorBufferHalfFloat: has('EXT_color_buffer_half_float'),
    fragmentHighp: shaderPrecision(gl, gl.HIGH_FLOAT),
    fragmentMediump: shaderPrecision(gl, gl.MEDIUM_FLOAT),
  };
  return probed;
}

/**
 * Why WebGL computes in half precision with these flags and this fragment highp (empty: float32). Pure.
 * @param highp the fragment shader's highp float, null when unknown (taken as float32)
 */
export function halfPrecisionReasons(
  f: Pick<WebGLCapabilities, 'renderFloat32Capable' | 'renderFloat32Enabled' | 'forceF16Textures'>,
  highp: ShaderPrecision | null,
): string[] {
  const reasons: string[] = [];
  if (f.forceF16Textures) reasons.push('float16 textures forced (WEBGL_FORCE_F16_TEXTURES)');
  else if (!f.renderFloat32Enabled)
    reasons.push(
      f.renderFloat32Capable
        ? 'float32 rendering disabled (WEBGL_RENDER_FLOAT32_ENABLED false): float16 textures'
        : 'no float32 render targets (WEBGL_RENDER_FLOAT32_CAPABLE false): float16 textures',
    );
  if (highp !== null && highp.precision < FLOAT32_MANTISSA_BITS)
    reasons.push(
      highp.precision === 0
        ? 'no highp float in fragment shaders (mediump only)'
        : `fragment highp float has ${highp.precision} mantissa bits (float32: ${FLOAT32_MANTISSA_BITS})`,
    );
  return reasons;
}

/**
 * What the WebGL context of the TF.js webgl backend can do: TF.js's float32 rendering flags, float
 * textures and colour buffers, and the range and precision of `highp` and `mediump` floats in fragment
 * shaders (`gl.getShaderPrecisionFormat`). The context is read once per page, after the webgl backend
 * has initialised; the TF.js flags are read on every call. The webgl routes compute in `float16` when
 * TF.js renders to float16 textures (`WEBGL_FORCE_F16_TEXTURES`, or no float32 render targets) or when
 * highp has fewer than 23 mantissa bits. Without a webgl backend, `available` is false and the
 * context fields are empty.
 */
export function webglCapabilities(): WebGLCapabilities {
  const f = flags();
  const ctx = probe();
  const highp = ctx?.fragmentHighp ?? null;
  const reasons = ctx === undefined && f.version === 0 ? [] : halfPrecisionReasons(f, highp);
  return {
    available: ctx !== undefined,
    ...f,
    renderer: ctx?.renderer ?? '',
    software: ctx?.software ?? false,
    floatTextures: ctx?.floatTextures ?? false,
    colorBufferFloat: ctx?.colorBufferFloat ?? false,
    colorBufferHalfFloat: ctx?.colorBufferHalfFloat ?? false,
    fragmentHighp: highp,
    fragmentMediump: ctx?.fragmentMediump ?? null,
    precision: reasons.length > 0 ? 'float16' : 'float32',
    reasons,
  };
}

/**
 * One line for a UI or a warning, e.g. `WebGL2 (SwiftShader…): float16 — float16 textures forced
 * (WEBGL_FORCE_F16_TEXTURES); highp 23 bits, 2^±127`. Pure.
 */
export function formatWebGLCapabilities(c: WebGLCapabilities): string {
  if (!c.available && c.version === 0) return 'no WebGL backend';
  const hp = c.fragmentHighp;
  const highp = hp === null ? 'highp unknown' : `highp ${hp.precision} bits, 2^±${hp.rangeMax}`;
  const why = c.reasons.length > 0 ? ` — ${c.reasons.join('; ')}` : '';
  const renderer = c.renderer === '' ? '' : ` (${c.renderer})`;
  return `WebGL${c.version}${renderer}: ${c.precision}${why}; ${highp}`;
}

/**
 * Whether the webgl backend computes in half precision (see {@link webglCapabilities}): float16
 * textures, or a fragment highp below float32.
 */
export function webglPrecision(): RoutePrecision {
  const f = flags();
  return halfPrecisionReasons(f, probe()?.fragmentHighp ?? null).length > 0 ? 'float16' : 'float32';
}

/**
 * Whether the WebGL context of the webgl backend is a software renderer (SwiftShader, llvmpipe,
 * "Software"): a property of the machine, read once per page and then fixed. False when the webgl
 * backend is not initialised or exposes no renderer string.
 */
export function softwareWebGL(): boolean {
  const ctx = probe();
  return ctx !== undefined && ctx.renderer !== '' && ctx.software;
}
