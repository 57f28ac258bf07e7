#!/usr/bin/env python3
"""JAX trainer for the three-lnn shipped models (heavy-training path).

Trains a Lagrangian Neural Network (``lnn``), a black-box acceleration MLP (``baseline``) or a Lagrangian
Graph Network (``lgn``) on analytic accelerations generated on the fly, and exports the result in the
three-lnn model format v1 (``docs/model-format.md``).

Recipe: inputs (wrap(q), q̇·qdScale), LeCun-normal
weights and zero biases, L1 loss on q̈, Adam with linear warm-up and cosine decay, global-norm gradient
clipping, non-finite updates skipped, a deterministic restart rule (reseed when validation q̈ L1 is not
below a threshold at a given step), an optional penalty on a non-positive-definite H_vv.

Usage::

    python training/lnn_train.py train --system double-pendulum --kind lnn --hidden 128,128 \\
        --seed 0 --minutes 60 --ckpt /tmp/ckpt-dp --out assets/models/double-pendulum-lnn
    python training/lnn_train.py export --ckpt /tmp/ckpt-dp --out assets/models/double-pendulum-lnn

Everything is deterministic given ``--seed`` and the number of steps; ``--minutes`` only decides where
a run stops, and the step count reached is recorded in the artefact so that ``--steps`` reproduces it.

Data parallel: ``--devices N`` (or ``all``) splits every batch over N devices of a 1-D mesh ("data")
with ``jax.sharding`` — the same batch as on one device, the parameters replicated, the gradient mean
reduced across devices by XLA — unchanged on CPU, GPU and TPU; ``--distributed`` first calls
``jax.distributed.initialize()`` so that the mesh spans every host. The loss curve equals the
one-device curve to float rounding (the reductions are summed in another order).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pickle
import platform
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

TWO_PI = 2.0 * math.pi
TRAINER_VERSION = "three-lnn training/lnn_train.py 0.1.0"


# ----------------------------------------------------------------------------------------------------
# Systems: true accelerations and the training distribution
# ----------------------------------------------------------------------------------------------------


@dataclass
class SystemSpec:
    """An analytic system: id and parameters (as in the TypeScript registry), dof, angle flags,
    the training box and a batched closed-form q̈."""

    id: str
    params: dict
    dof: int
    angles: list
    q_range: list  # [lo, hi] per coordinate
    qd_range: list
    qd_sampling: str = "uniform"  # "uniform" or "rapidity" (q̇ = tanh(u), u uniform)
    # Share of each batch drawn from the system's own state sampler (SAMPLERS) instead of the box: the
    # states its motion reaches, where a box is mostly corners it never visits.
    sampler_fraction: float = 0.0

    def qdd(self, q, qd):
        """True q̈ for a batch: q, qd [batch, dof] -> [batch, dof]."""
        return _QDD[self.id](self.params, q, qd)

    def energy(self, q, qd):
        """True energy for a batch (float)."""
        return _ENERGY[self.id](self.params, q, qd)


def _dp_qdd(p, q, qd):
    m1, m2, l1, l2, g = p["m1"], p["m2"], p["l1"], p["l2"], p["g"]
    t1, t2 = q[:, 0], q[:, 1]
    w1, w2 = qd[:, 0], qd[:, 1]
    c, s = jnp.cos(t1 - t2), jnp.sin(t1 - t2)
    # M q̈ = f with M = [[(m1+m2) l1², m2 l1 l2 c], [m2 l1 l2 c, m2 l2²]]
    a11, a12, a22 = (m1 + m2) * l1 * l1, m2 * l1 * l2 * c, m2 * l2 * l2
    f1 = -m2 * l1 * l2 * s * w2 * w2 - (m1 + m2) * g * l1 * jnp.sin(t1)
    f2 = m2 * l1 * l2 * s * w1 * w1 - m2 * g * l2 * jnp.sin(t2)
    det = a11 * a22 - a12 * a12
    return jnp.stack([(a22 * f1 - a12 * f2) / det, (a11 * f2 - a12 * f1) / det], axis=1)


def _dp_energy(p, q, qd):
    m1, m2, l1, l2, g = p["m1"], p["m2"], p["l1"], p["l2"], p["g"]
    t1, t2, w1, w2 = q[:, 0], q[:, 1], qd[:, 0], qd[:, 1]
    T = 0.5 * (m1 + m2) * l1**2 * w1**2 + 0.5 * m2 * l2**2 * w2**2 + m2 * l1 * l2 * w1 * w2 * jnp.cos(t1 - t2)
    V = -(m1 + m2) * g * l1 * jnp.cos(t1) - m2 * g * l2 * jnp.cos(t2)
    return T + V


def _chain_masses_lengths(p, n):
    m = jnp.full((n,), p["m"])
    l = jnp.full((n,), p["l"])
    return m, l


def _chain_qdd(p, q, qd):
    """N-link chain of point masses on massless rods: M(q) q̈ = f(q, q̇),
    M_ij = l_i l_j cos(θ_i−θ_j) μ_ij, μ_ij = Σ_{k≥max(i,j)} m_k;
    f_i = −Σ_j μ_ij l_i l_j sin(θ_i−θ_j) θ̇_j² − g l_i sin θ_i Σ_{k≥i} m_k."""
    n = q.shape[1]
    m, l = _chain_masses_lengths(p, n)
    tail = jnp.cumsum(m[::-1])[::-1]  # Σ_{k≥i} m_k
    idx = jnp.arange(n)
    mu = tail[jnp.maximum(idx[:, None], idx[None, :])]
    d = q[:, :, None] - q[:, None, :]
    ll = l[:, None] * l[None, :]
    M = mu * ll * jnp.cos(d)
    f = -jnp.einsum("bij,bj->bi", mu * ll * jnp.sin(d), qd * qd) - p["g"] * l * tail * jnp.sin(q)
    return jnp.linalg.solve(M, f[..., None])[..., 0]


def _chain_energy(p, q, qd):
    n = q.shape[1]
    m, l = _chain_masses_lengths(p, n)
    tail = jnp.cumsum(m[::-1])[::-1]
    idx = jnp.arange(n)
    mu = tail[jnp.maximum(idx[:, None], idx[None, :])]
    M = mu * l[:, None] * l[None, :] * jnp.cos(q[:, :, None] - q[:, None, :])
    T = 0.5 * jnp.einsum("bi,bij,bj->b", qd, M, qd)
    V = -p["g"] * jnp.sum(l * tail * jnp.cos(q), axis=1)
    return T + V


def _string_qdd(p, q, qd):
    """Discrete string, fixed ends: q̈_i = τ/(ρ Δx²) (q_{i+1} − 2 q_i + q_{i−1})."""
    pad = jnp.pad(q, ((0, 0), (1, 1)))
    lap = pad[:, 2:] - 2.0 * pad[:, 1:-1] + pad[:, :-2]
    return p["tension"] / (p["density"] * p["spacing"] ** 2) * lap


def _string_energy(p, q, qd):
    pad = jnp.pad(q, ((0, 0), (1, 1)))
    dq = pad[:, 1:] - pad[:, :-1]
    return jnp.sum(0.5 * p["density"] * p["spacing"] * qd * qd, axis=1) + jnp.sum(
        0.5 * p["tension"] * dq * dq / p["spacing"], axis=1
    )


def _rel_qdd(p, q, qd):
    """The paper's relativistic particle, L = (1 − q̇²)^(−1/2) − 1 + g q (c = m = 1)."""
    v2 = qd * qd
    return p["g"] * (1.0 - v2) ** 2.5 / (1.0 + 2.0 * v2)


def _rel_energy(p, q, qd):
    v2 = qd[:, 0] ** 2
    gam = (1.0 - v2) ** -0.5
    # E = q̇ ∂L/∂q̇ − L = v² γ³ − γ + 1 − g q
    return v2 * gam**3 - gam + 1.0 - p["g"] * q[:, 0]


def spherical_lagrangian(p, q, qd):
    """L of the spherical pendulum in the tilt–swing chart of src/systems/SphericalPendulum.ts, one state
    (q = [α, β], [2]): L = ½ m l² (α̇² + cos²α β̇²) + m g l cos α cos β (y up, gravity along −y)."""
    m, l, g = p["m"], p["l"], p["g"]
    ca = jnp.cos(q[0])
    return 0.5 * m * l * l * (qd[0] ** 2 + (ca * qd[1]) ** 2) + m * g * l * ca * jnp.cos(q[1])


def _sph_qdd(p, q, qd):
    """Closed form of SphericalPendulum.accelerations: α̈ = −sin α cos α β̇² − (g/l) sin α cos β,
    β̈ = (2 sin α α̇ β̇ − (g/l) sin β) / cos α (singular only at cos α = 0, outside the training box)."""
    k = p["g"] / p["l"]
    sa, ca = jnp.sin(q[:, 0]), jnp.cos(q[:, 0])
    sb, cb = jnp.sin(q[:, 1]), jnp.cos(q[:, 1])
    wa, wb = qd[:, 0], qd[:, 1]
    return jnp.stack([-sa * ca * wb * wb - k * sa * cb, (2.0 * sa * wa * wb - k * sb) / ca], axis=1)


def _sph_energy(p, q, qd):
    m, l, g = p["m"], p["l"], p["g"]
    ca = jnp.cos(q[:, 0])
    return 0.5 * m * l * l * (qd[:, 0] ** 2 + (ca * qd[:, 1]) ** 2) - m * g * l * ca * jnp.cos(q[:, 1])


