"""minigrad.optimizers: Keras 3 update rules, weight decay, clipping, the schedule pipeline,
state, config, bad input. The reference is an independent float64 numpy loop written from
the formulas in KERAS_SEMANTICS.md and docs/keras_semantics.md; Keras itself is an optional
oracle at the end. Schedule values are tested in test_schedules.py."""
import json
import math
import re

import numpy as np
import pytest
from keras_oracle import run_keras

import minigrad as mg
from minigrad.optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lion,
    Nadam,
    Optimizer,
    RMSprop,
    schedules,
)
from minigrad.tensor import Parameter, Tensor

# ----------------------------------------------------------------------------- reference


def ref_clip(spec, grads):
    """Keras clipping on the non-None gradients (float64)."""
    if "clipnorm" in spec:
        c = spec["clipnorm"]
        return [None if g is None else g * c / max(np.sqrt(np.sum(g * g)), c) for g in grads]
    if "global_clipnorm" in spec:
        c = spec["global_clipnorm"]
        norm = np.sqrt(sum(np.sum(g * g) for g in grads if g is not None))
        scale = c * min(1.0 / norm, 1.0 / c)
        return [None if g is None else g * scale for g in grads]
    if "clipvalue" in spec:
        c = spec["clipvalue"]
        return [None if g is None else np.minimum(np.maximum(g, -c), c) for g in grads]
    return grads


def ref_update(spec, w, g, s, lr, t, u_product):
    """One Keras 3 update of w (float64), slots in the dict s (created on first use);
    ``u_product`` is Nadam's U_t for this step."""
    kind = spec["kind"]
    if kind in REF_MORE:
        return REF_MORE[kind](spec, w, g, s, lr, t, u_product)
    if kind == "sgd":
        mom = spec.get("momentum", 0.0)
        if mom == 0:
            return w - lr * g
        s["v"] = mom * s.get("v", 0.0) - lr * g
        return w + (mom * s["v"] - lr * g if spec.get("nesterov") else s["v"])
    if kind == "adagrad":
        s["a"] = s.get("a", spec.get("init", 0.1)) + g * g
        return w - lr * g / np.sqrt(s["a"] + spec.get("eps", 1e-7))
    if kind == "rmsprop":
        rho, eps, mom = spec.get("rho", 0.9), spec.get("eps", 1e-7), spec.get("momentum", 0.0)
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        if spec.get("centered"):
            s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
            inc = lr * g / np.sqrt(s["v"] - s["mg"] ** 2 + eps)
        else:
            inc = lr * g / np.sqrt(s["v"] + eps)
        if mom > 0:
            s["m"] = mom * s.get("m", 0.0) + inc
            return w - s["m"]
        return w - inc
    b1, b2, eps = spec.get("b1", 0.9), spec.get("b2", 0.999), spec.get("eps", 1e-7)
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g     # Keras's m += (g-m)(1-b1), rearranged
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    v = s["v"]
    if spec.get("amsgrad"):
        s["vhat"] = np.maximum(s.get("vhat", 0.0), s["v"])
        v = s["vhat"]
    alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - alpha * s["m"] / (np.sqrt(v) + eps)


def ref_nadam(spec, w, g, s, lr, t, u_product):
    b1, b2, eps = spec.get("b1", 0.9), spec.get("b2", 0.999), spec.get("eps", 1e-7)
    u_t, u_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    m_hat = u_next * s["m"] / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
    v_hat = s["v"] / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamax(spec, w, g, s, lr, t, _):
    b1, b2, eps = spec.get("b1", 0.9), spec.get("b2", 0.999), spec.get("eps", 1e-7)
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
    return w - lr * s["m"] / ((1 - b1 ** t) * (s["u"] + eps))


def ref_adadelta(spec, w, g, s, lr, t, _):
    rho, eps = spec.get("rho", 0.95), spec.get("eps", 1e-7)
    s["ag"] = rho * s.get("ag", 0.0) + (1 - rho) * g * g
    delta = -np.sqrt(s.get("ad", 0.0) + eps) * g / np.sqrt(s["ag"] + eps)
    s["ad"] = rho * s.get("ad", 0.0) + (1 - rho) * delta * delta
    return w + lr * delta


def ref_ftrl(spec, w, g, s, lr, t, _):
    p, l1, l2 = spec.get("power", -0.5), spec.get("l1", 0.0), spec.get("l2", 0.0)
    shrink, beta = spec.get("shrink", 0.0), spec.get("beta", 0.0)
    n = s.get("n", spec.get("init", 0.1))
    n_new = n + g * g
    s["z"] = s.get("z", 0.0) + g + 2 * shrink * w - (n_new ** -p - n ** -p) / lr * w
    s["n"] = n_new
    quadratic = n_new ** -p / lr + 2 * (l2 + beta / (2 * lr))
    return (np.clip(s["z"], -l1, l1) - s["z"]) / quadratic


def ref_lion(spec, w, g, s, lr, t, _):
    b1, b2 = spec.get("b1", 0.9), spec.get("b2", 0.99)
    m = s.get("m", 0.0)
    s["m"] = b2 * m + (1 - b2) * g
    return w - lr * np.sign(b1 * m + (1 - b1) * g)


REF_MORE = {"nadam": ref_nadam, "adamax": ref_adamax, "adadelta": ref_adadelta,
            "ftrl": ref_ftrl, "lion": ref_lion}


def ref_run(spec, w0s, grad_seq):
    """Keras's pipeline: clip, decoupled weight decay ``w -= w*wd*lr`` on the variables with
    a gradient (not those in spec["no_decay"]), the update, every step."""
    ws = [np.array(w, dtype=np.float64) for w in w0s]
    slots = [{} for _ in ws]
    lr_of = spec["lr"] if callable(spec["lr"]) else (lambda k: spec["lr"])
    wd, no_decay = spec.get("wd"), spec.get("no_decay", ())
    u_product = 1.0
    for k, grads in enumerate(grad_seq):
        lr, t = lr_of(k), k + 1
        if spec["kind"] == "nadam":
            b1 = spec.get("b1", 0.9)
            u_product *= b1 * (1 - 0.5 * 0.96 ** t)
        grads = ref_clip(spec, [None if g is None else g.astype(np.float64) for g in grads])
        for j, g in enumerate(grads):
            if g is None:
                continue
            if wd is not None and j not in no_decay:
                ws[j] = ws[j] - ws[j] * wd * lr
            ws[j] = ref_update(spec, ws[j], g, slots[j], lr, t, u_product)
    return ws


def R(kind, lr, **options):
    """A reference spec: the update kind, lr (a float or a function of the step), options."""
    return {"kind": kind, "lr": lr, **options}


def _cos(k, steps):
    return 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps))


def _restarts(k, lr0, first, t_mul, m_mul):
    """SGDR by walking the periods: period i lasts first*t_mul**i steps at lr0*m_mul**i."""
    start, length, height = 0, first, lr0
    while k >= start + length:
        start, length, height = start + length, length * t_mul, height * m_mul
    return height * _cos(k - start, length)


