"""The spherical pendulum in the JAX trainer (`spherical-pendulum`, the tilt–swing chart of
src/systems/SphericalPendulum.ts): the closed-form q̈ against the Euler–Lagrange equations of the JAX
Lagrangian by finite differences, the energy against the Legendre transform, the sampler against the
TypeScript sampler's bounds, and the claim the training box rests on (trajectories from the sampler stay
in it)."""

import json
import math
import os
import shlex
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lnn_train as T  # noqa: E402

PARAMS = [{"m": 1.0, "l": 1.0, "g": 9.8}, {"m": 0.7, "l": 1.6, "g": 3.2}]


def wide_states(key, n):
    """States beyond the training box (|α| ≤ 1.3, any β, |q̇| ≤ 4), away from the singular set."""
    kq, kb, kv = jax.random.split(key, 3)
    a = jax.random.uniform(kq, (n, 1), jnp.float64, -1.3, 1.3)
    b = jax.random.uniform(kb, (n, 1), jnp.float64, -math.pi, math.pi)
    v = jax.random.uniform(kv, (n, 2), jnp.float64, -4.0, 4.0)
    return jnp.concatenate([a, b], axis=1), v


def euler_lagrange_fd(p, q, qd, h=1e-4):
    """q̈ from the Euler–Lagrange equations of T.spherical_lagrangian with every derivative taken by central
    differences (float64): M = ∂²L/∂q̇², C = ∂²L/∂q̇∂q, g = ∂L/∂q, q̈ = M⁻¹ (g − C q̇)."""
    L = lambda a, b: float(T.spherical_lagrangian(p, jnp.asarray(a), jnp.asarray(b)))  # noqa: E731
    n = 2
    e = np.eye(n) * h
    q, qd = np.asarray(q), np.asarray(qd)
    grad_q = np.array([(L(q + e[i], qd) - L(q - e[i], qd)) / (2 * h) for i in range(n)])
    M = np.zeros((n, n))
    C = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            M[i, j] = (
                L(q, qd + e[i] + e[j]) - L(q, qd + e[i] - e[j]) - L(q, qd - e[i] + e[j]) + L(q, qd - e[i] - e[j])
            ) / (4 * h * h)
            C[i, j] = (
                L(q + e[j], qd + e[i]) - L(q - e[j], qd + e[i]) - L(q + e[j], qd - e[i]) + L(q - e[j], qd - e[i])
            ) / (4 * h * h)
    return np.linalg.solve(M, grad_q - C @ qd)


@pytest.mark.parametrize("p", PARAMS)
def test_closed_form_qdd_matches_finite_difference_euler_lagrange(p):
    with jax.enable_x64(True):
        spec = T.make_system("spherical-pendulum", p)
        q, qd = wide_states(jax.random.PRNGKey(3), 40)
        got = np.asarray(spec.qdd(q, qd))
        worst = 0.0
        for b in range(q.shape[0]):
            ref = euler_lagrange_fd(spec.params, q[b], qd[b])
            worst = max(worst, float(np.max(np.abs(got[b] - ref) / (np.abs(ref) + 1.0))))
        # Central differences with h = 1e-4: O(h²) truncation plus O(ε/h²) rounding, both ~1e-8.
        assert worst < 1e-5, f"closed-form q̈ vs finite-difference Euler–Lagrange: worst {worst:.3g}"


@pytest.mark.parametrize("p", PARAMS)
def test_energy_is_the_legendre_transform_of_the_lagrangian(p):
    with jax.enable_x64(True):
        spec = T.make_system("spherical-pendulum", p)
        q, qd = wide_states(jax.random.PRNGKey(4), 64)

        def legendre(a, b):
            lv, gv = jax.value_and_grad(lambda v: T.spherical_lagrangian(spec.params, a, v))(b)
            return jnp.dot(b, gv) - lv

        ref = jax.vmap(legendre)(q, qd)
        np.testing.assert_allclose(np.asarray(spec.energy(q, qd)), np.asarray(ref), rtol=1e-12, atol=1e-12,
                                   err_msg="E ≠ q̇·∂L/∂q̇ − L")


def test_planar_slice_is_the_simple_pendulum():
    """α = 0, α̇ = 0 stays planar: α̈ = 0 and β̈ = −(g/l) sin β."""
    with jax.enable_x64(True):
        spec = T.make_system("spherical-pendulum", {"l": 1.3})
        beta = jnp.linspace(-3.0, 3.0, 13)
        q = jnp.stack([jnp.zeros_like(beta), beta], axis=1)
        qd = jnp.stack([jnp.zeros_like(beta), jnp.linspace(-2.0, 2.0, 13)], axis=1)
        a = np.asarray(spec.qdd(q, qd))
        np.testing.assert_allclose(a[:, 0], 0.0, atol=1e-15, err_msg="α̈ on the planar slice")
        np.testing.assert_allclose(a[:, 1], -9.8 / 1.3 * np.sin(np.asarray(beta)), rtol=1e-13,
                                   err_msg="β̈ on the planar slice")