SPHERICAL_MIN_COS = 0.5  # SPHERICAL_MIN_COS of src/systems/SphericalPendulum.ts


def spherical_box(p):
    """The bounding box of SphericalPendulum.sample's states (g > 0: of every state on their
    trajectories, since E ≤ −½ m g l confines the bob to cos α cos β ≥ ½ and the speed to
    l²(α̇² + cos²α β̇²) ≤ 2 g l (cos α cos β − ½)): |α|, |β| ≤ π/3 and |α̇|, |β̇| ≤ √(g'/l), g' = |g|
    (1 when g = 0)."""
    gs = abs(p["g"]) or 1.0
    v = math.sqrt(gs / p["l"])
    a = math.acos(SPHERICAL_MIN_COS)
    return [[-a, a]] * 2, [[-v, v]] * 2


def sample_spherical_cap(p, key, batch: int, dtype=jnp.float64):
    """SphericalPendulum.sample in JAX (same formulas, JAX's random stream): the rod direction uniform on
    the cap cos θ ≥ ½ about the downward vertical, a tangent velocity of uniform direction with kinetic
    energy u · m g' l (cos θ − ½), u ~ U[0, 1). Returns q, qd [batch, 2]."""
    gs = abs(p["g"]) or 1.0
    l = p["l"]
    u = jax.random.uniform(key, (batch, 4), dtype)
    c = SPHERICAL_MIN_COS + (1.0 - SPHERICAL_MIN_COS) * u[:, 0]
    s = jnp.sqrt(1.0 - c * c)
    psi = TWO_PI * u[:, 1]
    dx, dy, dz = s * jnp.cos(psi), -c, s * jnp.sin(psi)
    alpha = jnp.arcsin(jnp.clip(dz, -1.0, 1.0))
    beta = jnp.arctan2(dx, -dy)
    speed = jnp.sqrt(2.0 * gs * l * (c - SPHERICAL_MIN_COS) * u[:, 2])
    chi = TWO_PI * u[:, 3]
    qd = jnp.stack([speed * jnp.cos(chi) / l, speed * jnp.sin(chi) / (l * jnp.cos(alpha))], axis=1)
    return jnp.stack([alpha, beta], axis=1), qd


def _tilt_swing(a, b):
    """The rod direction u(α, β) = (cos α sin β, −cos α cos β, sin α) of the tilt–swing chart."""
    return jnp.stack([jnp.cos(a) * jnp.sin(b), -jnp.cos(a) * jnp.cos(b), jnp.sin(a)])


def double_spherical_lagrangian(p, q, qd):
    """L of src/systems/DoubleSphericalPendulum.ts for one state, q = [α1, β1, α2, β2] (absolute angles per
    rod): r1 = l1 u(α1, β1), r2 = r1 + l2 u(α2, β2), L = ½ m1 |ṙ1|² + ½ m2 |ṙ2|² − g (m1 y1 + m2 y2)."""
    m1, m2, l1, l2, g = p["m1"], p["m2"], p["l1"], p["l2"], p["g"]

    def bobs(x):
        r1 = l1 * _tilt_swing(x[0], x[1])
        return r1, r1 + l2 * _tilt_swing(x[2], x[3])

    (r1, r2), (v1, v2) = jax.jvp(bobs, (q,), (qd,))
    return 0.5 * m1 * jnp.dot(v1, v1) + 0.5 * m2 * jnp.dot(v2, v2) - g * (m1 * r1[1] + m2 * r2[1])


def _euler_lagrange_qdd(lag):
    """Batched q̈ from a one-state Lagrangian by automatic differentiation:
    q̈ = (∂²L/∂q̇²)⁻¹ (∂L/∂q − ∂²L/∂q̇∂q q̇)."""

    def one(p, q, qd):
        gq = jax.grad(lag, 1)(p, q, qd)
        hvv = jax.hessian(lag, 2)(p, q, qd)
        hvq = jax.jacfwd(jax.grad(lag, 2), 1)(p, q, qd)
        return jnp.linalg.solve(hvv, gq - hvq @ qd)

    return lambda p, q, qd: jax.vmap(one, (None, 0, 0))(p, q, qd)


def _legendre_energy(lag):
    """Batched E = q̇·∂L/∂q̇ − L of a one-state Lagrangian."""

    def one(p, q, qd):
        lv, gv = jax.value_and_grad(lag, 2)(p, q, qd)
        return jnp.dot(qd, gv) - lv

    return lambda p, q, qd: jax.vmap(one, (None, 0, 0))(p, q, qd)


def _dsph_scales(p):
    """(μ = m1 + m2, g' = |g| or 1, D = ½ g' min(μ l1, m2 l2)): the sampler's energy budget above rest."""
    gs = abs(p["g"]) or 1.0
    mu = p["m1"] + p["m2"]
    return mu, gs, 0.5 * gs * min(mu * p["l1"], p["m2"] * p["l2"])


def double_spherical_box(p, probes: int = 20000):
    """A box holding DoubleSphericalPendulum.sample's states (g > 0: and their trajectories, which keep
    E − E_rest ≤ D): each rod within 60° of the vertical, so |α_i|, |β_i| ≤ π/3; kinetic energy at most D,
    so |q̇_i| ≤ √(2 D (M⁻¹)_ii), the largest (M⁻¹)_ii taken over `probes` fixed states with both rods in
    the cap (deterministic; a bound measured on a sample, not proved)."""
    _, _, budget = _dsph_scales(p)
    a = math.acos(SPHERICAL_MIN_COS)
    rng = np.random.default_rng(0)
    qs = np.zeros((probes, 4))
    for rod in range(2):
        c = rng.uniform(SPHERICAL_MIN_COS, 1.0, probes)
        psi = rng.uniform(0.0, TWO_PI, probes)
        s = np.sqrt(1.0 - c * c)
        qs[:, 2 * rod] = np.arcsin(s * np.sin(psi))
        qs[:, 2 * rod + 1] = np.arctan2(s * np.cos(psi), c)
    hess = jax.vmap(jax.hessian(double_spherical_lagrangian, 2), (None, 0, None))(
        {k: float(v) for k, v in p.items()}, jnp.asarray(qs, jnp.float32), jnp.zeros(4, jnp.float32)
    )
    inv_diag = np.asarray(jnp.diagonal(jnp.linalg.inv(hess), axis1=1, axis2=2)).max(axis=0)
    v = [1.05 * math.sqrt(2.0 * budget * float(d)) for d in inv_diag]  # 5% margin over the probes
    return [[-a, a]] * 4, [[-x, x] for x in v]


def sample_double_spherical(p, key, batch: int, dtype=jnp.float64):
    """DoubleSphericalPendulum.sample in JAX (same formulas, JAX's random stream): an energy above rest
    s·D split at random into the two rods' potential energies and the kinetic energy, each rod's azimuth
    uniform, the velocity direction uniform in [−1, 1)⁴ scaled to the kinetic share. q, qd [batch, 4]."""
    mu, gs, d = _dsph_scales(p)
    u = jax.random.uniform(key, (batch, 9), dtype)
    budget = d * u[:, 0]
    lo, hi = jnp.minimum(u[:, 1], u[:, 2]), jnp.maximum(u[:, 1], u[:, 2])
    cs = [1.0 - budget * lo / (gs * mu * p["l1"]), 1.0 - budget * (hi - lo) / (gs * p["m2"] * p["l2"])]
    cols = []
    for rod in range(2):
        c = cs[rod]
        s = jnp.sqrt(jnp.maximum(0.0, 1.0 - c * c))
        psi = TWO_PI * u[:, 3 + rod]
        dx, dy, dz = s * jnp.cos(psi), -c, s * jnp.sin(psi)
        cols += [jnp.arcsin(jnp.clip(dz, -1.0, 1.0)), jnp.arctan2(dx, -dy)]
    q = jnp.stack(cols, axis=1)
    w = -1.0 + 2.0 * u[:, 5:9]
    t = jax.vmap(lambda a, b: double_spherical_lagrangian({**p, "g": 0.0}, a, b))(q, w)
    scale = jnp.where(t > 0, jnp.sqrt(budget * (1.0 - hi) / jnp.where(t > 0, t, 1.0)), 0.0)
    return q, w * scale[:, None]


_QDD = {
    "spherical-pendulum": _sph_qdd,
    "double-spherical-pendulum": _euler_lagrange_qdd(double_spherical_lagrangian),
    "double-pendulum": _dp_qdd,
    "chain": _chain_qdd,
    "string": _string_qdd,
    "relativistic-particle": _rel_qdd,
}
_ENERGY = {
    "spherical-pendulum": _sph_energy,
    "double-spherical-pendulum": _legendre_energy(double_spherical_lagrangian),
    "double-pendulum": _dp_energy,
    "chain": _chain_energy,
    "string": _string_energy,
    "relativistic-particle": _rel_energy,
}