S = schedules
CASES = [  # (id, optimizer factory, reference spec: R(kind, lr, **options))
    ("sgd", lambda: SGD(0.1), R("sgd", 0.1)),
    ("sgd_momentum", lambda: SGD(0.05, momentum=0.9), R("sgd", 0.05, momentum=0.9)),
    ("sgd_nesterov", lambda: SGD(0.05, momentum=0.9, nesterov=True),
     R("sgd", 0.05, momentum=0.9, nesterov=True)),
    ("adagrad", lambda: Adagrad(0.1), R("adagrad", 0.1)),
    ("adagrad_init_eps", lambda: Adagrad(0.1, initial_accumulator_value=0.5, epsilon=0.5),
     R("adagrad", 0.1, init=0.5, eps=0.5)),
    ("rmsprop", lambda: RMSprop(0.01), R("rmsprop", 0.01)),
    ("rmsprop_momentum", lambda: RMSprop(0.01, rho=0.8, momentum=0.5),
     R("rmsprop", 0.01, rho=0.8, momentum=0.5)),
    ("rmsprop_centered", lambda: RMSprop(0.01, centered=True), R("rmsprop", 0.01, centered=True)),
    ("rmsprop_centered_momentum",
     lambda: RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-3, centered=True),
     R("rmsprop", 0.01, rho=0.8, momentum=0.5, eps=1e-3, centered=True)),
    ("adam", lambda: Adam(0.01), R("adam", 0.01)),
    ("adam_big_eps", lambda: Adam(0.01, beta_1=0.8, beta_2=0.9, epsilon=0.5),
     R("adam", 0.01, b1=0.8, b2=0.9, eps=0.5)),
    ("adam_amsgrad", lambda: Adam(0.01, amsgrad=True), R("adam", 0.01, amsgrad=True)),
    ("clipvalue", lambda: SGD(0.1, momentum=0.9, clipvalue=0.5),
     R("sgd", 0.1, momentum=0.9, clipvalue=0.5)),
    ("clipnorm", lambda: Adam(0.01, clipnorm=1.0), R("adam", 0.01, clipnorm=1.0)),
    ("global_clipnorm", lambda: RMSprop(0.01, global_clipnorm=1.0),
     R("rmsprop", 0.01, global_clipnorm=1.0)),
    ("exponential_decay", lambda: SGD(S.ExponentialDecay(0.1, 3, 0.5)),
     R("sgd", lambda k: 0.1 * 0.5 ** (k / 3))),
    ("exponential_staircase", lambda: Adam(S.ExponentialDecay(0.01, 3, 0.5, staircase=True)),
     R("adam", lambda k: 0.01 * 0.5 ** (k // 3))),
    ("inverse_time_decay", lambda: SGD(S.InverseTimeDecay(0.1, 2, 0.5), momentum=0.9),
     R("sgd", lambda k: 0.1 / (1 + 0.5 * k / 2), momentum=0.9)),
    ("inverse_time_staircase", lambda: Adagrad(S.InverseTimeDecay(0.1, 2, 0.5, staircase=True)),
     R("adagrad", lambda k: 0.1 / (1 + 0.5 * (k // 2)))),
    ("piecewise_constant", lambda: Adagrad(S.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01])),
     R("adagrad", lambda k: 0.1 if k <= 2 else 0.05 if k <= 5 else 0.01)),
    ("cosine_decay", lambda: Adam(S.CosineDecay(0.01, 8, alpha=0.1)),
     R("adam", lambda k: 0.01 * (0.9 * _cos(k, 8) + 0.1))),
    ("cosine_warmup", lambda: SGD(S.CosineDecay(0.0, 6, warmup_target=0.1, warmup_steps=4)),
     R("sgd", lambda k: 0.1 * k / 4 if k < 4 else 0.1 * _cos(k - 4, 6))),
    ("callable_step_lr", lambda: SGD(lambda step: 0.1 / (1 + step)),
     R("sgd", lambda k: 0.1 / (1 + k))),
    ("callable_no_arg_lr", lambda: RMSprop(lambda: 0.02), R("rmsprop", 0.02)),
    # ---- the optimizers of issue 13
    ("nadam", lambda: Nadam(0.01), R("nadam", 0.01)),
    ("nadam_big_eps", lambda: Nadam(0.01, beta_1=0.7, beta_2=0.9, epsilon=0.5),
     R("nadam", 0.01, b1=0.7, b2=0.9, eps=0.5)),
    ("adamw", lambda: AdamW(0.01), R("adam", 0.01, wd=0.004)),
    ("adamw_amsgrad_strong", lambda: AdamW(0.05, 0.5, amsgrad=True),
     R("adam", 0.05, wd=0.5, amsgrad=True)),
    ("adamax", lambda: Adamax(0.01), R("adamax", 0.01)),
    ("adamax_big_eps", lambda: Adamax(0.01, beta_1=0.5, beta_2=0.7, epsilon=0.3),
     R("adamax", 0.01, b1=0.5, b2=0.7, eps=0.3)),
    ("adadelta", lambda: Adadelta(1.0), R("adadelta", 1.0)),
    ("adadelta_rho_eps", lambda: Adadelta(0.5, rho=0.6, epsilon=1e-3),
     R("adadelta", 0.5, rho=0.6, eps=1e-3)),
    ("ftrl", lambda: Ftrl(0.1), R("ftrl", 0.1)),
    ("ftrl_all_terms", lambda: Ftrl(0.2, learning_rate_power=-0.3, initial_accumulator_value=0.5,
                                    l1_regularization_strength=0.05,
                                    l2_regularization_strength=0.1,
                                    l2_shrinkage_regularization_strength=0.2, beta=0.3),
     R("ftrl", 0.2, power=-0.3, init=0.5, l1=0.05, l2=0.1, shrink=0.2, beta=0.3)),
    ("ftrl_power_zero", lambda: Ftrl(0.1, learning_rate_power=0.0, l1_regularization_strength=0.5),
     R("ftrl", 0.1, power=0.0, l1=0.5)),
    ("lion", lambda: Lion(0.01), R("lion", 0.01)),
    ("lion_betas", lambda: Lion(0.01, beta_1=0.5, beta_2=0.3), R("lion", 0.01, b1=0.5, b2=0.3)),
    # ---- weight_decay on every optimizer, with schedules and clipping
    ("sgd_wd", lambda: SGD(0.1, weight_decay=0.3), R("sgd", 0.1, wd=0.3)),
    ("sgd_nesterov_wd", lambda: SGD(0.05, 0.9, True, weight_decay=0.3),
     R("sgd", 0.05, momentum=0.9, nesterov=True, wd=0.3)),
    ("adagrad_wd", lambda: Adagrad(0.1, weight_decay=0.2), R("adagrad", 0.1, wd=0.2)),
    ("rmsprop_centered_momentum_wd",
     lambda: RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, weight_decay=0.5),
     R("rmsprop", 0.01, rho=0.8, momentum=0.5, centered=True, wd=0.5)),
    ("adam_wd_schedule", lambda: Adam(S.ExponentialDecay(0.05, 3, 0.5), weight_decay=0.4),
     R("adam", lambda k: 0.05 * 0.5 ** (k / 3), wd=0.4)),
    ("nadam_wd_clipnorm", lambda: Nadam(0.01, weight_decay=0.3, clipnorm=1.0),
     R("nadam", 0.01, wd=0.3, clipnorm=1.0)),
    ("adamax_wd", lambda: Adamax(0.01, weight_decay=0.3), R("adamax", 0.01, wd=0.3)),
    ("adadelta_wd", lambda: Adadelta(1.0, weight_decay=0.1), R("adadelta", 1.0, wd=0.1)),
    ("ftrl_wd_global_clipnorm", lambda: Ftrl(0.1, weight_decay=0.5, global_clipnorm=1.0),
     R("ftrl", 0.1, wd=0.5, global_clipnorm=1.0)),
    ("ftrl_power_wd_shrinkage", lambda: Ftrl(0.1, learning_rate_power=-0.7, weight_decay=0.5,
                                             l2_shrinkage_regularization_strength=0.1),
     R("ftrl", 0.1, power=-0.7, wd=0.5, shrink=0.1)),
    ("lion_wd_polynomial", lambda: Lion(S.PolynomialDecay(0.01, 8, 0.001), weight_decay=1.0),
     R("lion", lambda k: 0.009 * (1 - min(k, 8) / 8) + 0.001, wd=1.0)),
    ("adam_wd_restarts", lambda: Adam(S.CosineDecayRestarts(0.01, 3, 2.0, 0.5), weight_decay=0.4),
     R("adam", lambda k: _restarts(k, 0.01, 3, 2.0, 0.5), wd=0.4)),
]
CASE_IDS = [c[0] for c in CASES]
SHAPES = [(3,), (2, 2)]
N_STEPS = 12


def _problem(dtype, none_at=5):
    """Initial weights and 12 steps of gradients for two variables: large gradients for
    the first 4 steps (so every clip mode bites), small ones later (so AMSGrad's vhat
    differs from v); variable 1 has no gradient at step ``none_at``."""
    rng = np.random.default_rng(1234)
    w0s = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    seq = [[(rng.normal(size=s) * (3.0 if k < 4 else 0.3)).astype(dtype) for s in SHAPES]
           for k in range(N_STEPS)]
    if none_at is not None:
        seq[none_at][1] = None
    return w0s, seq


def _run(opt, w0s, seq):
    params = [Parameter(w.copy(), name=f"w{j}") for j, w in enumerate(w0s)]
    for grads in seq:
        opt.apply_gradients(zip(grads, params))
    return params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_float64_reference(case, dtype):
    w0s, seq = _problem(dtype)
    opt = case[1]()
    params, expected = _run(opt, w0s, seq), ref_run(case[2], w0s, seq)
    tol = {"rtol": 1e-11, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}
    for p, e, w0 in zip(params, expected, w0s):
        assert p.data.dtype == dtype
        assert not np.allclose(e, w0)  # the optimizer really moved the weights
        np.testing.assert_allclose(p.data, e, **tol)
    assert opt.iterations == N_STEPS
    state = opt.variables[1:]
    n_global = len(opt._global_specs())   # Nadam's u_product: a float64 scalar
    assert all(s.dtype == dtype for s in state[:len(state) - n_global])
    assert all(s.dtype == np.float64 and s.shape == () for s in state[len(state) - n_global:])


# ----------------------------------------------------------------------------- hand-computed
SQRT3, SQRT7 = math.sqrt(3.0), math.sqrt(7.0)
NADAM_W1 = 1 - 0.04 * (0.2696 / 0.929904 + 2)
ED, ITD, PCD, CD = (schedules.ExponentialDecay, schedules.InverseTimeDecay,
                    schedules.PiecewiseConstantDecay, schedules.CosineDecay)
HAND = [  # (id, factory, gradients of steps 1 and 2, weights after them), from w0 = 1
    # w1 = 1 - 0.1*2 = 0.8;  w2 = 0.8 - 0.1*1 = 0.7
    ("sgd", lambda: SGD(0.1), [2.0, 1.0], [0.8, 0.7]),
    # v1 = -0.1*2 = -0.2, w1 = 0.8;  v2 = 0.9*(-0.2) - 0.1*1 = -0.28, w2 = 0.8 - 0.28 = 0.52
    ("sgd_momentum", lambda: SGD(0.1, momentum=0.9), [2.0, 1.0], [0.8, 0.52]),
    # v1 = -0.2, w1 = 1 + 0.9*(-0.2) - 0.2 = 0.62;  v2 = -0.28, w2 = 0.62 - 0.252 - 0.1 = 0.268
    ("sgd_nesterov", lambda: SGD(0.1, momentum=0.9, nesterov=True), [2.0, 1.0], [0.62, 0.268]),
    # a0 = 0.1, eps = 11.9 makes whole roots: a1 = 4.1, sqrt(4.1 + 11.9) = 4, w1 = 1 - 0.2/4
    # = 0.95;  a2 = 4.1 + 9 = 13.1, sqrt(13.1 + 11.9) = 5, w2 = 0.95 - 0.3/5 = 0.89
    ("adagrad", lambda: Adagrad(0.1, epsilon=11.9), [2.0, 3.0], [0.95, 0.89]),
    # rho = 0.75, eps = 0.44: v1 = 0.25*4 = 1, sqrt(1.44) = 1.2, inc1 = 0.2/1.2 = 1/6, w1 = 5/6;
    # v2 = 0.75 + 0.25 = 1, inc2 = 0.1/1.2 = 1/12, w2 = 5/6 - 1/12 = 3/4
    ("rmsprop", lambda: RMSprop(0.1, rho=0.75, epsilon=0.44), [2.0, 1.0], [5 / 6, 0.75]),
    # as above with m: m1 = 1/6, w1 = 5/6;  m2 = 0.5/6 + 1/12 = 1/6, w2 = 5/6 - 1/6 = 2/3
    ("rmsprop_momentum", lambda: RMSprop(0.1, rho=0.75, momentum=0.5, epsilon=0.44),
     [2.0, 1.0], [5 / 6, 2 / 3]),
    # eps = 0.200625: v1 = 1, mg1 = 0.5, den1 = 1 - 0.25 + eps = 0.950625 = 0.975^2, w1 = 1 -
    # 0.2/0.975 = 31/39;  v2 = 1, mg2 = 0.375 + 0.25 = 0.625, den2 = 1 - 0.390625 + eps = 0.81
    # = 0.9^2, w2 = 31/39 - 0.1/0.9 = 80/117
    ("rmsprop_centered", lambda: RMSprop(0.1, rho=0.75, epsilon=0.200625, centered=True),
     [2.0, 1.0], [31 / 39, 80 / 117]),
    # b1 = 0.5, b2 = 0.75, eps = 0.5: m1 = 1, v1 = 1, alpha1 = 0.1*sqrt(0.25)/0.5 = 0.1, w1 =
    # 1 - 0.1/(1 + 0.5) = 14/15;  g2 = 0: m2 = 0.5, v2 = 0.75, alpha2 = 0.1*sqrt(0.4375)/0.75
    # = sqrt(7)/30, w2 = 14/15 - (sqrt(7)/30)*0.5/(sqrt(3)/2 + 0.5)
    ("adam", lambda: Adam(0.1, beta_1=0.5, beta_2=0.75, epsilon=0.5), [2.0, 0.0],
     [14 / 15, 14 / 15 - SQRT7 / (30 * (SQRT3 + 1))]),
    # amsgrad: vhat2 = max(1, 0.75) = 1, w2 = 14/15 - (sqrt(7)/30)*0.5/(1 + 0.5)
    ("adam_amsgrad", lambda: Adam(0.1, beta_1=0.5, beta_2=0.75, epsilon=0.5, amsgrad=True),
     [2.0, 0.0], [14 / 15, 14 / 15 - SQRT7 / 90]),
    # clipvalue 1 (and clipnorm 1 on a scalar): g1 = 5 -> 1, w1 = 0.9; g2 = -0.5 kept, w2 = 0.95
    ("clipvalue", lambda: SGD(0.1, clipvalue=1.0), [5.0, -0.5], [0.9, 0.95]),
    ("clipnorm", lambda: SGD(0.1, clipnorm=1.0), [5.0, -0.5], [0.9, 0.95]),
    # step k uses schedule(k): lr0 = 0.1, w1 = 0.8; lr1 = 0.1*0.5^(1/3) = 0.0793700526
    ("exponential_decay", lambda: SGD(ED(0.1, 3, 0.5)), [2.0, 1.0], [0.8, 0.7206299474]),
    # lr1 = 0.1/(1 + 0.5*1/2) = 0.08: w2 = 0.72
    ("inverse_time_decay", lambda: SGD(ITD(0.1, 2, 0.5)), [2.0, 1.0], [0.8, 0.72]),
    # lr0 = 0.1 (step 0 <= boundary 0), lr1 = 0.05: w2 = 0.75
    ("piecewise_constant", lambda: SGD(PCD([0], [0.1, 0.05])), [2.0, 1.0], [0.8, 0.75]),
    # lr1 = 0.1*0.5*(1 + cos(pi/2)) = 0.05: w2 = 0.75
    ("cosine_decay", lambda: SGD(CD(0.1, 2)), [2.0, 1.0], [0.8, 0.75]),
    # warmup 0 -> 0.1 over 2 steps: lr0 = 0, lr1 = 0.05: w1 = 1, w2 = 0.95
    ("cosine_warmup", lambda: SGD(CD(0.0, 4, warmup_target=0.1, warmup_steps=2)), [2.0, 1.0],
     [1.0, 0.95]),
    # lr(step) = 0.1/(1 + step): w2 = 0.8 - 0.05 = 0.75;  lr() = 0.1: as plain SGD
    ("callable_step", lambda: SGD(lambda step: 0.1 / (1 + step)), [2.0, 1.0], [0.8, 0.75]),
    ("callable_no_arg", lambda: SGD(lambda: 0.1), [2.0, 1.0], [0.8, 0.7]),
    # ---- issue 13. Nadam, b1 = 0.5: u_t = 0.5*(1 - 0.5*0.96^t): u1 = 0.26, u2 = 0.2696,
    # u3 = 0.278816; U1 = 0.26, U2 = 0.26*0.2696 = 0.070096, U3 = U2*u3. Step 1 (g = 2):
    # m = 1, v = 1; m_hat = u2*1/(1 - U2) + (1 - u1)*2/(1 - U1) = 0.2696/0.929904 + 2,
    # sqrt(v_hat) = sqrt(1/0.25) = 2, w1 = 1 - 0.1*m_hat/(2 + 0.5). Step 2 (g = 0): m = 0.5,
    # v = 0.75, m_hat = u3*0.5/(1 - U3), v_hat = 0.75/(1 - 0.5625) = 12/7
    ("nadam", lambda: Nadam(0.1, beta_1=0.5, beta_2=0.75, epsilon=0.5), [2.0, 0.0],
     [NADAM_W1, NADAM_W1 - 0.1 * (0.278816 * 0.5 / (1 - 0.070096 * 0.278816))
      / (math.sqrt(12 / 7) + 0.5)]),
    # AdamW: w *= 1 - 0.5*0.1 first, then the Adam row's steps: w1 = 0.95 - 1/15 = 53/60,
    # w2 = 0.95*53/60 - sqrt(7)/(30*(sqrt(3) + 1))
    ("adamw", lambda: AdamW(0.1, 0.5, beta_1=0.5, beta_2=0.75, epsilon=0.5), [2.0, 0.0],
     [53 / 60, 0.95 * 53 / 60 - SQRT7 / (30 * (SQRT3 + 1))]),
    # Adamax: m1 = 1, u1 = max(0, 2) = 2, w1 = 1 - 0.1*1/((1 - 0.5)*(2 + 0.5)) = 0.92;
    # m2 = 1, u2 = max(1.5, 1) = 1.5, w2 = 0.92 - 0.1/((1 - 0.25)*(1.5 + 0.5)) = 64/75
    ("adamax", lambda: Adamax(0.1, beta_1=0.5, beta_2=0.75, epsilon=0.5), [2.0, 1.0],
     [0.92, 64 / 75]),
    # Adadelta, eps = 0.5625 = 0.75^2: ag1 = 0.25*4 = 1, d1 = -0.75*2/sqrt(1.5625) = -1.2,
    # ad1 = 0.25*1.44 = 0.36, w1 = 1 - 0.12 = 0.88;  ag2 = 0.75 + 0.25 = 1,
    # d2 = -sqrt(0.36 + 0.5625)/1.25, w2 = 0.88 + 0.1*d2
    ("adadelta", lambda: Adadelta(0.1, rho=0.75, epsilon=0.5625), [2.0, 1.0],
     [0.88, 0.88 - 0.1 * math.sqrt(0.9225) / 1.25]),
    # Ftrl, n0 = 0, lr = 0.5: n1 = 4, z1 = 2 - (2 - 0)/0.5*1 = -2, quadratic = 2/0.5 +
    # 2*0.25 = 4.5, w1 = (clip(-2, -1, 1) + 2)/4.5 = 2/9;  n2 = 6.25, z2 = -2 + 1.5 -
    # (2.5 - 2)/0.5*(2/9) = -13/18, |z2| < l1 = 1 so w2 = 0 (L1 sparsity)
    ("ftrl_l1", lambda: Ftrl(0.5, initial_accumulator_value=0.0, l1_regularization_strength=1.0,
                             l2_regularization_strength=0.25), [2.0, 1.5], [2 / 9, 0.0]),
    # shrinkage 0.5, beta 1: g_s1 = 2 + 2*0.5*1 = 3, z1 = 3 - 4 = -1, l2 + beta/(2*lr) = 1,
    # w1 = 1/(4 + 2) = 1/6;  g_s2 = 1.5 + 1/6, z2 = -1 + 5/3 - (0.5/0.5)/6 = 0.5,
    # w2 = -0.5/(2.5/0.5 + 2) = -1/14
    ("ftrl_shrinkage_beta", lambda: Ftrl(0.5, initial_accumulator_value=0.0,
                                         l2_shrinkage_regularization_strength=0.5, beta=1.0),
     [2.0, 1.5], [1 / 6, -1 / 14]),
    # Lion: c1 = 0.5*2 = 1, w1 = 0.9, m1 = 0.25*2 = 0.5; c2 = 0.25 - 1 < 0, w2 = 1.0
    ("lion", lambda: Lion(0.1, beta_1=0.5, beta_2=0.75), [2.0, -2.0], [0.9, 1.0]),
    # sign(0) = 0: a zero gradient from m = 0 leaves w alone
    ("lion_zero", lambda: Lion(0.1, beta_1=0.5, beta_2=0.75), [0.0, 2.0], [1.0, 0.9]),
    # ---- weight_decay = wd: w -= w*wd*lr before each update
    # w1 = 0.95 - 0.2 = 0.75;  w2 = 0.75*0.95 - 0.1 = 0.6125
    ("sgd_wd", lambda: SGD(0.1, weight_decay=0.5), [2.0, 1.0], [0.75, 0.6125]),
    # the decay uses the step's scheduled lr: lr0 = 0.1: w1 = 0.9 - 0.2 = 0.7;
    # lr1 = 0.05: w2 = 0.7*0.95 - 0.05 = 0.615
    ("sgd_wd_schedule", lambda: SGD(ED(0.1, 1, 0.5), weight_decay=1.0), [2.0, 1.0], [0.7, 0.615]),
    # v1 = -0.2, w1 = 0.95 - 0.2 = 0.75;  v2 = -0.28, w2 = 0.75*0.95 - 0.28 = 0.4325
    ("sgd_momentum_wd", lambda: SGD(0.1, momentum=0.9, weight_decay=0.5), [2.0, 1.0],
     [0.75, 0.4325]),
    # the rmsprop row with w *= 0.9 first: w1 = 0.9 - 1/6 = 11/15, w2 = 0.9*11/15 - 1/12
    ("rmsprop_wd", lambda: RMSprop(0.1, rho=0.75, epsilon=0.44, weight_decay=1.0), [2.0, 1.0],
     [11 / 15, 0.9 * 11 / 15 - 1 / 12]),
    # the adagrad row with w *= 0.9 first: w1 = 0.9 - 0.05 = 0.85, w2 = 0.765 - 0.06 = 0.705
    ("adagrad_wd", lambda: Adagrad(0.1, epsilon=11.9, weight_decay=1.0), [2.0, 3.0],
     [0.85, 0.705]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", HAND, ids=[c[0] for c in HAND])
def test_first_two_steps_hand_computed(case, dtype):
    _, make, grads, expected = case
    opt = make()
    w = Parameter(np.array([1.0], dtype=dtype))
    tol = 1e-12 if dtype == np.float64 else 3e-7
    for g, e in zip(grads, expected):
        opt.apply_gradients([(np.array([g], dtype=dtype), w)])
        assert w.data.dtype == dtype
        np.testing.assert_allclose(w.data, [e], rtol=tol, atol=tol)


def _one_step(opt, grads, dtype=np.float64):
    params = [Parameter(np.zeros(np.shape(g), dtype=dtype)) for g in grads]
    arrays = [np.array(g, dtype=dtype) for g in grads]
    opt.apply_gradients(zip(arrays, params))
    for a, g in zip(arrays, grads):    # clipping works on copies: the caller's grads intact
        np.testing.assert_array_equal(a, np.array(g, dtype=dtype))
    return [-p.data for p in params]   # lr = 1 from 0: the weights are minus the clipped g


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lecture_clip_numbers(dtype):
    tol = {"rtol": 1e-6, "atol": 1e-9}
    (g,) = _one_step(SGD(1.0, clipvalue=1.0), [[0.9, 100.0]], dtype)
    np.testing.assert_allclose(g, [0.9, 1.0], **tol)
    # ||[0.9, 100]|| = sqrt(10000.81) = 100.00405; 0.9/100.00405 = 0.0089996355,
    # 100/100.00405 = 0.9999595
    (g,) = _one_step(SGD(1.0, clipnorm=1.0), [[0.9, 100.0]], dtype)
    np.testing.assert_allclose(g, [0.0089996354, 0.9999594896], **tol)
    # clipnorm is per variable: [3, 4] (norm 5) scales by 1/5 on its own
    g1, g2 = _one_step(SGD(1.0, clipnorm=1.0), [[0.9, 100.0], [3.0, -4.0]], dtype)
    np.testing.assert_allclose(g2, [0.6, -0.8], **tol)
    # global: N = sqrt(0.81 + 10000 + 9 + 16) = sqrt(10025.81) = 100.128967, scale = 1/N
    # = 0.00998712: [0.0089884, 0.998712], [0.0299614, -0.0399485] (KERAS_SEMANTICS.md)
    g1, g2 = _one_step(SGD(1.0, global_clipnorm=1.0), [[0.9, 100.0], [3.0, -4.0]], dtype)
    np.testing.assert_allclose(g1, [0.0089884, 0.998712], rtol=1e-5)
    np.testing.assert_allclose(g2, [0.0299614, -0.0399485], rtol=1e-5)
    # under the threshold nothing changes (norm 0.5 < 1)
    g1, g2 = _one_step(SGD(1.0, global_clipnorm=1.0), [[0.3, 0.4], [0.0, 0.0]], dtype)
    np.testing.assert_allclose(g1, [0.3, 0.4], rtol=1e-7)


# ----------------------------------------------------------------------------- state
STATEFUL = ["sgd_nesterov", "adagrad_init_eps", "rmsprop_centered_momentum", "adam_amsgrad",
            "exponential_staircase", "cosine_warmup", "global_clipnorm", "nadam_wd_clipnorm",
            "nadam_big_eps", "adamw_amsgrad_strong", "adamax_big_eps", "adadelta_wd",
            "ftrl_all_terms", "lion_wd_polynomial", "adam_wd_restarts", "sgd_nesterov_wd",
            "rmsprop_centered_momentum_wd"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case_id", STATEFUL)
def test_save_restore_mid_run_continues_the_same_trajectory(case_id, dtype):
    make = {c[0]: c[1] for c in CASES}[case_id]
    w0s, seq = _problem(dtype, none_at=2)
    full = _run(make(), w0s, seq)
    first = make()
    params = _run(first, w0s, seq[:5])
    saved_weights = [p.data.copy() for p in params]
    saved_state = first.variables
    saved_config = json.loads(json.dumps(mg.optimizers.serialize(first)))
    for grads in seq[5:7]:   # keep training the original: the snapshot must not move
        first.apply_gradients(zip(grads, params))

    restored = mg.optimizers.deserialize(saved_config)
    assert type(restored) is type(first)
    new_params = [Parameter(w, name=f"w{j}") for j, w in enumerate(saved_weights)]
    restored.build(new_params)
    restored.set_state(saved_state)
    assert restored.iterations == 5
    for grads in seq[5:]:
        restored.apply_gradients(zip(grads, new_params))
    for a, b in zip(full, new_params):
        np.testing.assert_array_equal(a.data, b.data)


def test_variables_layout_and_set_state_checks():
    opt = Adam(amsgrad=True)
    a, b = Parameter(np.ones(3), name="a"), Parameter(np.ones((2, 2)), name="b")
    opt.apply_gradients([(np.full(3, 0.5), a), (np.full((2, 2), 2.0), b)])
    v = opt.variables
    # [iterations, a.momentum, a.velocity, a.velocity_hat, b.momentum, ...]
    assert [x.shape for x in v] == [(), (3,), (3,), (3,), (2, 2), (2, 2), (2, 2)]
    assert v[0].dtype == np.int64 and int(v[0]) == 1
    # m = (1-b1)*g, v = (1-b2)*g^2, vhat = v
    np.testing.assert_allclose([v[1][0], v[2][0], v[3][0], v[4][0, 0]], [0.05, 2.5e-4, 2.5e-4, 0.2])
    v[1][...] = 99.0                                       # a copy: the optimizer is untouched
    assert opt.variables[1][0] == pytest.approx(0.05)
    with pytest.raises(ValueError, match=r"Adam.*got 6 arrays, expected 7"):
        opt.set_state(v[:-1])
    bad = list(v)
    bad[5] = np.zeros(4)
    with pytest.raises(ValueError, match=r"Adam.*array 5.*'velocity'.*\(4,\).*\(2, 2\)"):
        opt.set_state(bad)
    assert opt.variables[1][0] == pytest.approx(0.05)      # nothing written on error
    with pytest.raises(ValueError, match="iterations"):
        opt.set_state([np.array(1.5)] + v[1:])
    fresh = Adam(amsgrad=True)
    with pytest.raises(ValueError, match="build"):
        fresh.set_state(v)


def test_slots_follow_variables_not_ids_subsets_and_new_variables():
    a, b = Parameter(np.zeros(2), name="a"), Parameter(np.zeros(2), name="b")
    opt = SGD(1.0, momentum=0.5)
    opt.build([a, b])
    opt.apply_gradients([(np.ones(2), b)])           # only b: a's momentum stays 0
    np.testing.assert_array_equal(opt.variables[1:], [[0.0, 0.0], [-1.0, -1.0]])
    opt.apply_gradients([(np.ones(2), b), (np.ones(2), a)])   # reordered
    # b: v = 0.5*(-1) - 1 = -1.5, w = -1 - 1.5;  a: first step, v = -1
    np.testing.assert_array_equal([b.data, a.data], [[-2.5, -2.5], [-1.0, -1.0]])
    c = Parameter(np.zeros(3), name="c")             # never seen: appended after a and b
    opt.apply_gradients([(np.ones(3), c)])
    assert [x.shape for x in opt.variables] == [(), (2,), (2,), (3,)]
    np.testing.assert_array_equal(c.data, [-1.0] * 3)


def test_none_gradients_are_skipped_and_all_none_is_an_error():
    a, b = Parameter(np.ones(2), name="a"), Parameter(np.ones(2), name="b")
    b.constraint = lambda w: w * 0.0                 # not applied: b got no gradient
    opt = SGD(0.5)
    opt.apply_gradients([(None, a), (np.ones(2), b)])
    np.testing.assert_array_equal([a.data, b.data], [[1.0, 1.0], [0.0, 0.0]])
    a.constraint = lambda w: w * 0.0
    opt.apply_gradients([(np.ones(2), a), (None, b)])
    np.testing.assert_array_equal([a.data, b.data], [[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="SGD.*no gradient"):
        opt.apply_gradients([(None, a), (None, b)])
    assert opt.iterations == 2
    assert opt.apply_gradients([]) == 2              # nothing to do: no step counted


def test_step_uses_grad_and_gradients_may_be_tensors():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()                          # grad = 2x = [2, 4]
    y = Parameter(np.array([1.0]), name="y")          # no .grad: skipped
    opt = SGD(0.25)
    opt.step([x, y])
    np.testing.assert_allclose(x.data, [0.5, 1.0])
    np.testing.assert_array_equal(y.data, [1.0])
    opt.step()                                        # the built variables, same grads
    np.testing.assert_allclose(x.data, [0.0, 0.0])
    opt.apply_gradients([(Tensor(np.array([4.0, 4.0])), x)])
    np.testing.assert_allclose(x.data, [-1.0, -1.0])
    with pytest.raises(ValueError, match="step"):
        SGD().step()


def test_constraint_applied_in_place_after_the_update_even_when_zero():
    # the constraint sees the updated value: 0.2 - 1*(-1) = 1.2 -> clipped to 0.5
    # (clipping first would give 0.2 + 1 = 1.2)
    w = Parameter(np.array([0.2, 0.4]), name="w", constraint=lambda a: np.clip(a, 0.0, 0.5))
    opt = SGD(1.0, momentum=0.5)
    opt.build([w])                 # build moves w into the optimizer's flat buffer (_flat)
    data = w.data
    opt.apply_gradients([(np.array([-1.0, 1.0]), w)])
    np.testing.assert_array_equal(w.data, [0.5, 0.0])
    assert w.data is data                             # in place
    np.testing.assert_array_equal(opt.variables[1], [1.0, -1.0])   # momentum unconstrained
    z = Parameter(np.array([0.7, -0.1]), constraint=lambda a: Tensor(np.clip(a, 0.0, 0.5)))
    SGD(0.0).apply_gradients([(np.array([3.0, 3.0]), z)])      # zero update, still applied
    np.testing.assert_array_equal(z.data, [0.5, 0.0])
    bad = Parameter(np.ones(2), name="bad", constraint=lambda a: a[:1])
    with pytest.raises(ValueError, match="constraint.*'bad'.*\\(1,\\).*\\(2,\\)"):
        SGD().apply_gradients([(np.ones(2), bad)])


def test_non_contiguous_variable_is_updated_in_place():
    base = np.arange(6.0).reshape(2, 3)
    w = Parameter(base.T)                             # a transposed (F-ordered) view
    assert not w.data.flags.c_contiguous
    g = np.array([[1.0, 3.0], [1.0, 1.0], [1.0, 1.0]])
    Adagrad(1.0, epsilon=0.0, initial_accumulator_value=0.0).apply_gradients([(g, w)])
    # a = g^2, w -= g/|g| = 1 everywhere
    np.testing.assert_allclose(base, np.arange(6.0).reshape(2, 3) - 1.0)


@pytest.mark.parametrize("clip", [{}, {"clipnorm": 1.0}, {"clipvalue": 1.0},
                                  {"global_clipnorm": 1.0}])
def test_scalar_and_mixed_dtype_variables(clip):
    # a 0-d float32 variable and a float64 vector in one optimizer: each keeps its dtype
    s32, v64 = Parameter(np.array(1.0, np.float32)), Parameter(np.array([1.0, 2.0]))
    opt = Adam(0.1, **clip)
    for _ in range(3):
        opt.apply_gradients([(np.array(0.5, np.float32), s32), (np.array([0.5, -0.5]), v64)])
    assert (s32.data.shape, s32.data.dtype, v64.data.dtype) == ((), np.float32, np.float64)
    assert [v.dtype for v in opt.variables[1:]] == [np.float32] * 2 + [np.float64] * 2
    # no clip bites (norms 0.5, 0.707, global 0.866), and for a constant g Adam's
    # m_hat/sqrt(v_hat) = sign(g): each entry moves by lr per step
    np.testing.assert_allclose(s32.data, 1.0 - 0.3, rtol=1e-5)
    np.testing.assert_allclose(v64.data, [0.7, 2.3], rtol=1e-5)


def test_float_learning_rate_is_settable_and_schedules_are_not():
    w = Parameter(np.array([1.0]))
    opt = SGD(0.1)
    opt.apply_gradients([(np.array([1.0]), w)])
    opt.learning_rate = 0.5                          # as LearningRateScheduler does
    opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.data, [1.0 - 0.1 - 0.5])
    assert opt.learning_rate == opt.get_config()["learning_rate"] == 0.5
    with pytest.raises(ValueError, match="SGD.*learning_rate"):
        opt.learning_rate = -1.0
    sched = SGD(schedules.ExponentialDecay(0.1, 1, 0.5))
    sched.apply_gradients([(np.array([1.0]), Parameter(np.array([1.0])))])
    assert sched.learning_rate == pytest.approx(0.05)  # schedule(iterations)
    with pytest.raises(TypeError, match="schedule"):
        sched.learning_rate = 0.01
    sched.learning_rate = schedules.ExponentialDecay(1.0, 1, 0.5)  # a schedule may replace it
    assert sched.learning_rate == pytest.approx(0.5)


def test_lecture_listings_lr_alias_and_keras_defaults():
    k = mg                                            # import minigrad as keras
    nag = k.optimizers.SGD(lr=0.001, momentum=0.9, nesterov=True)
    assert (nag.learning_rate, nag.momentum, nag.nesterov) == (0.001, 0.9, True)
    assert k.optimizers.Adagrad(lr=0.001).learning_rate == 0.001
    rms = k.optimizers.RMSprop(lr=0.001, rho=0.9)
    adam = k.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999)
    assert (rms.learning_rate, rms.rho, adam.learning_rate, adam.beta_1) == (0.001, 0.9) * 2
    assert k.optimizers.SGD(clipvalue=1.0).clipvalue == 1.0
    with pytest.raises(ValueError, match="SGD.*lr"):
        SGD(learning_rate=0.5, lr=0.1)
    defaults = {  # Keras 3's
        SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
        Adagrad: {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
        RMSprop: {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                  "centered": False},
        Adam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
               "amsgrad": False},
        AdamW: {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
                "epsilon": 1e-7, "amsgrad": False},
        Nadam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        Adamax: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        Adadelta: {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
        Ftrl: {"learning_rate": 0.001, "learning_rate_power": -0.5,
               "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
               "l2_regularization_strength": 0.0, "l2_shrinkage_regularization_strength": 0.0,
               "beta": 0.0},
        Lion: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}}
    for cls, expected in defaults.items():
        assert cls().get_config() == {"name": cls.__name__.lower(), "weight_decay": None,
                                      "clipnorm": None, "clipvalue": None,
                                      "global_clipnorm": None, **expected}
    # Keras's positional order: AdamW(learning_rate, weight_decay, beta_1, ...)
    assert AdamW(0.01, 0.1, 0.8).get_config()["weight_decay"] == 0.1
    assert AdamW(0.01, 0.1, 0.8).beta_1 == 0.8


def test_get_by_name_class_instance_and_config():
    names = ["sgd", "adagrad", "rmsprop", "adam", "Adam", "RMSprop", Adam, "adamw", "nadam",
             "adamax", "adadelta", "ftrl", "lion", "AdamW", "Nadam", Lion]
    got = [type(mg.optimizers.get(n)) for n in names]
    assert got == [SGD, Adagrad, RMSprop, Adam, Adam, RMSprop, Adam, AdamW, Nadam, Adamax,
                   Adadelta, Ftrl, Lion, AdamW, Nadam, Lion]
    inst = RMSprop(0.5)
    assert mg.optimizers.get(inst) is inst
    cfg = mg.optimizers.serialize(SGD(0.3, momentum=0.2))
    assert cfg["class_name"] == "SGD" and mg.optimizers.get(cfg).momentum == 0.2
    with pytest.raises(ValueError, match="Unknown optimizer 'adamx'; valid names") as err:
        mg.optimizers.get("adamx")
    assert all(name in str(err.value) for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw",
                                                   "nadam", "adamax", "adadelta", "ftrl", "lion"))


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("case", [c for c in CASES if "callable" not in c[0]],
                         ids=[c[0] for c in CASES if "callable" not in c[0]])
def test_config_round_trip(case):
    opt = case[1]()
    cfg = json.loads(json.dumps(opt.get_config()))    # plain JSON
    again = type(opt).from_config(cfg)
    assert again.get_config() == opt.get_config()
    assert mg.optimizers.deserialize(mg.optimizers.serialize(opt)).get_config() == cfg
    assert Optimizer.from_config(mg.optimizers.serialize(opt)).get_config() == cfg


def halving(step):
    return 0.1 * 0.5 ** step


def test_callable_learning_rate_config():
    opt = SGD(halving)
    cfg = opt.get_config()
    assert cfg["learning_rate"] == "halving"
    with pytest.raises(ValueError, match="halving.*custom_objects"):
        SGD.from_config(cfg)
    again = SGD.from_config(cfg, custom_objects={"halving": halving})
    w = Parameter(np.array([1.0]))
    for _ in range(2):
        again.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_allclose(w.data, [1.0 - 0.1 - 0.05])
    with pytest.raises(ValueError, match="SGD.*cannot be saved"):
        SGD(lambda step: 0.1).get_config()


class MyDecay(schedules.ExponentialDecay):
    """A user schedule class: not registered, so loading needs custom_objects."""


def test_custom_schedule_class_round_trip():
    cfg = mg.optimizers.serialize(Adam(MyDecay(0.4, 1, 0.5)))
    assert cfg["config"]["learning_rate"]["class_name"] == "MyDecay"
    with pytest.raises(ValueError, match="MyDecay"):
        mg.optimizers.deserialize(cfg)
    opt = mg.optimizers.deserialize(cfg, custom_objects={"MyDecay": MyDecay})
    assert type(opt._lr) is MyDecay and opt.learning_rate == 0.4
    with pytest.raises(TypeError):
        opt.learning_rate = 0.1


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, match", [
    (lambda: RMSprop("0.1"), r"RMSprop.*learning_rate.*real number.*'0.1'"),
    (lambda: SGD(momentum=True), r"SGD.*momentum.*real number.*True"),
    (lambda: SGD(-0.1), r"SGD.*learning_rate.*\[0.0, inf\).*-0\.1"),
    (lambda: Adam(float("nan")), r"Adam.*learning_rate.*finite.*nan"),
    (lambda: SGD(momentum=-0.1), r"SGD.*momentum.*\[0.0, 1.0\].*-0\.1"),
    (lambda: SGD(momentum=1.5), r"SGD.*momentum.*1\.5"), (lambda: SGD(lr=-1), r"SGD.*rate.*-1"),
    (lambda: RMSprop(rho=1.1), r"RMSprop.*rho.*1\.1"),
    (lambda: RMSprop(momentum=-1), r"RMSprop.*momentum"), (lambda: Adam(epsilon=-1), r"Adam.*eps"),
    (lambda: RMSprop(epsilon=-1e-7), r"RMSprop.*epsilon.*\[0.0, inf\)"),
    (lambda: Adam(beta_1=1.0), r"Adam.*beta_1.*\[0.0, 1.0\).*1\.0"),
    (lambda: Adam(beta_2=-0.5), r"Adam.*beta_2.*-0\.5"),
    (lambda: Adagrad(initial_accumulator_value=-0.1), r"Adagrad.*initial_accumulator_value"),
    (lambda: Adagrad(epsilon=float("nan")), r"Adagrad.*epsilon.*finite"),
    (lambda: SGD(clipnorm=1.0, clipvalue=1.0), r"SGD.*at most one.*clipnorm=1.0.*clipvalue=1.0"),
    (lambda: Adam(clipvalue=0.5, global_clipnorm=2.0), r"Adam.*at most one.*global_clipnorm"),
    (lambda: Adam(clipnorm=0.0), r"Adam.*clipnorm.*\(0.0, inf\)"),
    (lambda: SGD(nesterov="yes"), r"SGD.*nesterov.*True or False.*'yes'"),
    (lambda: Adam(amsgrad=2), r"Adam.*amsgrad.*True or False.*2"),
    (lambda: RMSprop(centered=None), r"RMSprop.*centered.*True or False"),
    # ---- weight decay and the optimizers of issue 13
    (lambda: SGD(weight_decay=-0.1), r"SGD.*weight_decay.*\[0.0, inf\).*-0\.1"),
    (lambda: Adam(weight_decay="0.1"), r"Adam.*weight_decay.*real number.*'0.1'"),
    (lambda: AdamW(weight_decay=None), r"AdamW.*weight_decay.*None.*Adam"),
    (lambda: AdamW(weight_decay=float("inf")), r"AdamW.*weight_decay.*finite"),
    (lambda: Nadam(beta_1=1.0), r"Nadam.*beta_1.*\[0.0, 1.0\).*1\.0"),
    (lambda: Nadam(epsilon=-1.0), r"Nadam.*epsilon.*-1\.0"),
    (lambda: Adamax(beta_2=-0.1), r"Adamax.*beta_2.*-0\.1"),
    (lambda: Adamax(beta_1="a"), r"Adamax.*beta_1.*real number"),
    (lambda: Adadelta(rho=1.5), r"Adadelta.*rho.*\[0.0, 1.0\].*1\.5"),
    (lambda: Adadelta(epsilon=-1e-7), r"Adadelta.*epsilon"),
    (lambda: Ftrl(learning_rate_power=0.5), r"Ftrl.*learning_rate_power.*\(-inf, 0.0\].*0\.5"),
    (lambda: Ftrl(initial_accumulator_value=-0.1), r"Ftrl.*initial_accumulator_value.*-0\.1"),
    (lambda: Ftrl(l1_regularization_strength=-1), r"Ftrl.*l1_regularization_strength"),
    (lambda: Ftrl(l2_regularization_strength=-1), r"Ftrl.*l2_regularization_strength"),
    (lambda: Ftrl(l2_shrinkage_regularization_strength=-1),
     r"Ftrl.*l2_shrinkage_regularization_strength"),
    (lambda: Ftrl(beta=-0.5), r"Ftrl.*beta.*-0\.5"),
    (lambda: Ftrl(0.0), r"Ftrl.*learning_rate.*\(0.0, inf\).*0\.0"),
    (lambda: Lion(beta_1=0.0), r"Lion.*beta_1.*\(0.0, 1.0\].*0\.0"),
    (lambda: Lion(beta_2=1.5), r"Lion.*beta_2.*1\.5"),
])
def test_bad_hyperparameters(make, match):
    # a non-number (or non-bool flag) is a TypeError, a value out of range a ValueError
    typed = "real number" in match or "True or False" in match
    with pytest.raises(TypeError if typed else ValueError, match=match):
        make()


def test_bad_gradients_and_variables_leave_everything_untouched():
    a = Parameter(np.ones(3, np.float32), name="kernel")
    b = Parameter(np.ones(2, np.float32), name="bias")
    opt = Adam(0.1)
    good = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"Adam.*#1 \('bias'\).*\(3,\).*shape \(2,\)"):
        opt.apply_gradients([(good, a), (np.ones(3, np.float32), b)])
    with pytest.raises(ValueError, match=r"Adam.*'kernel'.*float64.*float32"):
        opt.apply_gradients([(np.ones(3), a)])
    with pytest.raises(TypeError, match=r"Adam.*#0.*list.*ndarray or a Tensor"):
        opt.apply_gradients([([1.0, 1.0, 1.0], a)])
    np.testing.assert_array_equal(a.data, 1.0)       # nothing moved
    assert opt.iterations == 0
    with pytest.raises(TypeError, match=r"Adam.*variable #1 is a ndarray.*requires grad"):
        opt.apply_gradients([(good, a), (good, np.ones(3))])
    frozen = Tensor(np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"Adam.*variable #0.*requires_grad=False"):
        opt.apply_gradients([(good, frozen)])
    with pytest.raises(TypeError, match=r"SGD.*variable #0"):
        SGD().build([Parameter(np.ones(2), trainable=False)])
    a.data = np.ones(4, np.float32)                   # replaced after the slots were built
    with pytest.raises(ValueError, match=r"Adam.*'kernel'.*\(4,\).*built for shape \(3,\)"):
        opt.apply_gradients([(np.ones(4, np.float32), a)])


def test_ftrl_needs_a_positive_learning_rate_at_every_step():
    opt = Ftrl(lambda step: 0.1 - 0.1 * step)          # 0.1, then 0.0: Ftrl divides by it
    w = Parameter(np.ones(2))
    opt.apply_gradients([(np.ones(2), w)])
    before = w.data.copy()
    with pytest.raises(ValueError, match=r"Ftrl.*gave 0\.0 at step 1.*> 0"):
        opt.apply_gradients([(np.ones(2), w)])
    np.testing.assert_array_equal(w.data, before)
    with pytest.raises(ValueError, match=r"Ftrl.*learning_rate.*\(0.0, inf\)"):
        Ftrl(0.1).learning_rate = 0.0


def test_schedule_giving_a_bad_learning_rate_is_reported_at_its_step():
    opt = SGD(lambda step: 0.1 - 0.1 * step)          # 0.1, 0.0, then negative
    w = Parameter(np.zeros(1))
    opt.apply_gradients([(np.ones(1), w)])
    opt.apply_gradients([(np.ones(1), w)])
    with pytest.raises(ValueError, match=r"SGD.*-0\.1.*step 2"):
        opt.apply_gradients([(np.ones(1), w)])
    assert opt.iterations == 2


# ----------------------------------------------------------------------------- weight decay
def test_weight_decay_exclusions_by_variable_and_by_name():
    kernel = Parameter(np.ones(2), name="dense/kernel")
    bias = Parameter(np.ones(2), name="dense/bias")
    gamma = Parameter(np.ones(2), name="norm/gamma")
    other = Parameter(np.ones(2), name="other")
    opt = SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[gamma], var_names=["bias", "^oth"])
    opt.apply_gradients([(np.ones(2), v) for v in (kernel, bias, gamma, other)])
    np.testing.assert_allclose(kernel.data, 0.95 - 0.1)   # decayed: w*(1 - 0.5*0.1) - lr*g
    for v in (bias, gamma, other):                        # excluded: w - lr*g only
        np.testing.assert_allclose(v.data, 0.9)
    late = Parameter(np.ones(2), name="late_bias")        # appended later: pattern applies
    opt.apply_gradients([(np.ones(2), late)])
    np.testing.assert_allclose(late.data, 0.9)
    # a later call replaces the exclusions for the built variables too (as Keras, whose
    # "before build" check never fires): now only the kernel is excluded
    opt.exclude_from_weight_decay(var_names=["kernel"])
    before = [v.data.copy() for v in (kernel, bias)]
    opt.apply_gradients([(np.ones(2), kernel), (np.ones(2), bias)])
    np.testing.assert_allclose(kernel.data, before[0] - 0.1)
    np.testing.assert_allclose(bias.data, before[1] * 0.95 - 0.1)
    with pytest.raises(TypeError, match=r"var_names\[0\] must be a string, got 3"):
        SGD(weight_decay=0.1).exclude_from_weight_decay(var_names=[3])


def test_weight_decay_skips_variables_without_gradient_and_matches_the_reference():
    w0s, seq = _problem(np.float64, none_at=3)
    opt = Adam(0.05, weight_decay=0.4)
    opt.exclude_from_weight_decay(var_names=["w1"])
    params = _run(opt, w0s, seq)
    expected = ref_run(R("adam", 0.05, wd=0.4, no_decay=(1,)), w0s, seq)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.data, e, rtol=1e-11, atol=1e-12)
    # a zero learning rate decays nothing (w * wd * 0)
    w = Parameter(np.array([2.0]))
    SGD(0.0, weight_decay=0.5).apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_array_equal(w.data, [2.0])