@pytest.mark.parametrize("p", PARAMS)
def test_sampler_keeps_the_typescript_bounds_and_the_box_contains_it(p):
    """SphericalPendulum.sample's guarantees: cos θ = cos α cos β ∈ [½, 1), E ≤ −½ m g l, and
    cos θ ~ U[½, 1) (mean ¾); every sample inside the training box."""
    with jax.enable_x64(True):
        spec = T.make_system("spherical-pendulum", p)
        q, qd = T.sample_spherical_cap(spec.params, jax.random.PRNGKey(5), 20000)
        ct = np.asarray(jnp.cos(q[:, 0]) * jnp.cos(q[:, 1]))
        assert ct.min() >= 0.5 - 1e-12, f"cos θ below ½: {ct.min()}"
        assert abs(ct.mean() - 0.75) < 0.01, f"cos θ should be U[½, 1): mean {ct.mean()}"
        m, l, g = p["m"], p["l"], p["g"]
        e = np.asarray(spec.energy(q, qd))
        assert e.max() <= -0.5 * m * g * l * (1 - 1e-12), f"E above −½ m g l: {e.max()}"
        for i in range(2):
            lo, hi = spec.q_range[i]
            vlo, vhi = spec.qd_range[i]
            assert lo <= float(q[:, i].min()) and float(q[:, i].max()) <= hi, f"q[{i}] outside the box"
            assert vlo <= float(qd[:, i].min()) and float(qd[:, i].max()) <= vhi, f"q̇[{i}] outside the box"


def test_trajectories_from_the_sampler_stay_in_the_training_box():
    """The box is the bounding box of the invariant set E ≤ −½ m g l: 64 sampled states, 10 s of RK4 at
    dt = 0.005 on the exact q̈, every state on the way inside it."""
    with jax.enable_x64(True):
        spec = T.make_system("spherical-pendulum", {})
        q0, v0 = T.sample_spherical_cap(spec.params, jax.random.PRNGKey(6), 64)
        dt = 0.005

        def rk4(carry, _):
            q, v = carry
            f = spec.qdd
            a1 = f(q, v)
            a2 = f(q + 0.5 * dt * v, v + 0.5 * dt * a1)
            a3 = f(q + 0.5 * dt * (v + 0.5 * dt * a1), v + 0.5 * dt * a2)
            a4 = f(q + dt * (v + 0.5 * dt * a2), v + dt * a3)
            qn = q + dt * v + dt * dt / 6.0 * (a1 + a2 + a3)
            vn = v + dt / 6.0 * (a1 + 2 * a2 + 2 * a3 + a4)
            return (qn, vn), (qn, vn)

        _, (qs, vs) = jax.lax.scan(rk4, (q0, v0), None, length=2000)
        qs, vs = np.asarray(qs), np.asarray(vs)
        for i in range(2):
            lo, hi = spec.q_range[i]
            vlo, vhi = spec.qd_range[i]
            assert lo - 1e-9 <= qs[..., i].min() and qs[..., i].max() <= hi + 1e-9, f"q[{i}] left the box"
            assert vlo - 1e-9 <= vs[..., i].min() and vs[..., i].max() <= vhi + 1e-9, f"q̇[{i}] left the box"
        drift = np.abs(np.asarray(spec.energy(qs[-1], vs[-1])) - np.asarray(spec.energy(q0, v0))).max() / 9.8
        assert drift < 1e-6, f"RK4 energy drift of the exact system over 10 s: {drift:.3g}"


def test_lnn_trains_on_the_box_with_sincos_angles():
    """Model set-up: both chart angles go through (cos, sin); q̇ scaled by the box; the step runs."""
    spec = T.make_system("spherical-pendulum", {})
    ms = T.build_model_spec(spec, "lnn", [16, 16], "softplus", angle_embedding="sincos")
    assert ms.layers[0] == 6 and ms.angles == [True, True], ms
    assert ms.qd_scale == pytest.approx([1.0 / math.sqrt(9.8)] * 2)
    q, qd = T.sample_states(spec, jax.random.PRNGKey(0), 32)
    params = T.init_mlp(jax.random.PRNGKey(1), ms.layers)
    a = T.predict_qdd(params, ms, q, qd)
    assert a.shape == (32, 2) and bool(jnp.all(jnp.isfinite(a)))


