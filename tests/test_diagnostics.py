"""Gradient diagnostics: vanishing/recovering gradients, probes, monitor, report (the
command line is tested in test_cli.py, the pictures in test_plot.py)."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers, models, optimizers
from minigrad.diagnostics import GradientMonitor, gradient_report
from minigrad.diagnostics.cli import build_model
from minigrad.probe import probe_listeners


@pytest.fixture(scope="module")
def digits():
    (xa, ya), _ = mg.datasets.digits.load_data()
    return xa.reshape(len(xa), -1), ya.astype(np.int64)


def _compiled(model, lr=0.1):
    # build_model ends in a linear layer: the loss takes logits, as the CLI compiles it
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), metrics=["accuracy"],
                  loss=mg.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _kernel_norms(report):
    return [v["kernel_grad_norm"] for v in report.layers.values()]


def test_deep_sigmoid_gradients_vanish_towards_the_input(digits):
    x, y = digits
    mg.random.seed(0)
    model = _compiled(build_model(64, 8, 32, "sigmoid", "glorot_uniform"))
    norms = _kernel_norms(gradient_report(model, x[:512], y[:512]))
    hidden = norms[:-1]
    # each hidden layer's gradient is smaller than the next one's, by >= 2x on average
    # (sigmoid'(z) <= 1/4: about 4x per layer with glorot weights)
    assert all(a < b for a, b in zip(hidden, hidden[1:])), hidden
    per_layer = (hidden[-1] / hidden[0]) ** (1 / (len(hidden) - 1))
    assert per_layer > 2.0, per_layer


@pytest.mark.parametrize("activation,init,bn", [("relu", "he_normal", False),
                                                 ("sigmoid", "glorot_uniform", True)])
def test_he_relu_and_batch_norm_keep_gradients_level(digits, activation, init, bn):
    x, y = digits
    mg.random.seed(0)
    model = _compiled(build_model(64, 8, 32, activation, init, batch_norm=bn))
    hidden = _kernel_norms(gradient_report(model, x[:512], y[:512]))[:-1]
    # within a band of 10x from the smallest to the largest hidden layer
    assert max(hidden) / min(hidden) < 10.0, hidden


def test_delta_probe_equals_unfused_pre_activation_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 5))
    y = rng.integers(0, 4, 16)
    dense = layers.Dense(7, activation="tanh", dtype="float64")
    head = layers.Dense(4, activation="softmax", dtype="float64")
    model = models.Sequential([layers.Input((5,)), dense, head])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    seen = {}
    listener = mg.add_probe_listener(
        lambda tag, kind, a: seen.__setitem__((tag, kind), np.array(a)))
    try:
        out = model(x, training=True)
        mg.losses.get("sparse_categorical_crossentropy")(y, out).backward()
    finally:
        mg.remove_probe_listener(listener)
    # unfused: z = x @ W + b as plain graph ops, the gradient at z caught by a hook
    W = mg.Tensor(dense.kernel.data.copy(), requires_grad=True)
    b = mg.Tensor(dense.bias.data.copy(), requires_grad=True)
    z = mg.Tensor(x) @ W + b
    caught = {}
    z.register_hook(lambda g: caught.setdefault("dz", g.copy()))
    h = z.tanh()
    logits = h @ mg.Tensor(head.kernel.data) + mg.Tensor(head.bias.data)
    logp = logits.log_softmax()
    (-(logp[np.arange(16), y]).mean()).backward()
    np.testing.assert_allclose(seen[(dense.name, "delta")], caught["dz"], rtol=1e-10, atol=1e-12)


def test_monitor_matches_norms_computed_by_hand(digits):
    x, y = digits
    x, y = x[:64], y[:64]
    mg.random.seed(1)
    model = _compiled(build_model(64, 3, 16, "sigmoid", "glorot_uniform"))
    w0 = [layer.kernel.data.copy() for layer in model.layers]
    monitor = GradientMonitor()
    model.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0, callbacks=[monitor])
    assert monitor.steps == [0]
    for layer, before in zip(model.layers, w0):
        rec = monitor.history[layer.name]
        g = layer.kernel.grad   # the gradient of the (only) step, still on the parameter
        assert rec["kernel_grad_norm"][0] == pytest.approx(np.linalg.norm(g), rel=1e-5)
        assert rec["kernel_grad_mean_abs"][0] == pytest.approx(np.abs(g).mean(), rel=1e-5)
        assert rec["bias_grad_norm"][0] == pytest.approx(np.linalg.norm(layer.bias.grad),
                                                         rel=1e-5)
        ratio = np.linalg.norm(layer.kernel.data - before) / np.linalg.norm(before)
        assert rec["update_ratio"][0] == pytest.approx(ratio, rel=1e-4)
        # plain SGD: the update is lr * grad
        assert np.linalg.norm(layer.kernel.data - before) == pytest.approx(
            0.1 * np.linalg.norm(g), rel=1e-4)
    # activations and deltas by hand: the same forward, unfused, at the initial weights,
    # with hooks catching dLoss/dz at every pre-activation
    h, dz, outputs = mg.Tensor(x), {}, {}
    for layer, w in zip(model.layers, w0):
        z = h @ mg.Tensor(w, requires_grad=True) + np.zeros(w.shape[1], np.float32)
        z.register_hook(lambda g, name=layer.name: dz.__setitem__(name, g.copy()))
        h = z.sigmoid() if layer is not model.layers[-1] else z
        outputs[layer.name] = h.data
    mg.losses.SparseCategoricalCrossentropy(from_logits=True)(y, h).backward()
    for layer in model.layers:
        rec, out = monitor.history[layer.name], outputs[layer.name].astype(np.float64)
        assert rec["delta_norm"][0] == pytest.approx(np.linalg.norm(dz[layer.name]), rel=1e-4)
        assert rec["activation_mean"][0] == pytest.approx(out.mean(), rel=1e-4, abs=1e-6)
        assert rec["activation_std"][0] == pytest.approx(out.std(), rel=1e-4)
        if layer is model.layers[-1]:
            assert math.isnan(rec["saturation"][0])      # linear output: no saturation rule
        else:
            sat = np.mean((out < 0.01) | (out > 0.99))
            assert rec["saturation"][0] == pytest.approx(sat)


@pytest.mark.parametrize("activation,values,fraction", [
    ("sigmoid", [0.005, 0.5, 0.995, 0.99, 0.01, 0.3], 2 / 6),   # both tails, strict bounds
    ("tanh", [-0.995, 0.995, 0.99, -0.99, 0.0], 2 / 5),
    ("relu", [0.0, -0.0, 0.1, 2.0], 2 / 4),                   # output <= 0 is saturated
    ("elu", [-0.5, 0.0, 0.1, 1.0, 3.0], 2 / 5),
])
def test_saturation_rules_per_activation_family(activation, values, fraction):
    from minigrad.diagnostics.rows import kernel_rows, row_metrics
    # float64, so that the bounds 0.01 / 0.99 are exact and strictness is tested
    dense = layers.Dense(len(values), activation=activation, dtype="float64")
    model = models.Sequential([layers.Input((2,)), dense])
    row = kernel_rows(model)[0]
    y = np.array([values], np.float64)
    metrics = row_metrics(row, {dense.name: y}, {})
    assert metrics["saturation"] == pytest.approx(fraction)
    assert metrics["activation_mean"] == pytest.approx(np.mean(values), abs=1e-7)
    assert metrics["activation_std"] == pytest.approx(np.std(values), rel=1e-9)
    assert math.isnan(metrics["delta_norm"]) and math.isnan(metrics["kernel_grad_norm"])


def test_monitor_every_and_records(digits):
    x, y = digits
    mg.random.seed(2)
    model = _compiled(build_model(64, 2, 8, "relu", "he_normal"))
    monitor = GradientMonitor(every=5)
    model.fit(x[:320], y[:320], epochs=2, batch_size=32, verbose=0, callbacks=[monitor])
    assert monitor.steps == [0, 5, 10, 15]
    recs = monitor.to_records()
    assert len(recs) == 4 * 3 and {r["step"] for r in recs} == {0, 5, 10, 15}
    assert "relu" in monitor.table()
    with pytest.raises(ValueError):
        GradientMonitor(every=0)


def test_detached_monitor_leaves_no_listener_or_hook(digits):
    x, y = digits
    before = probe_listeners()
    model = _compiled(build_model(64, 2, 8, "sigmoid", "glorot_uniform"))
    model.fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=[GradientMonitor()])
    assert probe_listeners() == before
    assert all(w._hooks is None for w in model.weights)

    class Interrupt(mg.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):     # an interrupted fit detaches the monitor too
        model.fit(x[:64], y[:64], epochs=1, verbose=0,
                  callbacks=[GradientMonitor(), Interrupt()])
    assert probe_listeners() == before


def test_gradient_report_restores_all_state(digits):
    x, y = digits
    mg.random.seed(5)
    model = build_model(64, 2, 8, "relu", "he_normal", batch_norm=True)
    model.add(layers.Dropout(0.3))   # draws from the global generator when training
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    sentinel = [np.full(w.shape, 7.0, dtype=w.dtype) for w in model.weights]
    for w, s in zip(model.weights, sentinel):
        w.grad = s
    data = [w.data.copy() for w in model.weights]
    state = mg.random.get_state()
    report = gradient_report(model, x[:100], y[:100])
    assert all(np.array_equal(w.data, d) for w, d in zip(model.weights, data))
    assert all(w.grad is s for w, s in zip(model.weights, sentinel))
    assert mg.random.get_state() == state
    assert list(report.layers) == [layer.name for layer in model.layers
                                   if getattr(layer, "kernel", None) is not None]
    assert math.isfinite(report.layers[model.layers[0].name]["kernel_grad_norm"])


def test_report_table_marks_exploding_values():
    from minigrad.diagnostics.rows import format_table
    rows = [dict(layer="dense", shape=(4, 4), activation="relu", kernel_grad_norm=math.inf,
                 delta_norm=math.nan, saturation=0.5),
            dict(layer="dense_1", shape=(4, 2), activation="softmax", kernel_grad_norm=1.0,
                 delta_norm=2.0, saturation=math.nan)]
    table = format_table(rows)
    assert "EXPLODING" in table.splitlines()[2]
    assert "50.0%" in table


def test_errors():
    flat = models.Sequential([layers.Input((4,)), layers.Flatten()])
    flat.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no layer with a kernel"):
        gradient_report(flat, np.ones((2, 4)), np.ones((2, 4)))
    dense = models.Sequential([layers.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="loss="):
        gradient_report(dense, np.ones((2, 4)), np.ones((2, 2)))


def test_nielsen_example_shows_gradients_shrinking_towards_the_input(capsys):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "vanishing_gradients.py"
    spec = importlib.util.spec_from_file_location("example_vanishing_gradients", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (xa, ya), _ = mg.datasets.digits.load_data()
    x, onehot = xa.reshape(len(xa), -1), np.eye(10, dtype=np.float32)[ya]
    for depth in (2, 3, 4):
        mg.random.seed(1)
        speeds = module.speeds(gradient_report(module.nielsen_network(64, [30] * depth),
                                               x, onehot))
        # Nielsen's chapter 5: each layer learns several times slower than the next one
        assert all(3.0 * a < b for a, b in zip(speeds, speeds[1:])), speeds
    module.main(["--epochs", "1"])
    out = capsys.readouterr().out
    assert "per hidden layer at initialisation" in out and "4 hidden layers" in out