def test_weight_decay_with_mixed_dtypes_and_exclusions_in_one_step():
    # the per-step scalars are cached per (dtype, decayed): each variable gets its own
    rng = np.random.default_rng(7)
    w0s = [rng.normal(size=3).astype(np.float32), rng.normal(size=3).astype(np.float32),
           rng.normal(size=(2, 2))]
    names = ["kernel", "bias", "kernel64"]
    seq = [[rng.normal(size=w.shape).astype(w.dtype) for w in w0s] for _ in range(4)]
    opt = Nadam(0.05, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    params = [Parameter(w.copy(), name=n) for w, n in zip(w0s, names)]
    for grads in seq:
        opt.apply_gradients(zip(grads, params))
    expected = ref_run(R("nadam", 0.05, wd=0.5, no_decay=(1,)), w0s, seq)
    for p, e in zip(params, expected):
        tol = 1e-12 if p.data.dtype == np.float64 else 2e-6
        np.testing.assert_allclose(p.data, e, rtol=tol, atol=tol)
    assert [p.data.dtype for p in params] == [np.float32, np.float32, np.float64]


def test_lion_sign_of_zero_and_nan():
    w = Parameter(np.array([1.0, 1.0, 1.0]))
    Lion(0.1).apply_gradients([(np.array([0.0, np.nan, -3.0]), w)])
    # c = 0.1*g: sign 0 leaves w, NaN propagates (torch.sign), negative adds lr
    np.testing.assert_array_equal(w.data, [1.0, np.nan, 1.1])


def test_weight_decay_none_leaves_every_kernel_bit_identical():
    # weight_decay=0.0 multiplies by (1 - 0): the kernels skip the decay when wd*lr == 0, so
    # an inf weight stays inf instead of becoming inf - inf*0 = NaN
    for make in (lambda wd: SGD(0.1, momentum=0.5, weight_decay=wd),
                 lambda wd: Nadam(0.1, weight_decay=wd), lambda wd: Lion(0.1, weight_decay=wd)):
        a, b = Parameter(np.array([np.inf, 1.0])), Parameter(np.array([np.inf, 1.0]))
        opt_a, opt_b = make(None), make(0.0)
        for g in ([0.5, -0.3], [0.2, 0.1]):
            opt_a.apply_gradients([(np.array(g), a)])
            opt_b.apply_gradients([(np.array(g), b)])
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data[0] == np.inf


# ----------------------------------------------------------------------------- Nadam state
def test_nadam_u_product_is_saved_and_restored_as_a_variable():
    opt = Nadam(0.01)
    assert [v.shape for v in opt.variables] == [()]      # unbuilt: iterations only
    a = Parameter(np.ones((2, 2), np.float32), name="a")
    for _ in range(3):
        opt.apply_gradients([(np.full((2, 2), 0.5, np.float32), a)])
    state = opt.variables
    # [iterations, a.momentum, a.velocity, u_product]
    assert [v.shape for v in state] == [(), (2, 2), (2, 2), ()]
    u = [0.9 * (1 - 0.5 * 0.96 ** t) for t in (1, 2, 3)]
    assert float(state[-1]) == pytest.approx(u[0] * u[1] * u[2], rel=1e-15)
    bad = list(state)
    bad[-1] = np.zeros(1)
    with pytest.raises(ValueError, match=r"Nadam.set_state: array 3 \(optimizer state "
                                         r"'u_product'\) has shape \(1,\), expected \(\)"):
        opt.set_state(bad)
    with pytest.raises(ValueError, match=r"Nadam.*got 3 arrays, expected 4"):
        opt.set_state(state[:3])
    fresh = Nadam(0.01)
    fresh.build([a])
    assert float(fresh.variables[-1]) == 1.0
    fresh.set_state(state)
    assert float(fresh.variables[-1]) == float(state[-1]) and fresh.iterations == 3
    # a restored u_product, not a recomputed one, drives the next step
    twist = list(state)
    twist[-1] = np.array(0.5)
    fresh.set_state(twist)
    b = Parameter(a.data.copy())
    opt.apply_gradients([(np.full((2, 2), 0.5, np.float32), a)])
    fresh2 = Nadam(0.01)
    fresh2.build([b])
    fresh2.set_state(twist)
    fresh2.apply_gradients([(np.full((2, 2), 0.5, np.float32), b)])
    assert float(fresh2.variables[-1]) == pytest.approx(0.5 * 0.9 * (1 - 0.5 * 0.96 ** 4))
    assert not np.array_equal(a.data, b.data)


# ---- optional oracle: Keras 3 on the torch backend -------------------------------------------
# Keras runs in a child process with KERAS_BACKEND=torch: neither the caller's environment nor
# a keras imported earlier decides the backend, and nothing leaks into later tests. It runs the
# 12 steps of _problem (float32, no None gradient) for each configuration below and returns
# the final weights and the default configs.
_KERAS_CHILD = """
assert keras.backend.backend() == "torch", keras.backend.backend()
data = np.load(sys.argv[1])
runs = json.loads(sys.argv[2])
n_steps, n_vars = int(data["n_steps"]), int(data["n_vars"])
out = {}
for key, (name, cfg, exclude) in runs.items():
    if isinstance(cfg.get("learning_rate"), dict):
        cfg["learning_rate"] = keras.optimizers.schedules.deserialize(cfg["learning_rate"])
    opt = getattr(keras.optimizers, name)(**cfg)
    if exclude:
        opt.exclude_from_weight_decay(var_names=exclude)
    ws = [keras.Variable(data[f"w{j}"], name=f"w{j}") for j in range(n_vars)]
    for k in range(n_steps):
        opt.apply_gradients([(keras.ops.convert_to_tensor(data[f"g{k}_{j}"]), ws[j])
                             for j in range(n_vars)])
    out[key] = [np.asarray(keras.ops.convert_to_numpy(w)).tolist() for w in ws]
for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax", "Adadelta",
             "Ftrl", "Lion"):
    out["config/" + name] = getattr(keras.optimizers, name)().get_config()
print(json.dumps(out))
"""
KERAS_RUNS = {  # case id in CASES: (Keras class, Keras config, var_names excluded from decay)
    "nadam": ("Nadam", {"learning_rate": 0.01}, None),
    "nadam_big_eps": ("Nadam", {"learning_rate": 0.01, "beta_1": 0.7, "beta_2": 0.9,
                                "epsilon": 0.5}, None),
    "adamw": ("AdamW", {"learning_rate": 0.01}, None),
    "adamw_amsgrad_strong": ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.5,
                                       "amsgrad": True}, None),
    "adamax_big_eps": ("Adamax", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.7,
                                  "epsilon": 0.3}, None),
    "adadelta_rho_eps": ("Adadelta", {"learning_rate": 0.5, "rho": 0.6, "epsilon": 1e-3}, None),
    "ftrl_all_terms": ("Ftrl", {"learning_rate": 0.2, "learning_rate_power": -0.3,
                                "initial_accumulator_value": 0.5,
                                "l1_regularization_strength": 0.05,
                                "l2_regularization_strength": 0.1,
                                "l2_shrinkage_regularization_strength": 0.2, "beta": 0.3}, None),
    "ftrl": ("Ftrl", {"learning_rate": 0.1}, None),
    "lion_betas": ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.3}, None),
    "sgd_nesterov_wd": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True,
                                "weight_decay": 0.3}, None),
    "adagrad_wd": ("Adagrad", {"learning_rate": 0.1, "weight_decay": 0.2}, None),
    "rmsprop_centered_momentum_wd": ("RMSprop", {"learning_rate": 0.01, "rho": 0.8,
                                                 "momentum": 0.5, "centered": True,
                                                 "weight_decay": 0.5}, None),
    "adam_wd_schedule": ("Adam", {"learning_rate": S.serialize(S.ExponentialDecay(0.05, 3, 0.5)),
                                  "weight_decay": 0.4}, ["w1"]),
    "nadam_wd_clipnorm": ("Nadam", {"learning_rate": 0.01, "weight_decay": 0.3,
                                    "clipnorm": 1.0}, None),
    "adamax_wd": ("Adamax", {"learning_rate": 0.01, "weight_decay": 0.3}, None),
    "adadelta_wd": ("Adadelta", {"learning_rate": 1.0, "weight_decay": 0.1}, None),
    "ftrl_wd_global_clipnorm": ("Ftrl", {"learning_rate": 0.1, "weight_decay": 0.5,
                                         "global_clipnorm": 1.0}, None),
    "ftrl_power_wd_shrinkage": ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.7,
                                         "weight_decay": 0.5,
                                         "l2_shrinkage_regularization_strength": 0.1}, None),
    "lion_wd_polynomial": ("Lion", {"learning_rate": S.serialize(S.PolynomialDecay(0.01, 8,
                                                                                   0.001)),
                                    "weight_decay": 1.0}, None),
}