# ----------------------------------------------------------------------------------------------------
# Against the TypeScript systems (fixtures/spherical/systems.json, written by make_fixture.mts)
# ----------------------------------------------------------------------------------------------------

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "spherical", "systems.json")
LAGRANGIANS = {"spherical-pendulum": T.spherical_lagrangian, "double-spherical-pendulum": T.double_spherical_lagrangian}
SAMPLERS = {"spherical-pendulum": T.sample_spherical_cap, "double-spherical-pendulum": T.sample_double_spherical}


def fixture_cases():
    import json

    with open(FIXTURE) as f:
        return json.load(f)["cases"]


CASES = fixture_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['id']}-{c['params']}")
def test_qdd_energy_and_lagrangian_match_the_typescript_system(case):
    """Sampled states and states beyond the sampler's box: the JAX q̈, energy and L equal the TypeScript
    float64 ones to rounding."""
    with jax.enable_x64(True):
        spec = T.make_system(case["id"], case["params"])
        q = jnp.array([s["q"] for s in case["states"]])
        qd = jnp.array([s["qd"] for s in case["states"]])
        qdd = np.array([s["qdd"] for s in case["states"]])
        np.testing.assert_allclose(np.asarray(spec.qdd(q, qd)), qdd, rtol=1e-9, atol=1e-9,
                                   err_msg=f"{case['id']}: q̈ vs TypeScript")
        np.testing.assert_allclose(np.asarray(spec.energy(q, qd)), [s["energy"] for s in case["states"]],
                                   rtol=1e-12, atol=1e-12, err_msg=f"{case['id']}: energy vs TypeScript")
        lag = jax.vmap(lambda a, b: LAGRANGIANS[case["id"]](spec.params, a, b))(q, qd)
        np.testing.assert_allclose(np.asarray(lag), [s["lagrangian"] for s in case["states"]],
                                   rtol=1e-12, atol=1e-12, err_msg=f"{case['id']}: L vs TypeScript")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['id']}-{c['params']}")
def test_jax_sampler_draws_the_typescript_distribution(case):
    """Mean of E, of each q and of each |q̇| over 20,000 draws: within 5 standard errors of the
    TypeScript sampler's (different random streams, same distribution); every draw in the training box."""
    with jax.enable_x64(True):
        spec = T.make_system(case["id"], case["params"])
        ref = case["sampler"]
        n_ts, n = ref["draws"], 20000
        q, qd = SAMPLERS[case["id"]](spec.params, jax.random.PRNGKey(11), n)
        e = np.asarray(spec.energy(q, qd))
        cols = [("energy", e, ref["energy"])]
        cols += [(f"q[{i}]", np.asarray(q[:, i]), ref["q"][i]) for i in range(spec.dof)]
        cols += [(f"|q̇[{i}]|", np.abs(np.asarray(qd[:, i])), ref["absQd"][i]) for i in range(spec.dof)]
        for name, x, r in cols:
            se = math.sqrt(r["std"] ** 2 / n_ts + x.std() ** 2 / n)
            assert abs(x.mean() - r["mean"]) < 5 * se + 1e-12, f"{case['id']} {name}: {x.mean()} vs {r['mean']}"
            assert abs(x.std() - r["std"]) < 0.05 * r["std"] + 1e-12, f"{case['id']} {name}: spread"
        for i in range(spec.dof):
            assert spec.q_range[i][0] <= float(q[:, i].min()) and float(q[:, i].max()) <= spec.q_range[i][1]
            assert spec.qd_range[i][0] <= float(qd[:, i].min()) and float(qd[:, i].max()) <= spec.qd_range[i][1], (
                f"{case['id']}: q̇[{i}] outside the box {spec.qd_range[i]}: {float(jnp.abs(qd[:, i]).max())}"
            )


@pytest.mark.parametrize("sid", ["spherical-pendulum", "double-spherical-pendulum"])
def test_python_evaluator_runs_the_sampler_energy_protocol(sid):
    """training/lnn_eval.py's protocol for the spherical pendulums: starts from the system's sampler, the
    exact q̈ under the same RK4 conserves the energy to 1e-8 of the scale over 2 s, and a (random, untrained)
    LNN gives a finite, non-zero error."""
    import lnn_eval as E  # enables float64 for the whole process, as the evaluator does

    spec = T.make_system(sid, {})
    ms = T.build_model_spec(spec, "lnn", [8, 8], "softplus", angle_embedding="sincos")
    params = E.cast64(T.init_mlp(jax.random.PRNGKey(2), ms.layers))
    r = E.sampled_energy_protocol(params, ms, spec, starts=4, seconds=2.0, dt=0.005, seed=0)
    assert r["analyticSameIntegrator"] < 1e-8, r
    assert r["nonFinite"] > 0 or (math.isfinite(r["value"]) and r["value"] > 0), r
    assert "from the system sampler" in r["protocol"]


