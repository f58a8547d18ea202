"""Diagnostics on any model (API §8, issue 11): GradientMonitor and gradient_report give one
row per kernel layer of a functional, nested or subclassed model in execution order, with the
fused layers' delta probe; nested layers are keyed ``<model>/<layer>``; a shared layer has one
row whose statistics cover both of its calls. References: float64 numpy forward/backward
written here from the weights."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L
from minigrad.diagnostics import GradientMonitor, gradient_report
from minigrad.models import Model, Sequential


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture
def f64():
    mg.config.set_floatx("float64")
    yield
    mg.config.set_floatx("float32")


def shared_net():
    """x -> shared(tanh) -> shared(tanh) -> inner/in1(sigmoid) on (a + b) -> head."""
    inp = mg.Input((3,))
    shared = L.Dense(3, activation="tanh", name="shared")
    inner = Sequential([L.Input((3,)), L.Dense(2, activation="sigmoid", name="in1")],
                       name="inner")
    a = shared(inp)
    b = shared(a)
    out = L.Dense(1, name="head")(inner(L.Add()([a, b])))
    model = Model(inp, out)
    model.compile("sgd", "mse")
    return model


def numpy_pass(model, x, y):
    """Forward and backward in float64 numpy: activations and deltas of every call."""
    ws, bs, wi, bi, wh, bh = model.get_weights()
    a = np.tanh(x @ ws + bs)
    b = np.tanh(a @ ws + bs)
    s = 1 / (1 + np.exp(-((a + b) @ wi + bi)))
    p = s @ wh + bh
    g = 2 * (p - y) / p.size                       # d mse / d p
    d_head = g
    d_in = (g @ wh.T) * s * (1 - s)
    g_sum = d_in @ wi.T                            # to a + b
    d_b = g_sum * (1 - b ** 2)
    g_a = g_sum + d_b @ ws.T
    d_a = g_a * (1 - a ** 2)
    return {"shared": (np.concatenate([a.ravel(), b.ravel()]),
                       np.concatenate([d_a.ravel(), d_b.ravel()]), x.T @ d_a + a.T @ d_b),
            "inner/in1": (s.ravel(), d_in.ravel(), (a + b).T @ d_in),
            "head": (p.ravel(), d_head.ravel(), s.T @ d_head)}


def test_report_rows_of_a_functional_nested_model_with_a_shared_layer(f64):
    mg.random.seed(0)
    model = shared_net()
    x, y = rng(1).normal(size=(6, 3)), rng(2).normal(size=(6, 1))
    report = gradient_report(model, x, y)
    assert list(report.layers) == ["shared", "inner/in1", "head"]
    for name, (act, delta, kgrad) in numpy_pass(model, x, y).items():
        row = report.layers[name]
        np.testing.assert_allclose(row["kernel_grad_norm"], np.linalg.norm(kgrad), rtol=1e-10)
        np.testing.assert_allclose(row["delta_norm"], np.linalg.norm(delta), rtol=1e-10)
        np.testing.assert_allclose(row["activation_mean"], act.mean(), rtol=1e-10)
        np.testing.assert_allclose(row["activation_std"], act.std(), rtol=1e-8)
    assert report.layers["shared"]["shape"] == (3, 3)
    assert report.layers["inner/in1"]["activation"] == "sigmoid"


def test_monitor_rows_match_the_report_at_the_first_step(f64):
    mg.random.seed(1)
    model = shared_net()
    x, y = rng(3).normal(size=(8, 3)), rng(4).normal(size=(8, 1))
    report = gradient_report(model, x, y)
    monitor = GradientMonitor()
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, callbacks=[monitor], verbose=0)
    rows = monitor.rows_at(0)
    assert [r["layer"] for r in rows] == ["shared", "inner/in1", "head"]
    for r in rows:
        want = report.layers[r["layer"]]
        for metric in ("kernel_grad_norm", "delta_norm", "activation_mean", "saturation"):
            np.testing.assert_allclose(r[metric], want[metric], rtol=1e-10, equal_nan=True)
    assert "inner/in1" in monitor.table()


class SubclassedMLP(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.head = L.Dense(2, name="sub_head")          # assigned first, runs last
        self.hidden = [L.Dense(4, activation="sigmoid", name=f"sub_h{i}") for i in range(2)]

    def call(self, x, training=None):
        for layer in self.hidden:
            x = layer(x)
        return self.head(x)


def test_subclassed_rows_in_execution_order_not_assignment_order(f64):
    mg.random.seed(2)
    model = SubclassedMLP()
    model.compile("sgd", "mse")
    x, y = rng(5).normal(size=(5, 3)), rng(6).normal(size=(5, 2))
    report = gradient_report(model, x, y)
    assert list(report.layers) == ["sub_h0", "sub_h1", "sub_head"]
    w0, b0, w1, b1 = [model.get_layer(n).get_weights()[i] for n in ("sub_h0", "sub_h1")
                      for i in (0, 1)]
    h0 = 1 / (1 + np.exp(-(x @ w0 + b0)))
    h1 = 1 / (1 + np.exp(-(h0 @ w1 + b1)))
    np.testing.assert_allclose(report.layers["sub_h1"]["activation_mean"], h1.mean(),
                               rtol=1e-12)
    sat = ((h0 < 0.01) | (h0 > 0.99)).mean()
    np.testing.assert_allclose(report.layers["sub_h0"]["saturation"], sat)


def test_residual_example_keeps_the_first_layer_gradient_where_the_plain_net_vanishes():
    import runpy
    from pathlib import Path
    example = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" /
                                 "residual_mlp.py"))
    x, y = rng(7).random((64, 16)), rng(8).integers(0, 10, 64)
    ratios = {}
    for residual in (False, True):
        mg.random.seed(0)
        model = example["mlp"](16, 10, 16, residual)
        report = gradient_report(model, x, y)
        assert list(report.layers) == [f"hidden{i}" for i in range(1, 11)] + ["logits"]
        ratios[residual] = example["first_last_ratio"](report)
    # ten sigmoid layers shrink the gradient ~4x each; the identity paths do not
    assert ratios[False] < 1e-3 < 1e-1 < ratios[True]


def test_monitor_table_with_a_record_index_out_of_range_is_one_clear_error():
    model = shared_net()
    monitor = GradientMonitor()
    model.fit(np.ones((4, 3)), np.ones((4, 1)), batch_size=2, callbacks=[monitor], verbose=0)
    assert monitor.steps == [0, 1]
    assert "optimizer step 0" in monitor.table(step=-2)
    with pytest.raises(ValueError, match=r"step 12345 is out of range: 2 records.*\[-2, 1\]"):
        monitor.table(step=12345)
    with pytest.raises(TypeError, match="step must be an integer"):
        monitor.rows_at(step="last")


def test_report_of_a_two_output_model_uses_the_compiled_per_output_losses(f64):
    """loss = w1 * mse(y1, p1) + w2 * mse(y2, p2): the head gradients are each output's own."""
    mg.random.seed(0)
    inp = mg.Input((3,))
    h = L.Dense(4, activation="tanh", name="h")(inp)
    o1, o2 = L.Dense(1, name="o1")(h), L.Dense(2, name="o2")(h)
    model = Model(inp, [o1, o2])
    model.compile("sgd", loss=["mse", "mse"], loss_weights=[0.5, 2.0])
    x = rng(1).normal(size=(5, 3))
    y1, y2 = rng(2).normal(size=(5, 1)), rng(3).normal(size=(5, 2))
    report = gradient_report(model, x, [y1, y2])
    wh, bh, w1, b1, w2, b2 = model.get_weights()
    a = np.tanh(x @ wh + bh)
    g1 = 0.5 * 2 * (a @ w1 + b1 - y1) / y1.size
    g2 = 2.0 * 2 * (a @ w2 + b2 - y2) / y2.size
    np.testing.assert_allclose(report.layers["o1"]["kernel_grad_norm"],
                               np.linalg.norm(a.T @ g1), rtol=1e-10)
    np.testing.assert_allclose(report.layers["o2"]["kernel_grad_norm"],
                               np.linalg.norm(a.T @ g2), rtol=1e-10)
    d_h = (g1 @ w1.T + g2 @ w2.T) * (1 - a ** 2)
    np.testing.assert_allclose(report.layers["h"]["kernel_grad_norm"],
                               np.linalg.norm(x.T @ d_h), rtol=1e-10)