@pytest.fixture(scope="module")
def keras_results(tmp_path_factory):
    w0s, seq = _problem(np.float32, none_at=None)
    work = tmp_path_factory.mktemp("keras_optimizers")
    arrays = {f"w{j}": w for j, w in enumerate(w0s)}
    arrays.update({f"g{k}_{j}": g for k, grads in enumerate(seq) for j, g in enumerate(grads)})
    np.savez(work / "problem.npz", n_steps=len(seq), n_vars=len(w0s), **arrays)
    stdout = run_keras(_KERAS_CHILD, str(work / "problem.npz"), json.dumps(KERAS_RUNS))
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case_id", list(KERAS_RUNS))
def test_keras_oracle_twelve_steps(keras_results, case_id):
    make = {c[0]: c[1] for c in CASES}[case_id]
    w0s, seq = _problem(np.float32, none_at=None)
    opt = make()
    if KERAS_RUNS[case_id][2]:
        opt.exclude_from_weight_decay(var_names=KERAS_RUNS[case_id][2])
    params = _run(opt, w0s, seq)
    for p, k in zip(params, keras_results[case_id]):
        np.testing.assert_allclose(p.data, np.array(k, np.float32), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam, AdamW, Nadam, Adamax, Adadelta,
                                 Ftrl, Lion], ids=lambda c: c.__name__)