@pytest.mark.parametrize("sid", ["spherical-pendulum", "double-spherical-pendulum"])
def test_sampler_fraction_mixes_sampler_and_box_states(sid):
    """--sampler-fraction f: the first round(f·batch) states of a batch are the system's sampler draws
    (below its energy budget, inside the cap), the rest uniform over the box (some above the budget)."""
    spec = T.make_system(sid)
    spec.sampler_fraction = 0.75
    q, qd = T.sample_states(spec, jax.random.PRNGKey(3), 400)
    assert q.shape == (400, spec.dof) and q.dtype == jnp.float32
    lo = np.array([r[0] for r in spec.q_range]) - 1e-6
    hi = np.array([r[1] for r in spec.q_range]) + 1e-6
    assert np.all((np.asarray(q) >= lo) & (np.asarray(q) <= hi))
    e = np.asarray(spec.energy(q.astype(jnp.float64), qd.astype(jnp.float64)))
    rest = float(spec.energy(jnp.zeros((1, spec.dof)), jnp.zeros((1, spec.dof)))[0])
    if sid == "spherical-pendulum":
        budget = -0.5 * spec.params["m"] * spec.params["g"] * spec.params["l"] - rest
    else:
        budget = T._dsph_scales(spec.params)[2]
    above = e - rest
    assert np.all(above[:300] <= budget * (1 + 1e-4) + 1e-5)
    assert np.mean(above[300:] > budget) > 0.2
    # the share 0 is the plain box stream
    spec.sampler_fraction = 0.0
    qb, _ = T.sample_states(spec, jax.random.PRNGKey(3), 400)
    qb2, _ = T._box_states(spec, jax.random.PRNGKey(3), 400)
    assert np.array_equal(np.asarray(qb), np.asarray(qb2))


def test_sampler_fraction_is_refused_for_a_system_without_a_sampler():
    with pytest.raises(SystemExit, match="no state sampler"):
        T.main(["train", "--system", "double-pendulum", "--sampler-fraction", "0.5", "--steps", "1"])


def test_sampler_fraction_change_on_resume_is_recorded_and_reproduced(tmp_path):
    """Resuming with another --sampler-fraction switches the batch mix from that step, records it beside the
    schedule changes, restarts the best-checkpoint choice (the validation set follows the mix), and the
    exported `reproduce` line, run as written, gives bitwise the same weights."""
    base = ["--system", "spherical-pendulum", "--kind", "lnn", "--hidden", "8,8", "--batch", "32",
            "--val-every", "5", "--val-size", "64", "--seed", "2", "--decay-steps", "30", "--warmup", "2"]
    ckpt = str(tmp_path / "run")
    T.main(["train", *base, "--sampler-fraction", "0.5", "--ckpt", ckpt, "--steps", "10"])
    T.main(["train", "--ckpt", ckpt, "--sampler-fraction", "1", "--decay-steps", "40", "--steps", "20"])
    blob = T.load_ckpt(ckpt)
    assert blob["system"]["sampler_fraction"] == 1.0 and blob["cfg"]["decay_steps"] == 40
    changes = blob["provenance"]["scheduleChanges"]
    assert len(changes) == 1, "one entry per resume, both changes in it"
    change = changes[0]
    assert change["atStep"] == 10 and change["samplerFractionFrom"] == 0.5 and change["samplerFractionTo"] == 1.0
    assert change["decayStepsFrom"] == 30 and change["decayStepsTo"] == 40
    assert blob["best_step"] > 10, "the best checkpoint is chosen on the new mix's validation set"
    out = tmp_path / "model"
    T.export_model(blob, str(out))
    prov = json.loads((out / "model.json").read_text())["userDefinedMetadata"]["threeLnn"]["provenance"]
    assert "from step 10, 1 of each batch from the sampler" in prov["data"]
    parts = prov["reproduce"].split(" && ")
    assert len(parts) == 2 and "--decay-steps 40 --sampler-fraction 1 " in parts[1]
    again = str(tmp_path / "again")
    for part in parts:
        argv = shlex.split(part.replace(ckpt, again))[2:]
        T.main(argv)
    twin = T.load_ckpt(again)
    for (w1, b1), (w2, b2) in zip(blob["best_params"], twin["best_params"]):
        np.testing.assert_array_equal(np.asarray(w1), np.asarray(w2))
        np.testing.assert_array_equal(np.asarray(b1), np.asarray(b2))