def make_system(system_id: str, overrides: dict | None = None) -> SystemSpec:
    """Build the training system with its default distribution. ``overrides`` replaces parameters
    (``nodes`` and ``links`` change the dof)."""
    o = dict(overrides or {})
    if system_id == "double-pendulum":
        params = {"m1": 1.0, "m2": 1.0, "l1": 1.0, "l2": 1.0, "g": 9.8}
        params.update(o)
        return SystemSpec(system_id, params, 2, [True, True], [[0.0, TWO_PI]] * 2, [[-10.0, 10.0]] * 2)
    if system_id == "chain":
        params = {"links": 3, "m": 1.0, "l": 1.0, "g": 9.8}
        params.update(o)
        n = int(params["links"])
        return SystemSpec(system_id, params, n, [True] * n, [[0.0, TWO_PI]] * n, [[-10.0, 10.0]] * n)
    if system_id == "string":
        params = {"nodes": 8, "density": 1.0, "tension": 1.0, "spacing": 0.1}
        params.update(o)
        n = int(params["nodes"])
        return SystemSpec(system_id, params, n, [False] * n, [[-0.1, 0.1]] * n, [[-1.0, 1.0]] * n)
    if system_id == "relativistic-particle":
        params = {"g": 1.0}
        params.update(o)
        # Rapidity u ~ U[-4, 4], q̇ = tanh u: covers |q̇| up to 0.9993 (speeds near c matter here).
        return SystemSpec(system_id, params, 1, [False], [[-1.0, 1.0]], [[-4.0, 4.0]], "rapidity")
    if system_id == "membrane":
        return membrane_system(o)
    if system_id == "spherical-pendulum":
        params = {"m": 1.0, "l": 1.0, "g": 9.8}
        params.update(o)
        # Uniform over the bounding box of the TypeScript sampler's states (see spherical_box): a superset
        # of the sampler's support, which is every state its trajectories reach.
        q_box, qd_box = spherical_box(params)
        return SystemSpec(system_id, params, 2, [True, True], q_box, qd_box)
    if system_id == "double-spherical-pendulum":
        params = {"m1": 1.0, "m2": 1.0, "l1": 1.0, "l2": 1.0, "g": 9.8}
        params.update(o)
        q_box, qd_box = double_spherical_box(params)
        return SystemSpec(system_id, params, 4, [True] * 4, q_box, qd_box)
    raise SystemExit(
        f"Unknown system '{system_id}'. Known: double-pendulum, chain, string, relativistic-particle, "
        "spherical-pendulum, double-spherical-pendulum, membrane."
    )


SAMPLERS = {
    "spherical-pendulum": sample_spherical_cap,
    "double-spherical-pendulum": sample_double_spherical,
}


def check_sampler_fraction(spec: SystemSpec, fraction: float) -> None:
    """Refuse a --sampler-fraction the system cannot honour (no sampler here, or not a share)."""
    if spec.id not in SAMPLERS:
        raise SystemExit(f"--sampler-fraction: {spec.id} has no state sampler here (only {', '.join(SAMPLERS)}).")
    if not 0.0 <= fraction <= 1.0:
        raise SystemExit(f"--sampler-fraction: a share in [0, 1], got {fraction}.")


def sample_states(spec: SystemSpec, key, batch: int):
    """Fresh training states, q, qd [batch, dof] float32: the first round(batch · sampler_fraction) from
    the system's sampler (SAMPLERS), the rest uniform over the box."""
    k = int(round(batch * spec.sampler_fraction))
    if k > 0:
        ks, kb = jax.random.split(key)
        qs, qds = SAMPLERS[spec.id](spec.params, ks, k, jnp.float32)
        if k == batch:
            return qs.astype(jnp.float32), qds.astype(jnp.float32)
        qb, qdb = _box_states(spec, kb, batch - k)
        return jnp.concatenate([qs.astype(jnp.float32), qb]), jnp.concatenate([qds.astype(jnp.float32), qdb])
    return _box_states(spec, key, batch)


def _box_states(spec: SystemSpec, key, batch: int):
    """Fresh states uniform over the training box: q, qd [batch, dof] float32."""
    kq, kv = jax.random.split(key)
    lo = jnp.array([r[0] for r in spec.q_range], jnp.float32)
    hi = jnp.array([r[1] for r in spec.q_range], jnp.float32)
    q = lo + (hi - lo) * jax.random.uniform(kq, (batch, spec.dof), jnp.float32)
    vlo = jnp.array([r[0] for r in spec.qd_range], jnp.float32)
    vhi = jnp.array([r[1] for r in spec.qd_range], jnp.float32)
    u = vlo + (vhi - vlo) * jax.random.uniform(kv, (batch, spec.dof), jnp.float32)
    qd = jnp.tanh(u) if spec.qd_sampling == "rapidity" else u
    return q, qd


# ----------------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------------


def wrap(theta):
    """θ − 2π·floor((θ + π)/2π): into [−π, π)."""
    return theta - TWO_PI * jnp.floor((theta + math.pi) / TWO_PI)


ACTIVATIONS = {"softplus": jax.nn.softplus, "tanh": jnp.tanh, "relu": jax.nn.relu}


def init_mlp(key, layers):
    """LeCun-normal kernels [in, out] (σ = 1/√fan_in), zero biases."""
    params = []
    for i in range(len(layers) - 1):
        key, sub = jax.random.split(key)
        w = jax.random.normal(sub, (layers[i], layers[i + 1]), jnp.float32) / math.sqrt(layers[i])
        params.append((w, jnp.zeros((layers[i + 1],), jnp.float32)))
    return params


def mlp(params, x, activation):
    """x [..., in] -> [..., out]; every layer but the last is followed by the activation."""
    act = ACTIVATIONS[activation]
    for w, b in params[:-1]:
        x = act(x @ w + b)
    w, b = params[-1]
    return x @ w + b


@dataclass
class ModelSpec:
    """What the exported metadata describes: kind, architecture and input/output scaling."""

    kind: str
    layers: list
    activation: str
    q_scale: list
    qd_scale: list
    out_scale: float
    angles: list
    dof: int
    extra: dict = field(default_factory=dict)


def embedding(ms: ModelSpec) -> str:
    """How angles enter the network: "wrap" (wrap(θ)·scale, one input) or "sincos" (cos θ, sin θ: two
    inputs, smooth and periodic)."""
    return ms.extra.get("angleEmbedding", "wrap")


def q_features(ms: ModelSpec, q):
    """The q part of the network input, q [..., dof] -> [..., d_q], and its Jacobian dx_q/dq as
    [..., d_q, dof] (sincos: per angle the rows (cos θ, sin θ) with derivatives (−sin θ, cos θ))."""
    sq = jnp.array(ms.q_scale, q.dtype)
    if embedding(ms) == "wrap":
        ang = jnp.array(ms.angles)
        x = jnp.where(ang, wrap(q), q) * sq
        jac = jnp.broadcast_to(jnp.diag(sq), q.shape[:-1] + (q.shape[-1], q.shape[-1]))
        return x, jac
    cols, jrows = [], []
    n = q.shape[-1]
    eye = jnp.eye(n, dtype=q.dtype)
    for i in range(n):
        qi = q[..., i]
        if ms.angles[i]:
            c, s = jnp.cos(qi), jnp.sin(qi)
            cols += [c * sq[i], s * sq[i]]
            jrows += [(-s * sq[i])[..., None] * eye[i], (c * sq[i])[..., None] * eye[i]]
        else:
            cols.append(qi * sq[i])
            jrows.append(jnp.broadcast_to(sq[i] * eye[i], q.shape[:-1] + (n,)))
    return jnp.stack(cols, axis=-1), jnp.stack(jrows, axis=-2)


def velocity_embedding(ms: ModelSpec) -> str:
    """How velocities enter the network: "identity" (q̇·scale) or "rapidity" (atanh(q̇)·scale: for a
    speed limit c = 1, the Lagrangian is then only defined for |q̇| < 1 and H_vv can grow without bound
    as |q̇| → 1, so the learned flow can keep |q̇| below 1)."""
    return ms.extra.get("velocityEmbedding", "identity")


def v_features(ms: ModelSpec, qd):
    """The q̇ part of the network input and its first two derivatives, elementwise [..., dof]."""
    sv = jnp.array(ms.qd_scale, qd.dtype)
    if velocity_embedding(ms) == "rapidity":
        w = 1.0 / (1.0 - qd * qd)
        return jnp.arctanh(qd) * sv, w * sv, 2.0 * qd * w * w * sv
    return qd * sv, jnp.broadcast_to(sv, qd.shape), jnp.zeros_like(qd)


def net_input(ms: ModelSpec, q, qd):
    """The v1 input map for one state: q, qd [dof] -> x [d_q + dof]."""
    xq, _ = q_features(ms, q)
    return jnp.concatenate([xq, v_features(ms, qd)[0]])


def lagrangian(params, ms: ModelSpec, q, qd):
    """Learned L for one state (lnn: the MLP; lgn: Σ over path edges with fixed ends)."""
    if ms.kind == "lnn":
        return ms.out_scale * mlp(params, net_input(ms, q, qd), ms.activation)[0]
    if ms.kind == "lgn" and graph_of(ms)["type"] == "grid":
        x = grid_edge_inputs(ms, q[None], qd[None])[0]
        return ms.out_scale * jnp.sum(mlp(params, x, ms.activation))
    if ms.kind == "lgn":
        zq = jnp.pad(q, (1, 1))
        zv = jnp.pad(qd, (1, 1))
        x = jnp.stack([zq[:-1], zq[1:], zv[:-1], zv[1:]], axis=1)  # [N+1 edges, 4]
        x = x * jnp.array(ms.q_scale + ms.qd_scale, q.dtype)
        return ms.out_scale * jnp.sum(mlp(params, x, ms.activation))
    raise ValueError(f"kind '{ms.kind}' has no Lagrangian")