def test_keras_oracle_default_config(keras_results, cls):
    ours, theirs = cls().get_config(), keras_results["config/" + cls.__name__]
    # every key we save is a Keras key with Keras's default (Keras adds ema, loss scaling...;
    # it stores the learning rate as a float32 variable). Default names differ: Keras
    # snake-cases the class ("rm_sprop", "adam_w"), minigrad lower-cases it ("rmsprop").
    assert theirs["learning_rate"] == pytest.approx(ours.pop("learning_rate"), rel=1e-7)
    assert {k: theirs[k] for k in ours if k != "name"} == {k: v for k, v in ours.items()
                                                           if k != "name"}
    assert re.sub(r"_\d+$", "", theirs["name"]).replace("_", "") == ours["name"]


def test_apply_is_apply_gradients_in_variable_order():
    """Keras 3's optimizer.apply(grads, trainable_variables=None)."""
    w1 = mg.Parameter(np.array([1.0, 2.0]), name="w1")
    w2 = mg.Parameter(np.array([[3.0]]), name="w2")
    a, b = mg.optimizers.SGD(0.1), mg.optimizers.SGD(0.1)
    w1b, w2b = mg.Parameter(w1.data.copy()), mg.Parameter(w2.data.copy())
    g1, g2 = np.array([1.0, -1.0]), np.array([[2.0]])
    a.apply([g1, g2], [w1, w2])
    b.apply_gradients([(g1, w1b), (g2, w2b)])
    np.testing.assert_array_equal(w1.data, w1b.data)
    np.testing.assert_array_equal(w2.data, w2b.data)
    a.apply([g1, g2])                              # the variables built so far
    np.testing.assert_allclose(w1.data, [0.8, 2.2])
    with pytest.raises(ValueError, match="SGD.apply: 1 gradients for 2 variables"):
        a.apply([g1])
    with pytest.raises(ValueError, match="no trainable_variables given and none built"):
        mg.optimizers.SGD(0.1).apply([g1])