class TwoInputs(Model):
    """A subclassed model on two inputs: head(tanh(mix(a)) + b)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mix = L.Dense(2, activation="tanh", name="two_mix")
        self.head = L.Dense(1, name="two_head")

    def call(self, inputs):
        a, b = inputs
        return self.head(self.mix(a) + b)


def test_report_builds_an_unbuilt_subclassed_model_with_several_inputs(f64):
    """gradient_report(model, [xa, xb], y) on an unbuilt subclassed model used to fail in
    np.shape of the list ("inhomogeneous shape")."""
    mg.random.seed(3)
    model = TwoInputs()
    model.compile("sgd", "mse")
    xa, xb, y = rng(7).normal(size=(6, 3)), rng(8).normal(size=(6, 2)), rng(9).normal(size=(6, 1))
    report = gradient_report(model, [xa, xb], y)
    assert list(report.layers) == ["two_mix", "two_head"]
    wm, bm, wh, bh = model.get_weights()
    h = np.tanh(xa @ wm + bm)
    g = 2 * ((h + xb) @ wh + bh - y) / y.size
    grad_mix = xa.T @ ((g @ wh.T) * (1 - h ** 2))
    np.testing.assert_allclose(report.layers["two_mix"]["kernel_grad_norm"],
                               np.linalg.norm(grad_mix), rtol=1e-10)