def lnn_terms(params, ms: ModelSpec, q, qd):
    """H_vv and the right-hand side g_q − H_vq q̇ for one state (exact: one forward-over-reverse
    Hessian of L over x = (q, q̇), whose q̇ rows hold H_vq and H_vv)."""
    n = q.shape[0]

    def grad_and_aux(x):
        g = jax.grad(lambda y: lagrangian(params, ms, y[:n], y[n:]))(x)
        return g, g

    hess, g = jax.jacfwd(grad_and_aux, has_aux=True)(jnp.concatenate([q, qd]))
    hvq, hvv = hess[n:, :n], hess[n:, n:]
    return hvv, g[:n] - hvq @ qd


DERIVS = {
    "softplus": (jax.nn.softplus, jax.nn.sigmoid, lambda z: jax.nn.sigmoid(z) * (1.0 - jax.nn.sigmoid(z))),
    "tanh": (jnp.tanh, lambda z: 1.0 - jnp.tanh(z) ** 2, lambda z: -2.0 * jnp.tanh(z) * (1.0 - jnp.tanh(z) ** 2)),
}


def mlp_grad_hessian(params, x, activation):
    """Exact input gradient and Hessian of a scalar MLP for a batch, without nested autodiff
    (explicit method): forward tangents J_l = ∂z_l/∂x, adjoints ḡ_l = ∂y/∂a_l,
    ∇²y = Σ_l J_lᵀ diag(ḡ_l ⊙ σ''(z_l)) J_l. x [B, d] -> grad [B, d], hess [B, d, d]."""
    act, d1, d2 = DERIVS[activation]
    zs, js = [], []
    a = x
    jac = None
    for i, (w, b) in enumerate(params[:-1]):
        z = a @ w + b
        if i == 0:
            jac = jnp.broadcast_to(w, (x.shape[0],) + w.shape)
        else:  # one 2-D GEMM over the B·d tangent rows
            jac = (jac.reshape(-1, jac.shape[-1]) @ w).reshape(jac.shape[0], jac.shape[1], w.shape[1])
        zs.append(z)
        js.append(jac)
        a = act(z)
        jac = jac * d1(z)[:, None, :]
    w_out = params[-1][0][:, 0]
    gbar = jnp.broadcast_to(w_out, zs[-1].shape)
    hess = 0.0
    grad = None
    for i in range(len(zs) - 1, -1, -1):
        z, jac = zs[i], js[i]
        c = gbar * d2(z)
        hess = hess + jnp.matmul(jac * c[:, None, :], jnp.swapaxes(jac, 1, 2))
        delta = gbar * d1(z)  # ∂y/∂z_i
        if i == 0:
            grad = delta @ params[0][0].T
        else:
            gbar = delta @ params[i][0].T
    return grad, hess


def lnn_terms_batched(params, ms: ModelSpec, q, qd):
    """Batched H_vv [B, n, n] and right-hand side [B, n] of an `lnn` via the explicit derivatives."""
    n = q.shape[1]
    xq, jq = q_features(ms, q)  # jq [B, d_q, n]
    xv, dv, d2v = v_features(ms, qd)  # [B, n] each: value, first and second derivative
    dq = xq.shape[1]
    x = jnp.concatenate([xq, xv], axis=1)
    g, h = mlp_grad_hessian(params, x, ms.activation)
    gq = jnp.einsum("bk,bki->bi", g[:, :dq], jq) * ms.out_scale
    # H_vv = D h_vv D + diag(∂L/∂x_v ⊙ x_v''), D = diag(x_v'); the second term vanishes for q̇·scale.
    hvv = (h[:, dq:, dq:] * dv[:, :, None] * dv[:, None, :] + jax.vmap(jnp.diag)(g[:, dq:] * d2v)) * ms.out_scale
    hvq = jnp.einsum("bjk,bki->bji", h[:, dq:, :dq], jq) * dv[:, :, None] * ms.out_scale
    return hvv, gq - jnp.einsum("bij,bj->bi", hvq, qd)


def lgn_terms_batched(params, ms: ModelSpec, q, qd):
    """Batched H_vv as (diagonal [B, N], off-diagonal [B, N−1]) and right-hand side [B, N] of a path-graph `lgn` with fixed
    ends, from the exact 4×4 derivatives of each edge term."""
    bsz, n = q.shape
    zq = jnp.pad(q, ((0, 0), (1, 1)))
    zv = jnp.pad(qd, ((0, 0), (1, 1)))
    s = jnp.array(ms.q_scale + ms.qd_scale, q.dtype)
    x = jnp.stack([zq[:, :-1], zq[:, 1:], zv[:, :-1], zv[:, 1:]], axis=2) * s  # [B, N+1, 4]
    g, h = mlp_grad_hessian(params, x.reshape(-1, 4), ms.activation)
    g = (g * s * ms.out_scale).reshape(bsz, n + 1, 4)
    h = (h * (s[:, None] * s[None, :]) * ms.out_scale).reshape(bsz, n + 1, 4, 4)
    left, right = slice(1, n + 1), slice(0, n)  # edge i starts at node i, edge i-1 ends at node i
    dvv = h[:, left, 2, 2] + h[:, right, 3, 3]
    off = h[:, 1:n, 2, 3]  # (v_i, v_{i+1}), i = 1..N-1
    dvq = h[:, left, 2, 0] + h[:, right, 3, 1]
    up = h[:, left, 2, 1]  # (v_i, q_{i+1})
    lo = h[:, right, 3, 0]  # (v_i, q_{i-1})
    gq = g[:, left, 0] + g[:, right, 1]
    rhs = gq - (dvq * qd + up * zv[:, 2:] + lo * zv[:, :-2])
    return (dvv, off), rhs


# ----------------------------------------------------------------------------------------------------
# Graph LGN on a grid (the membrane)
# ----------------------------------------------------------------------------------------------------


def membrane_system(overrides: dict | None = None) -> SystemSpec:
    """The membrane of src/systems/Membrane.ts: nx × ny interior nodes (q row-major, node (i, j) at
    j·nx + i), fixed boundary, spacing h, density ρ (node mass ρh²), tension τ."""
    params = {"nx": 4, "ny": 4, "spacing": 0.1, "density": 1.0, "tension": 1.0}
    params.update(overrides or {})
    n = int(params["nx"]) * int(params["ny"])
    return SystemSpec("membrane", params, n, [False] * n, [[-0.1, 0.1]] * n, [[-1.0, 1.0]] * n)


def _membrane_grid(p, q):
    """q [B, nx·ny] -> the zero-padded grid [B, ny + 2, nx + 2] (the fixed boundary)."""
    nx, ny = int(p["nx"]), int(p["ny"])
    return jnp.pad(q.reshape(q.shape[0], ny, nx), ((0, 0), (1, 1), (1, 1)))


def _membrane_qdd(p, q, qd):
    """q̈ = τ/(ρh²) · (5-point Laplacian), fixed boundary."""
    z = _membrane_grid(p, q)
    lap = z[:, 1:-1, :-2] + z[:, 1:-1, 2:] + z[:, :-2, 1:-1] + z[:, 2:, 1:-1] - 4.0 * z[:, 1:-1, 1:-1]
    return p["tension"] / (p["density"] * p["spacing"] ** 2) * lap.reshape(q.shape)


def _membrane_energy(p, q, qd):
    z = _membrane_grid(p, q)
    dx = z[:, 1:-1, 1:] - z[:, 1:-1, :-1]
    dy = z[:, 1:, 1:-1] - z[:, :-1, 1:-1]
    kinetic = 0.5 * p["density"] * p["spacing"] ** 2 * jnp.sum(qd * qd, axis=1)
    return kinetic + 0.5 * p["tension"] * (jnp.sum(dx * dx, axis=(1, 2)) + jnp.sum(dy * dy, axis=(1, 2)))


_QDD["membrane"] = _membrane_qdd
_ENERGY["membrane"] = _membrane_energy


def graph_of(ms: ModelSpec) -> dict:
    """The graph an `lgn` sums its edge term over: {"type": "path"} or {"type": "grid", "nx", "ny"}."""
    return ms.extra.get("graph", {"type": "path", "boundary": "fixed"})


def grid_edges(nx: int, ny: int):
    """Edges of the nx × ny grid with a fixed boundary, as node index arrays (a, b) with a → b along +x
    (horizontal edges, row by row, (nx + 1)·ny of them) then along +y (vertical, nx·(ny + 1)); the
    boundary is index nx·ny. Boundary-to-boundary edges are left out (a constant of L)."""
    n = nx * ny
    idx = np.full((ny + 2, nx + 2), n, dtype=np.int32)
    idx[1:-1, 1:-1] = np.arange(n, dtype=np.int32).reshape(ny, nx)
    ha, hb = idx[1:-1, :-1].ravel(), idx[1:-1, 1:].ravel()
    va, vb = idx[:-1, 1:-1].ravel(), idx[1:, 1:-1].ravel()
    return np.concatenate([ha, va]), np.concatenate([hb, vb])


def grid_edge_inputs(ms: ModelSpec, q, qd):
    """Scaled edge inputs (q_a, q_b, q̇_a, q̇_b) of every grid edge: q, qd [B, N] -> [B, E, 4]
    (boundary nodes enter as 0, as the fixed ends of a path)."""
    g = graph_of(ms)
    a, b = grid_edges(int(g["nx"]), int(g["ny"]))
    zq = jnp.pad(q, ((0, 0), (0, 1)))
    zv = jnp.pad(qd, ((0, 0), (0, 1)))
    s = jnp.array(ms.q_scale + ms.qd_scale, q.dtype)
    return jnp.stack([zq[:, a], zq[:, b], zv[:, a], zv[:, b]], axis=2) * s


