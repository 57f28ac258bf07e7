import * as tf from '@tensorflow/tfjs-core';
import type { RoutePrecision } from './Route.js';

/**
 * Whether the webgl backend computes in half precision: a context that cannot render float32 textures
 * (`WEBGL_RENDER_FLOAT32_ENABLED` false, accepted with `allowFloat16`) or `WEBGL_FORCE_F16_TEXTURES`.
 */
export function webglPrecision(): RoutePrecision {
  const env = tf.env();
  const flag = (name: string): boolean | undefined => {
    try {
      return env.getBool(name);
    } catch {
      return undefined;
    }
  };
  return flag('WEBGL_RENDER_FLOAT32_ENABLED') === false || flag('WEBGL_FORCE_F16_TEXTURES') === true
    ? 'float16'
    : 'float32';
}

let software: boolean | undefined;

/**
 * Whether the WebGL context of the webgl backend is a software renderer (SwiftShader, llvmpipe,
 * "Software"): a property of the machine, read once per page and then fixed. False when the webgl
 * backend is not active or exposes no renderer string.
 */
export function softwareWebGL(): boolean {
  if (software !== undefined) return software;
  let renderer = '';
  try {
    const backend = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
    const gl = backend.gpgpu?.gl;
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    }
  } catch {
    renderer = '';
  }
  if (renderer === '') return false;
  software = /swiftshader|llvmpipe|software|softpipe/i.test(renderer);
  return software;
}
