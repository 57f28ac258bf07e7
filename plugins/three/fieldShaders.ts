/**
 * GLSL of {@link DoublePendulumField}: the closed-form double-pendulum q̈ (the same expression, term for
 * term, as `DoublePendulum.accelerations` and the fused RK4 kernel), an RK4 pass over a state texture,
 * a pass that turns angles into bob positions, and the per-pixel drawing of every pendulum in its cell.
 * State texel: (θ1, θ2, ω1, ω2); bob texel: (x1, y1, x2, y2) in units of the reach l1 + l2.
 */

/** Vertex shader of the compute passes and of the field's plane (passes the uv on). */
export const fieldVertex = /* glsl */ `
out vec2 vUv;
void main() {
  vUv = uv;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
}
`;

/** One RK4 step (`substeps` of dt each) of every texel; angles are wrapped to [−π, π) after each. */
export const rk4Fragment = /* glsl */ `
precision highp float;
precision highp sampler2D;
uniform sampler2D state;
uniform float dt;
uniform int substeps;
uniform float m1;
uniform float m2;
uniform float l1;
uniform float l2;
uniform float g;
out vec4 outState;

const float PI = 3.141592653589793;
const float TWO_PI = 6.283185307179586;

vec2 accelerations(vec2 t, vec2 w) {
  float s = sin(t.x - t.y);
  float c = cos(t.x - t.y);
  float M = m1 + m2;
  float f1 = -m2 * l2 * s * w.y * w.y - M * g * sin(t.x);
  float f2 = l1 * s * w.x * w.x - g * sin(t.y);
  float den = m1 + m2 * s * s;
  return vec2((f1 - m2 * c * f2) / (l1 * den), (M * f2 - c * f1) / (l2 * den));
}

void main() {
  vec4 s = texelFetch(state, ivec2(gl_FragCoord.xy), 0);
  vec2 q = s.xy;
  vec2 v = s.zw;
  float h2 = 0.5 * dt;
  float h6 = dt / 6.0;
  for (int k = 0; k < substeps; k++) {
    vec2 a1 = accelerations(q, v);
    vec2 w2 = v + h2 * a1;
    vec2 a2 = accelerations(q + h2 * v, w2);
    vec2 w3 = v + h2 * a2;
    vec2 a3 = accelerations(q + h2 * w2, w3);
    vec2 w4 = v + dt * a3;
    vec2 a4 = accelerations(q + dt * w3, w4);
    q += h6 * (v + 2.0 * w2 + 2.0 * w3 + w4);
    v += h6 * (a1 + 2.0 * a2 + 2.0 * a3 + a4);
    q -= TWO_PI * floor((q + PI) / TWO_PI);
  }
  outState = vec4(q, v);
}
`;

/** Bob positions of every texel, in units of the reach (pivot at the origin, y up). */
export const bobsFragment = /* glsl */ `
precision highp float;
precision highp sampler2D;
uniform sampler2D state;
uniform float l1;
uniform float l2;
out vec4 outBobs;
void main() {
  vec4 s = texelFetch(state, ivec2(gl_FragCoord.xy), 0);
  float reach = l1 + l2;
  vec2 b1 = (l1 / reach) * vec2(sin(s.x), -cos(s.x));
  vec2 b2 = b1 + (l2 / reach) * vec2(sin(s.y), -cos(s.y));
  outBobs = vec4(b1, b2);
}
`;

/** Copies a texture texel for texel (uploads a state). */
export const copyFragment = /* glsl */ `
precision highp float;
precision highp sampler2D;
uniform sampler2D source;
out vec4 outColor;
void main() {
  outColor = texelFetch(source, ivec2(gl_FragCoord.xy), 0);
}
`;

/**
 * Draws the field: the plane is split into `grid` cells (row 0 at the top), cell i shows pendulum i —
 * two rods from the cell's centre and two bobs — from its bob texel; cells past `count` show the
 * background. Edges are smoothed over one pixel.
 */
export const fieldFragment = /* glsl */ `
in vec2 vUv;
uniform sampler2D bobs;
uniform vec2 grid;
uniform float count;
uniform vec2 cellShape;
uniform float rodWidth;
uniform float bobRadius;
uniform vec3 background;
uniform vec3 rodColor;
uniform vec3 bob1Color;
uniform vec3 bob2Color;
out vec4 outColor;

float segment(vec2 p, vec2 a, vec2 b) {
  vec2 pa = p - a;
  vec2 ba = b - a;
  float h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-12), 0.0, 1.0);
  return length(pa - ba * h);
}

void main() {
  vec2 g = vUv * grid;
  vec2 cell = min(floor(g), grid - 1.0);
  float row = grid.y - 1.0 - cell.y;
  if (row * grid.x + cell.x >= count) {
    outColor = linearToOutputTexel(vec4(background, 1.0));
    return;
  }
  vec4 b = texelFetch(bobs, ivec2(cell.x, row), 0);
  // Cell-local coordinates: pivot at the centre, 1 = the reach (fits the cell's shorter side).
  vec2 p = (g - cell - 0.5) * cellShape;
  // Pixel size from the continuous grid coordinate (p jumps at cell borders).
  float px = fwidth(g.x) * cellShape.x;
  float rod = min(segment(p, vec2(0.0), b.xy), segment(p, b.xy, b.zw)) - rodWidth;
  float d1 = length(p - b.xy) - bobRadius;
  float d2 = length(p - b.zw) - bobRadius;
  vec3 color = mix(rodColor, background, smoothstep(-px, px, rod));
  color = mix(bob1Color, color, smoothstep(-px, px, d1));
  color = mix(bob2Color, color, smoothstep(-px, px, d2));
  outColor = linearToOutputTexel(vec4(color, 1.0));
}
`;

/**
 * Colour of every texel for the `map` style: hue from θ1 (a colour wheel), brightness from how far the
 * second rod is from hanging down ((1 − cos θ2) / 2); texels past `count` get the background. Colours
 * are written as displayed (sRGB), so the plane shows them unchanged.
 */
export const mapColorFragment = /* glsl */ `
precision highp float;
precision highp sampler2D;
uniform sampler2D state;
uniform float columns;
uniform float count;
uniform vec3 background;
out vec4 outColor;

vec3 hsv(float h, float s, float v) {
  vec3 k = clamp(abs(mod(h * 6.0 + vec3(0.0, 4.0, 2.0), 6.0) - 3.0) - 1.0, 0.0, 1.0);
  return v * mix(vec3(1.0), k, s);
}

void main() {
  ivec2 texel = ivec2(gl_FragCoord.xy);
  if (float(texel.y) * columns + float(texel.x) >= count) {
    outColor = vec4(background, 1.0);
    return;
  }
  vec4 s = texelFetch(state, texel, 0);
  float hue = (s.x + 3.141592653589793) / 6.283185307179586;
  float value = 0.2 + 0.8 * (0.5 - 0.5 * cos(s.y));
  outColor = vec4(hsv(hue, 0.8, value), 1.0);
}
`;

/** Draws the `map` style: each cell is its pendulum's colour, as written (row 0 at the top). */
export const mapFragment = /* glsl */ `
in vec2 vUv;
uniform sampler2D colors;
out vec4 outColor;
void main() {
  outColor = texture(colors, vec2(vUv.x, 1.0 - vUv.y));
}
`;