def grid_lgn_terms_batched(params, ms: ModelSpec, q, qd):
    """Batched H_vv [B, N, N] (dense: training graphs are small) and right-hand side [B, N] of a grid
    `lgn`, assembled from the exact 4×4 derivatives of each edge term."""
    bsz, n = q.shape
    g = graph_of(ms)
    a, b = grid_edges(int(g["nx"]), int(g["ny"]))
    s = jnp.array(ms.q_scale + ms.qd_scale, q.dtype)
    x = grid_edge_inputs(ms, q, qd)
    e = x.shape[1]
    gr, h = mlp_grad_hessian(params, x.reshape(-1, 4), ms.activation)
    gr = (gr * s * ms.out_scale).reshape(bsz, e, 4)
    h = (h * (s[:, None] * s[None, :]) * ms.out_scale).reshape(bsz, e, 4, 4)
    zv = jnp.pad(qd, ((0, 0), (0, 1)))
    va, vb = zv[:, a], zv[:, b]
    # rhs = ∂L/∂q − H_vq q̇, edge by edge: node a takes rows (0, 2), node b rows (1, 3).
    ra = gr[:, :, 0] - (h[:, :, 2, 0] * va + h[:, :, 2, 1] * vb)
    rb = gr[:, :, 1] - (h[:, :, 3, 0] * va + h[:, :, 3, 1] * vb)
    rhs = jnp.zeros((bsz, n + 1), q.dtype).at[:, a].add(ra).at[:, b].add(rb)
    hvv = jnp.zeros((bsz, n + 1, n + 1), q.dtype)
    hvv = hvv.at[:, a, a].add(h[:, :, 2, 2]).at[:, b, b].add(h[:, :, 3, 3])
    off = 0.5 * (h[:, :, 2, 3] + h[:, :, 3, 2])
    hvv = hvv.at[:, a, b].add(off).at[:, b, a].add(off)
    return hvv[:, :n, :n], rhs[:, :n]


def solve_tridiagonal(diag, off, rhs):
    """Thomas algorithm for symmetric tridiagonal systems, batched: diag [B, N], off [B, N−1],
    rhs [B, N] -> x [B, N]. O(N); unrolled over N (a static, small count in training)."""
    n = diag.shape[1]
    cp, dp = [], []
    for i in range(n):
        denom = diag[:, i] - (off[:, i - 1] * cp[i - 1] if i > 0 else 0.0)
        cp.append(off[:, i] / denom if i < n - 1 else None)
        dp.append((rhs[:, i] - (off[:, i - 1] * dp[i - 1] if i > 0 else 0.0)) / denom)
    x = [None] * n
    x[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return jnp.stack(x, axis=1)


def solve_small(a, b):
    """Batched solve a x = b for n ≤ 2 in closed form, otherwise LU. a [B, n, n], b [B, n]."""
    n = b.shape[1]
    if n == 1:
        return b / a[:, :, 0]
    if n == 2:
        det = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
        x0 = (a[:, 1, 1] * b[:, 0] - a[:, 0, 1] * b[:, 1]) / det
        x1 = (a[:, 0, 0] * b[:, 1] - a[:, 1, 0] * b[:, 0]) / det
        return jnp.stack([x0, x1], axis=1)
    return jnp.linalg.solve(a, b[..., None])[..., 0]


def predict_qdd_one(params, ms: ModelSpec, q, qd):
    """Predicted q̈ for one state."""
    if ms.kind == "baseline":
        return ms.out_scale * mlp(params, net_input(ms, q, qd), ms.activation)
    hvv, rhs = lnn_terms(params, ms, q, qd)
    return jnp.linalg.solve(hvv, rhs)


def predict_qdd(params, ms, q, qd):
    """Batched q̈: q, qd [batch, dof] -> [batch, dof]."""
    if ms.kind == "lnn" and ms.activation in DERIVS:
        hvv, rhs = lnn_terms_batched(params, ms, q, qd)
        return solve_small(hvv, rhs)
    if ms.kind == "lgn" and ms.activation in DERIVS and graph_of(ms)["type"] == "grid":
        hvv, rhs = grid_lgn_terms_batched(params, ms, q, qd)
        return jnp.linalg.solve(hvv, rhs[..., None])[..., 0]
    if ms.kind == "lgn" and ms.activation in DERIVS:
        (dvv, off), rhs = lgn_terms_batched(params, ms, q, qd)
        return solve_tridiagonal(dvv, off, rhs)
    return jax.vmap(lambda a, b: predict_qdd_one(params, ms, a, b))(q, qd)


def learned_energy(params, ms, q, qd):
    """Batched learned energy E = q̇·∂L/∂q̇ − L."""

    def one(a, b):
        L, gv = jax.value_and_grad(lambda v: lagrangian(params, ms, a, v))(b)
        return jnp.dot(b, gv) - L

    return jax.vmap(one)(q, qd)


def pd_penalty(params, ms, q, qd):
    """Mean of relu(−λ_min / |λ|_max) of H_vv: zero when H_vv is positive definite; scale-free because
    q̈ does not depend on the scale of L."""

    def one(a, b):
        hvv, _ = lnn_terms(params, ms, a, b)
        ev = jnp.linalg.eigvalsh(hvv)
        return jax.nn.relu(-ev[0] / (jnp.max(jnp.abs(ev)) + 1e-12) + 1e-3)

    return jnp.mean(jax.vmap(one)(q, qd))


# ----------------------------------------------------------------------------------------------------
# Optimiser (Adam, warm-up + cosine, global-norm clipping, non-finite updates skipped)
# ----------------------------------------------------------------------------------------------------


def lr_at(step, cfg):
    warm = jnp.minimum(1.0, (step + 1.0) / cfg["warmup"])
    t = jnp.clip((step - cfg["warmup"]) / jnp.maximum(1.0, cfg["decay_steps"] - cfg["warmup"]), 0.0, 1.0)
    cos = cfg["lr_min"] + 0.5 * (cfg["lr"] - cfg["lr_min"]) * (1.0 + jnp.cos(math.pi * t))
    return jnp.where(step < cfg["warmup"], cfg["lr"] * warm, cos)


def shift_invariant(params):
    """Tie the first-layer weights of an edge term so that q_i and q_{i+1} enter only as q_{i+1} − q_i
    (rows 0 and 1 of the first kernel opposite): the local term is then exactly invariant to a common
    shift of its two nodes, as a string's (or any spring's) potential is. A projection, applied after
    every update."""
    (w0, b0), rest = params[0], params[1:]
    d = 0.5 * (w0[1] - w0[0])
    w0 = w0.at[0].set(-d).at[1].set(d)
    return [(w0, b0), *rest]


def make_mesh(devices: int):
    """A 1-D device mesh with axis "data" over the first ``devices`` devices (every host's after
    ``jax.distributed.initialize()``); None for one device (no sharding at all)."""
    available = jax.devices()
    if devices < 1 or devices > len(available):
        raise SystemExit(f"--devices {devices}: this run sees {len(available)} device(s) ({available[0].platform}); "
                         f"ask for 1…{len(available)} or 'all'.")
    if devices == 1:
        return None
    from jax.sharding import Mesh

    return Mesh(np.array(available[:devices]), ("data",))


def replicate(tree, mesh):
    """Put ``tree`` on every device of ``mesh`` (unchanged without a mesh)."""
    if mesh is None:
        return tree
    from jax.sharding import NamedSharding, PartitionSpec

    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def make_step(spec: SystemSpec, ms: ModelSpec, cfg, mesh=None):
    """One jitted training step: fresh batch, L1 loss on q̈ (+ optional H_vv penalty), clipped Adam.
    With a ``mesh`` the batch is split over its "data" axis (the same batch as without)."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    if mesh is not None:
        from jax.sharding import NamedSharding, PartitionSpec

        rows = NamedSharding(mesh, PartitionSpec("data"))

        def shard(x):
            return jax.lax.with_sharding_constraint(x, rows)
    else:

        def shard(x):
            return x

    def loss_fn(params, q, qd, target):
        pred = predict_qdd(params, ms, q, qd)
        err = jnp.abs(pred - target)
        l1 = jnp.mean(err)
        # "relative": error over (|q̈| + floor), for systems whose q̈ spans decades (relativistic).
        loss = l1 if cfg.get("loss", "l1") == "l1" else jnp.mean(err / (jnp.abs(target) + cfg["rel_floor"]))
        if cfg["pd_weight"] > 0 and ms.kind != "baseline":
            n = min(cfg["pd_batch"], q.shape[0])
            loss = loss + cfg["pd_weight"] * pd_penalty(params, ms, q[:n], qd[:n])
        return loss, l1

    @jax.jit
    def step(state, key):
        params, m, v, t = state["params"], state["m"], state["v"], state["t"]
        q, qd = sample_states(spec, key, cfg["batch"])
        target = spec.qdd(q, qd)
        q, qd, target = shard(q), shard(qd), shard(target)
        (loss, l1), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, q, qd, target)
        leaves = jax.tree_util.tree_leaves(grads)
        gnorm = jnp.sqrt(sum(jnp.sum(g * g) for g in leaves))
        finite = jnp.isfinite(gnorm) & jnp.isfinite(loss)
        scale = jnp.minimum(1.0, cfg["clip"] / (gnorm + 1e-12))
        grads = jax.tree_util.tree_map(lambda g: jnp.where(finite, g * scale, 0.0), grads)
        tn = t + 1.0
        lr = lr_at(t, cfg)
        m2 = jax.tree_util.tree_map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
        v2 = jax.tree_util.tree_map(lambda a, g: b2 * a + (1 - b2) * g * g, v, grads)
        upd = jax.tree_util.tree_map(
            lambda p, a, c: p - lr * (a / (1 - b1**tn)) / (jnp.sqrt(c / (1 - b2**tn)) + eps), params, m2, v2
        )
        keep = lambda new, old: jax.tree_util.tree_map(lambda x, y: jnp.where(finite, x, y), new, old)  # noqa: E731
        if cfg.get("shift_invariant"):
            upd = shift_invariant(upd)
        new = {"params": keep(upd, params), "m": keep(m2, m), "v": keep(v2, v), "t": jnp.where(finite, tn, t)}
        return new, {"loss": loss, "l1": l1, "gnorm": gnorm, "finite": finite, "lr": lr}

    return step


def make_eval(spec, ms):
    @jax.jit
    def qdd_l1(params, q, qd, target):
        return jnp.mean(jnp.abs(predict_qdd(params, ms, q, qd) - target))

    return qdd_l1


def validate(params, spec, ms, val, chunk=2048):
    """Mean q̈ L1 error on the fixed validation set (non-finite -> inf)."""
    f = make_eval_cached(spec, ms)
    q, qd, tgt = val
    tot, n = 0.0, 0
    for i in range(0, q.shape[0], chunk):
        e = float(f(params, q[i : i + chunk], qd[i : i + chunk], tgt[i : i + chunk]))
        tot += e * q[i : i + chunk].shape[0]
        n += q[i : i + chunk].shape[0]
    r = tot / n
    return r if math.isfinite(r) else float("inf")


_EVAL_CACHE: dict = {}


def make_eval_cached(spec, ms):
    k = (id(spec), id(ms))
    if k not in _EVAL_CACHE:
        _EVAL_CACHE[k] = make_eval(spec, ms)
    return _EVAL_CACHE[k]


# ----------------------------------------------------------------------------------------------------
# Model set-up, checkpoints, export
# ----------------------------------------------------------------------------------------------------


def build_model_spec(
    spec: SystemSpec, kind: str, hidden: list, activation: str, angle_embedding: str = "wrap",
    velocity_embedding: str = "identity",
) -> ModelSpec:
    if angle_embedding != "wrap" and kind != "lnn":
        raise SystemExit("--angle-embedding sincos is implemented for --kind lnn only (baseline and lgn take wrap).")
    if velocity_embedding != "identity" and kind != "lnn":
        raise SystemExit("--velocity-embedding rapidity is implemented for --kind lnn only.")
    if kind == "lgn":
        if spec.id not in ("string", "membrane"):
            raise SystemExit(
                "--kind lgn is implemented for the path graph of 'string' and the grid graph of 'membrane' only."
            )
        # Scale the local inputs to O(1) over the training box.
        qs = 1.0 / max(abs(spec.q_range[0][0]), abs(spec.q_range[0][1]))
        vs = 1.0 / max(abs(spec.qd_range[0][0]), abs(spec.qd_range[0][1]))
        extra = {}
        if spec.id == "membrane":
            nx, ny = int(spec.params["nx"]), int(spec.params["ny"])
            if nx > 6 or ny > 6:
                raise SystemExit(f"--kind lgn on 'membrane' trains on at most 6×6 nodes (dense H_vv), got {nx}×{ny}.")
            extra["graph"] = {"type": "grid", "nx": nx, "ny": ny, "boundary": "fixed"}
        return ModelSpec("lgn", [4, *hidden, 1], activation, [qs, qs], [vs, vs], 1.0, [False], spec.dof, extra)
    n = spec.dof
    q_scale = [1.0 if a else 1.0 / max(abs(r[0]), abs(r[1])) for a, r in zip(spec.angles, spec.q_range)]
    if velocity_embedding == "rapidity":
        qd_scale = [1.0 / max(abs(r[0]), abs(r[1])) for r in spec.qd_range]  # the rapidity box
    elif spec.qd_sampling == "rapidity":
        qd_scale = [1.0] * n
    else:
        qd_scale = [1.0 / max(abs(r[0]), abs(r[1])) for r in spec.qd_range]
    out = n if kind == "baseline" else 1
    out_scale = 1.0
    if kind == "baseline":
        # The baseline predicts q̈ directly: scale its output to the typical |q̈| of the training box.
        q, qd = sample_states(spec, jax.random.PRNGKey(12345), 4096)
        out_scale = float(jnp.median(jnp.abs(spec.qdd(q, qd))))
    extra = {}
    d_q = n
    if angle_embedding == "sincos" and any(spec.angles):
        extra["angleEmbedding"] = "sincos"
        d_q = n + sum(1 for a in spec.angles if a)
    if velocity_embedding == "rapidity":
        if kind != "lnn":
            raise SystemExit("--velocity-embedding rapidity is implemented for --kind lnn only.")
        if spec.qd_sampling != "rapidity" and any(max(abs(r[0]), abs(r[1])) >= 1.0 for r in spec.qd_range):
            raise SystemExit(
                f"--velocity-embedding rapidity needs every training speed below 1 (c = 1), but the q̇ box is "
                f"{spec.qd_range}; pass e.g. --qd-range=-0.95,0.95."
            )
        extra["velocityEmbedding"] = "rapidity"
    return ModelSpec(kind, [d_q + n, *hidden, out], activation, q_scale, qd_scale, out_scale, list(spec.angles), n, extra)


def save_ckpt(path, blob):
    os.makedirs(path, exist_ok=True)
    tmp = os.path.join(path, "ckpt.pkl.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(jax.device_get(blob), f)
    os.replace(tmp, os.path.join(path, "ckpt.pkl"))


def load_ckpt(path):
    with open(os.path.join(path, "ckpt.pkl"), "rb") as f:
        return pickle.load(f)


def hardware():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logicalCores": os.cpu_count(),
        "coresUsed": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
    }


# Parameter names of early checkpoints, mapped to the TypeScript registry's names.
LEGACY_PARAM_NAMES = {"mass": "m", "length": "l"}


def export_model(blob, out_dir, metrics=None):
    """Write model.json + weights.bin (format v1) from a checkpoint blob; returns the metadata."""
    ms = ModelSpec(**blob["model"])
    spec = SystemSpec(**blob["system"])
    spec.params = {LEGACY_PARAM_NAMES.get(k, k): v for k, v in spec.params.items()}
    params = blob["best_params"] if blob.get("best_params") is not None else blob["state"]["params"]
    os.makedirs(out_dir, exist_ok=True)
    weights, chunks = [], []
    for i, (w, b) in enumerate(params):
        w = np.asarray(w, "<f4")
        b = np.asarray(b, "<f4")
        weights.append({"name": f"dense_{i}/kernel", "shape": list(w.shape), "dtype": "float32"})
        weights.append({"name": f"dense_{i}/bias", "shape": list(b.shape), "dtype": "float32"})
        chunks += [w.tobytes(order="C"), b.tobytes(order="C")]
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        f.write(b"".join(chunks))
    n_params = int(sum(np.asarray(w).size + np.asarray(b).size for w, b in params))
    if ms.kind == "lgn":
        tr = {"q": [spec.q_range[0]], "qd": [spec.qd_range[0]]}
        angles = [False]
    else:
        if spec.qd_sampling == "rapidity":
            qd_box = [[math.tanh(r[0]), math.tanh(r[1])] for r in spec.qd_range]
        else:
            qd_box = spec.qd_range
        tr = {"q": spec.q_range, "qd": qd_box}
        angles = spec.angles
    prov = dict(blob["provenance"])
    # The format's provenance fields `data` and `hardware` are strings; details go alongside.
    if isinstance(prov.get("data"), dict):
        d = dict(prov["data"])
        for c in prov.get("scheduleChanges", []):
            if "samplerFractionTo" in c:
                d["distribution"] += f"; from step {c['atStep']}, {c['samplerFractionTo']:g} of each batch from the sampler"
        prov["dataDetails"] = d
        prov["data"] = f"{d['distribution']}; q box {d['q']}, q̇ (or rapidity) box {d['qdOrRapidity']}; {d['targets']}"
    if isinstance(prov.get("hardware"), dict):
        h = prov["hardware"]
        prov["hardwareDetails"] = h
        prov["hardware"] = (
            f"{h['cpu']}, {h['coresUsed']} of {h['logicalCores']} logical cores, {h['platform']}, "
            f"jax {h['jax']} ({h['device']})"
        )
    prov["steps"] = int(blob["state"]["t"]) if blob.get("best_step") is None else int(blob["best_step"])
    prov["stepsRun"] = int(blob["state"]["t"])
    prov["wallTimeSeconds"] = round(float(blob["wall"]), 1)
    prov["restarts"] = int(blob.get("restarts", 0))
    # A time-budgeted run is reproduced by its step count: same seed, schedule and batches.
    words = shlex.split(prov.get("command", ""))
    if len(words) > 2 and words[2] != "train":  # early checkpoints recorded the command without it
        words.insert(2, "train")
        prov["command"] = " ".join(shlex.quote(w) for w in words)
    out_words, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("--minutes", "--steps"):
            skip = True
            continue
        out_words.append(w)
    changes = prov.get("scheduleChanges", [])
    if changes:
        first = " ".join(shlex.quote(w) for w in out_words) + f" --steps {changes[0]['atStep']}"
        ckpt = words[words.index("--ckpt") + 1] if "--ckpt" in words else "<ckpt>"
        rest = [
            f"python training/lnn_train.py train --ckpt {shlex.quote(ckpt)} --decay-steps {c['decayStepsTo']} "
            + (f"--sampler-fraction {c['samplerFractionTo']:g} " if "samplerFractionTo" in c else "")
            + f"--steps {changes[i + 1]['atStep'] if i + 1 < len(changes) else prov['steps']}"
            for i, c in enumerate(changes)
        ]
        prov["reproduce"] = " && ".join([first, *rest])
    else:
        prov["reproduce"] = " ".join(shlex.quote(w) for w in out_words) + f" --steps {prov['steps']}"
    meta = {
        "formatVersion": 1,
        "kind": ms.kind,
        "system": {"id": spec.id, "params": {LEGACY_PARAM_NAMES.get(k, k): v for k, v in spec.params.items()}},
        "dof": spec.dof,
        "angles": angles,
        "input": {"qScale": ms.q_scale, "qdScale": ms.qd_scale,
                  **({"angleEmbedding": embedding(ms)} if embedding(ms) != "wrap" else {}),
                  **({"velocityEmbedding": velocity_embedding(ms)} if velocity_embedding(ms) != "identity" else {})},
        "architecture": {"layers": ms.layers, "activation": ms.activation},
        "output": {"scale": ms.out_scale},
        "trainingRanges": tr,
        "solver": {"hvvEpsilon": 1e-6},
        "parameterCount": n_params,
        "provenance": prov,
        "metrics": dict(blob.get("metrics", {}), **(metrics or {})),
    }
    if ms.kind == "lgn":
        meta["graph"] = dict(graph_of(ms))
    model = {
        "format": "three-lnn",
        "generatedBy": TRAINER_VERSION,
        "convertedBy": None,
        "modelTopology": {"class": "three-lnn/mlp", "layers": ms.layers, "activation": ms.activation},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": weights}],
        "userDefinedMetadata": {"threeLnn": meta},
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model, f, indent=2)
        f.write("\n")
    return meta


def load_exported(model_dir):
    """Read a v1 artefact back: (params list of (W, b), ModelSpec, metadata)."""
    with open(os.path.join(model_dir, "model.json")) as f:
        model = json.load(f)
    meta = model["userDefinedMetadata"]["threeLnn"]
    raw = b""
    for group in model["weightsManifest"]:
        for p in group["paths"]:
            with open(os.path.join(model_dir, p), "rb") as f:
                raw += f.read()
    arr = np.frombuffer(raw, "<f4")
    off, tensors = 0, []
    for group in model["weightsManifest"]:
        for w in group["weights"]:
            size = int(np.prod(w["shape"]))
            tensors.append(jnp.asarray(arr[off : off + size].reshape(w["shape"])))
            off += size
    params = [(tensors[i], tensors[i + 1]) for i in range(0, len(tensors), 2)]
    ms = ModelSpec(
        meta["kind"],
        meta["architecture"]["layers"],
        meta["architecture"]["activation"],
        meta["input"]["qScale"],
        meta["input"]["qdScale"],
        meta["output"]["scale"],
        meta["angles"],
        meta["dof"],
        {k: meta["input"][k] for k in ("angleEmbedding", "velocityEmbedding") if k in meta["input"]},
    )
    if meta.get("graph", {}).get("type") == "grid":
        ms.extra["graph"] = dict(meta["graph"])
    return params, ms, meta


# ----------------------------------------------------------------------------------------------------
# Training loop
# ----------------------------------------------------------------------------------------------------


def parse_params(items):
    out = {}
    for it in items or []:
        k, _, v = it.partition("=")
        out[k] = float(v)
    return out


def train(args):
    t_start = time.time()
    ckpt_dir = args.ckpt
    resume = ckpt_dir and os.path.exists(os.path.join(ckpt_dir, "ckpt.pkl")) and not args.fresh
    if resume:
        blob = load_ckpt(ckpt_dir)
        spec = SystemSpec(**blob["system"])
        ms = ModelSpec(**blob["model"])
        cfg = blob["cfg"]
        print(f"resuming from {ckpt_dir} at step {int(blob['state']['t'])}", flush=True)
        # A change of the schedule (e.g. to finish the cosine decay within a time budget) or of the batch mix
        # (e.g. to spend the rest of a run where the motion goes) on resume is recorded, one entry per
        # resume, so that the run stays reproducible.
        change = {"atStep": int(blob["state"]["t"]), "decayStepsFrom": cfg["decay_steps"], "decayStepsTo": cfg["decay_steps"]}
        if args.decay_steps is not None and args.decay_steps != cfg["decay_steps"]:
            change["decayStepsTo"] = cfg["decay_steps"] = args.decay_steps
        if args.sampler_fraction is not None and args.sampler_fraction != spec.sampler_fraction:
            check_sampler_fraction(spec, args.sampler_fraction)
            change["samplerFractionFrom"], change["samplerFractionTo"] = spec.sampler_fraction, args.sampler_fraction
            spec.sampler_fraction = blob["system"]["sampler_fraction"] = args.sampler_fraction
            # The validation set follows the new mix: the best checkpoint is chosen afresh from here on.
            blob["best_val"], blob["best_params"], blob["best_step"] = float("inf"), None, None
        if change["decayStepsTo"] != change["decayStepsFrom"] or "samplerFractionTo" in change:
            blob["provenance"].setdefault("scheduleChanges", []).append(change)
    else:
        spec = make_system(args.system, parse_params(args.param))
        if args.periodic_q:
            # For a system whose dynamics do not depend on q (L changes by a constant under q → q + a, as
            # for a particle in a uniform field) the network may see q wrapped into [−π, π): roll-outs
            # then never leave the training box in q.
            spec.angles = [True] * spec.dof
            spec.q_range = [[-math.pi, math.pi]] * spec.dof
        if args.q_range:
            spec.q_range = [[float(x) for x in args.q_range.split(",")]] * spec.dof
        if args.qd_range:
            spec.qd_range = [[float(x) for x in args.qd_range.split(",")]] * spec.dof
        if args.sampler_fraction:
            check_sampler_fraction(spec, args.sampler_fraction)
            spec.sampler_fraction = args.sampler_fraction
        hidden = [int(h) for h in args.hidden.split(",") if h]
        activation = args.activation or ("relu" if args.kind == "baseline" else "softplus")
        ms = build_model_spec(spec, args.kind, hidden, activation, args.angle_embedding, args.velocity_embedding)
        if args.qd_scale:
            ms.qd_scale = [args.qd_scale] * len(ms.qd_scale)
        cfg = {
            "lr": args.lr,
            "lr_min": args.lr_min,
            "warmup": args.warmup,
            "decay_steps": args.decay_steps or 200_000,
            "batch": args.batch,
            "clip": args.clip,
            "pd_weight": args.pd_weight,
            "pd_batch": args.pd_batch,
            "loss": args.loss,
            "rel_floor": args.rel_floor,
            "shift_invariant": bool(args.shift_invariant),
            "seed": args.seed,
            "val_size": args.val_size,
            "val_every": args.val_every,
            "restart_step": args.restart_step,
            "restart_l1": args.restart_l1,
            "max_restarts": args.max_restarts,
        }
        key = jax.random.PRNGKey(args.seed)
        cmd = "python training/lnn_train.py " + " ".join(shlex.quote(a) for a in args.argv)
        blob = {
            "system": asdict(spec),
            "model": asdict(ms),
            "cfg": cfg,
            "restarts": 0,
            "state": None,
            "key": None,
            "wall": 0.0,
            "best_params": None,
            "best_step": None,
            "best_val": float("inf"),
            "history": [],
            "provenance": {
                "command": cmd,
                "seed": args.seed,
                "trainer": TRAINER_VERSION,
                "batch": args.batch,
                "data": {
                    "distribution": (
                        f"fresh states every step, {spec.sampler_fraction:g} of each batch from the system's "
                        "sampler (states its motion reaches), the rest uniform over the box"
                        if spec.sampler_fraction
                        else "fresh uniform states every step"
                    )
                    + (" (q̇ = tanh(u), u uniform)" if spec.qd_sampling == "rapidity" else ""),
                    "q": spec.q_range,
                    "qdOrRapidity": spec.qd_range,
                    "targets": "closed-form q̈ of the analytic system, float32",
                },
                "optimizer": {
                    "name": "adam",
                    "lr": args.lr,
                    "lrMin": args.lr_min,
                    "warmup": args.warmup,
                    "decaySteps": args.decay_steps or 200_000,
                    "clipGlobalNorm": args.clip,
                    "loss": "L1 on q̈" if args.loss == "l1" else f"L1 on q̈ relative to |q̈| + {args.rel_floor:g}",
                    "pdPenalty": args.pd_weight,
                    "shiftInvariantEdges": bool(args.shift_invariant),
                },
                "hardware": hardware(),
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            },
        }
        blob["key"] = key

    def fresh_state(seed_key):
        k_init, k_data = jax.random.split(seed_key)
        params = init_mlp(k_init, ms.layers)
        if cfg.get("shift_invariant"):
            params = shift_invariant(params)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return {"params": params, "m": zeros, "v": zeros, "t": jnp.float32(0.0)}, k_data

    if blob["state"] is None:
        blob["state"], blob["key"] = fresh_state(jax.random.fold_in(blob["key"], blob["restarts"]))

    # Fixed validation set, independent of the training stream.
    vq, vqd = sample_states(spec, jax.random.PRNGKey(cfg["seed"] + 1_000_003), cfg["val_size"])
    val = (vq, vqd, spec.qdd(vq, vqd))
    devices = len(jax.devices()) if args.devices == "all" else int(args.devices)
    mesh = make_mesh(devices)
    if cfg["batch"] % devices != 0:
        raise SystemExit(f"--devices {devices}: the batch {cfg['batch']} must be a multiple of the device count.")
    if devices > 1:
        # Recorded: the run is the one-device run up to float rounding, not bitwise.
        blob["provenance"].setdefault("dataParallel", []).append(
            {"atStep": int(blob["state"]["t"]), "devices": devices, "platform": jax.devices()[0].platform,
             "processes": jax.process_count()}
        )
    step = make_step(spec, ms, cfg, mesh)
    state, key = replicate(blob["state"], mesh), replicate(blob["key"], mesh)
    deadline = t_start + args.minutes * 60.0 if args.minutes else float("inf")
    max_steps = args.steps if args.steps else cfg["decay_steps"]
    wall0 = blob["wall"]
    last_log = time.time()
    skipped = 0
    skipped_in_row = 0
    t_run = time.time()
    steps_at_run = int(state["t"])
    steady_t0, steady_s0 = None, 0
    while int(state["t"]) < max_steps and time.time() < deadline:
        if steady_t0 is None and int(state["t"]) > steps_at_run:
            # Steady-state throughput excludes the first step (XLA compilation).
            jax.block_until_ready(state["params"])
            steady_t0, steady_s0 = time.time(), int(state["t"])
        # The step counter is the Adam step (skipped updates do not advance it); the data key
        # advances every call so that a skipped batch is never replayed.
        key, sub = jax.random.split(key)
        state, info = step(state, sub)
        if not bool(info["finite"]):
            skipped += 1
            skipped_in_row += 1
            if skipped_in_row >= 200:
                raise SystemExit(
                    f"training stopped: the last {skipped_in_row} updates were all non-finite (loss or gradient "
                    f"NaN/Inf) at step {int(state['t'])}; check the training box against the model's input map "
                    "(e.g. speeds ≥ 1 under --velocity-embedding rapidity) or lower --lr."
                )
        else:
            skipped_in_row = 0
        t = int(state["t"])
        if t % cfg["val_every"] == 0 or int(state["t"]) >= max_steps:
            v = validate(state["params"], spec, ms, val)
            blob["history"].append([t, v])
            if v < blob["best_val"]:
                blob["best_val"], blob["best_params"], blob["best_step"] = v, state["params"], t
            now = time.time()
            sps = (t - steps_at_run) * cfg["batch"] / max(1e-9, now - t_run)
            print(
                f"step {t} loss {float(info['loss']):.4g} val_qdd_l1 {v:.4g} best {blob['best_val']:.4g} "
                f"lr {float(info['lr']):.3g} gnorm {float(info['gnorm']):.3g} skipped {skipped} "
                f"samples/s {sps:.0f} elapsed {wall0 + now - t_start:.0f}s",
                flush=True,
            )
            # Deterministic restart rule: reseed a stalled run (decided by step, not by wall time).
            if (
                t == cfg["restart_step"]
                and v > cfg["restart_l1"]
                and blob["restarts"] < cfg["max_restarts"]
            ):
                blob["restarts"] += 1
                print(f"restart {blob['restarts']}: val {v:.4g} > {cfg['restart_l1']} at step {t}", flush=True)
                state, key = replicate(
                    fresh_state(jax.random.fold_in(jax.random.PRNGKey(cfg["seed"]), blob["restarts"])), mesh
                )
                blob["best_val"], blob["best_params"], blob["best_step"] = float("inf"), None, None
                steps_at_run, t_run = 0, time.time()
            if ckpt_dir and now - last_log > 60:
                blob["state"], blob["key"], blob["wall"] = state, key, wall0 + now - t_start
                save_ckpt(ckpt_dir, blob)
                last_log = now
    jax.block_until_ready(state["params"])
    if steady_t0 is not None and int(state["t"]) > steady_s0:
        sps = (int(state["t"]) - steady_s0) * cfg["batch"] / max(1e-9, time.time() - steady_t0)
        print(f"steady samples/s {sps:.0f}", flush=True)
    blob["state"], blob["key"], blob["wall"] = state, key, wall0 + time.time() - t_start
    final_val = validate(state["params"], spec, ms, val)
    if final_val < blob["best_val"]:
        blob["best_val"], blob["best_params"], blob["best_step"] = final_val, state["params"], int(state["t"])
    blob["metrics"] = {
        "validationQddL1": {
            "value": blob["best_val"],
            "states": cfg["val_size"],
            "protocol": "mean |q̈_pred − q̈_true| over a fixed validation set from the training box",
        }
    }
    if ckpt_dir:
        save_ckpt(ckpt_dir, blob)
    print(f"done: steps {int(state['t'])} best val {blob['best_val']:.4g} at step {blob['best_step']} "
          f"wall {blob['wall']:.0f}s restarts {blob['restarts']}", flush=True)
    if args.out:
        export_model(blob, args.out)
        print(f"exported {args.out}", flush=True)
    return blob


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a model")
    t.add_argument("--system", default="double-pendulum")
    t.add_argument("--kind", choices=["lnn", "baseline", "lgn"], default="lnn")
    t.add_argument("--hidden", default="128,128")
    t.add_argument("--activation", default=None, help="softplus (lnn/lgn default), tanh, relu (baseline default)")
    t.add_argument("--param", action="append", help="system parameter override, e.g. --param nodes=8")
    t.add_argument("--q-range", default=None, help="training box of every q, 'lo,hi' (default: the system's)")
    t.add_argument("--qd-range", default=None,
                   help="training box of every q̇ (rapidity for relativistic-particle), 'lo,hi' (default: the system's)")
    t.add_argument(
        "--sampler-fraction",
        type=float,
        default=None,
        help="share of each batch from the system's own state sampler (spherical pendulums), the rest from the box "
        "(default 0); on resume: change it (recorded)",
    )
    t.add_argument("--periodic-q", action="store_true",
                   help="feed wrap(q) to the network (only for dynamics invariant under q → q + a)")
    t.add_argument("--angle-embedding", choices=["wrap", "sincos"], default="wrap",
                   help="how angle coordinates enter the network: wrap(θ), or (cos θ, sin θ)")
    t.add_argument("--velocity-embedding", choices=["identity", "rapidity"], default="identity",
                   help="how velocities enter the network: q̇, or atanh(q̇) (speed limit c = 1)")
    t.add_argument("--qd-scale", type=float, default=None, help="network input scale of q̇ (default 1/max|q̇ box|)")
    t.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: --decay-steps)")
    t.add_argument("--minutes", type=float, default=0.0, help="wall-clock budget; 0 = none")
    t.add_argument("--batch", type=int, default=512)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--lr-min", type=float, default=1e-5)
    t.add_argument("--warmup", type=int, default=200)
    t.add_argument("--decay-steps", type=int, default=None,
                   help="length of the cosine schedule (default 200000); on resume: change it (recorded)")
    t.add_argument("--clip", type=float, default=1.0)
    t.add_argument("--loss", choices=["l1", "relative"], default="l1")
    t.add_argument("--shift-invariant", action="store_true",
                   help="lgn: edge term depends on q_i, q_{i+1} only through their difference (tied weights)")
    t.add_argument("--rel-floor", type=float, default=1e-6, help="floor of |q̈| in the relative loss")
    t.add_argument("--pd-weight", type=float, default=0.0, help="weight of the H_vv positive-definite penalty")
    t.add_argument("--pd-batch", type=int, default=64)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--val-size", type=int, default=8192)
    t.add_argument("--val-every", type=int, default=1000)
    t.add_argument("--restart-step", type=int, default=0, help="step of the stall check (0: off)")
    t.add_argument("--restart-l1", type=float, default=3.0)
    t.add_argument("--max-restarts", type=int, default=3)
    t.add_argument("--devices", default="1",
                   help="data parallel over this many devices, or 'all' (the batch must divide evenly)")
    t.add_argument("--distributed", action="store_true",
                   help="call jax.distributed.initialize() first (multi-host; coordinator from the environment)")
    t.add_argument("--ckpt", default=None, help="checkpoint directory (resumes when it holds one)")
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    t.add_argument("--out", default=None, help="export the best weights here when the run ends")
    e = sub.add_parser("export", help="export a checkpoint to the model format")
    e.add_argument("--ckpt", required=True)
    e.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    # The command recorded in a model's provenance: the arguments this run was given.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.cmd == "train":
        if args.devices != "all" and not args.devices.isdigit():
            raise SystemExit(f"--devices: a device count or 'all', got {args.devices!r}")
        if args.distributed:
            jax.distributed.initialize()
        train(args)
    else:
        export_model(load_ckpt(args.ckpt), args.out)


if __name__ == "__main__":
    main()
