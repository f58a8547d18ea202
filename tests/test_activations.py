"""The activation registry (minigrad/activations.py) and what reads it: names, values and
Keras's defaults, saving, Dense and Activation for every name (fused = unfused, one output
probe), the diagnostics' saturation rules and the gradients command's list. Keras 3, when
installed, is an optional oracle for the values."""
import json
import math

import numpy as np
import pytest
from keras_oracle import run_keras

import minigrad as mg
from minigrad import activations as A
from minigrad import layers, models
from minigrad.ops.softmax import Softmax

# ---- activations -------------------------------------------------------------------------------
X = np.array([[-3.0, -0.5, 0.0, 0.7, 4.0], [1.5, -2.0, 0.3, -0.1, 2.5]])
SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


REFERENCE = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": _softmax,
}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_activation_values(name):
    fn = A.get(name)
    y = fn(mg.Tensor(X))
    assert np.allclose(np.asarray(y.data), REFERENCE[name](X), rtol=1e-12, atol=1e-15)
    assert A.serialize(fn) == name
    assert A.deserialize(name) is fn


def test_activation_arguments_and_softmax_node():
    x = mg.Tensor(X)
    assert np.allclose(A.leaky_relu(x, negative_slope=0.5).data, np.where(X > 0, X, 0.5 * X))
    assert np.allclose(A.elu(x, alpha=2.0).data, np.where(X > 0, X, 2 * np.expm1(X)))
    logits = mg.Tensor(X, requires_grad=True)
    assert isinstance(A.softmax(logits)._ctx, Softmax)          # losses find the logits here
    assert A.softmax(logits)._ctx.inputs[0] is logits


@mg.saving.register_keras_serializable(package="ActTests")
def _cubed(x):
    return x * x * x


def test_deserialize_finds_registered_functions_like_every_other_kind():
    # one lookup (_registry.deserialize_with): custom_objects, then the registered objects
    assert A.deserialize("ActTests>_cubed") is _cubed
    assert A.deserialize("_cubed") is _cubed                       # the one bare-name match
    assert A.deserialize(A.serialize(_cubed)) is _cubed
    assert A.deserialize("_cubed", custom_objects={"_cubed": A.tanh}) is A.tanh
    assert A.deserialize(None) is A.linear and A.deserialize(A.relu) is A.relu
    with pytest.raises(TypeError, match="Could not interpret activation"):
        A.deserialize({"class_name": "relu"})


def test_activation_registry_errors_and_custom_functions():
    assert A.get(None) is A.linear
    assert A.get("ReLU") is A.relu                              # case and underscores ignored

    def swishy(x):
        return x * x.sigmoid()

    assert A.get(swishy) is swishy
    saved = A.serialize(swishy)
    assert saved == {"__custom_object__": "swishy"}        # marked: never read as a built-in
    assert A.deserialize(saved, custom_objects={"swishy": swishy}) is swishy
    with pytest.raises(ValueError, match="swishy"):
        A.deserialize(saved)
    assert A.deserialize("swishy", custom_objects={"swishy": swishy}) is swishy

    def relu(x):                                           # a custom function named like one
        return x * 3

    assert A.serialize(relu) == {"__custom_object__": "relu"}
    with pytest.raises(ValueError, match="relu"):
        A.deserialize(A.serialize(relu))
    with pytest.raises(ValueError, match="custom_objects"):
        A.deserialize("swishy")
    with pytest.raises(ValueError, match="no usable name"):
        A.serialize(lambda x: x)
    with pytest.raises(ValueError) as err:
        A.get("rellu")
    for name in REFERENCE:
        assert name in str(err.value)
    with pytest.raises(TypeError):
        A.get(3)


def test_activation_gradient_through_the_module():
    x = mg.Tensor(X, requires_grad=True)
    A.get("tanh")(x).sum().backward()
    assert np.allclose(x.grad, 1 - np.tanh(X) ** 2, rtol=1e-12)
    assert math.isclose(A.get("sigmoid")(mg.Tensor(np.array(0.0))).item(), 0.5)


# ---- Keras 3's other names ---------------------------------------------------------------------
def _sp(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _sparsemax_rows(x):
    out = np.empty_like(x)
    for i, row in enumerate(x):
        s = np.sort(row)[::-1]
        k = max(j for j in range(1, row.size + 1) if 1 + j * s[j - 1] > s[:j].sum())
        out[i] = np.maximum(row - (s[:k].sum() - 1) / k, 0)
    return out


ERF = np.vectorize(math.erf)
# Keras 3.15's formulas with its defaults (keras/src/backend/numpy/nn.py), in float64
MORE = {
    "celu": lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)),
    "exponential": np.exp,
    "gelu": lambda x: x * 0.5 * (1 + ERF(x / np.sqrt(2))),          # approximate=False
    "glu": lambda x: x[:, : x.shape[1] // 2] * _sig(x[:, x.shape[1] // 2:]),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_swish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "log_sigmoid": lambda x: -_sp(-x),
    "log_softmax": lambda x: np.log(_softmax(x)),
    "mish": lambda x: x * np.tanh(_sp(x)),
    "relu6": lambda x: np.clip(x, 0, 6),
    "silu": lambda x: x * _sig(x),
    "swish": lambda x: x * _sig(x),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
    "softplus": _sp,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, (x + 1) / 2)),
    "sparsemax": _sparsemax_rows,
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,                 # b=4
    "tanh_shrink": lambda x: x - np.tanh(x),
}
ALL = dict(REFERENCE, **MORE)
X6 = np.array([[-3.0, -0.5, 0.0, 0.7, 4.0, 7.0], [1.5, -2.0, 0.3, -0.1, 2.5, -7.5]])


def test_every_keras_name_is_registered():
    assert set(A.names()) == set(ALL) | {"threshold"}
    assert A.get("swish") is A.silu and A.get("hard_swish") is A.hard_silu
    assert A.entry("swish") is A.SILU and A.entry("Hard_Swish") is A.HARD_SILU


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_activation_values_and_saved_name(name):
    fn = A.get(name)
    y = fn(mg.Tensor(X6))
    np.testing.assert_allclose(y.data, MORE[name](X6), rtol=1e-12, atol=1e-15)
    saved = A.serialize(fn)
    assert saved == A.entry(name).name and A.deserialize(saved) is fn
    assert saved == {"swish": "silu", "hard_swish": "hard_silu"}.get(name, name)   # as Keras


def test_threshold_has_no_defaults_as_in_keras():
    fn = A.get("threshold")
    assert fn is A.threshold and not A.THRESHOLD.takes_defaults
    with pytest.raises(TypeError):
        fn(mg.Tensor(X6))
    np.testing.assert_allclose(fn(mg.Tensor(X6), 0.5, -1.0).data, np.where(X6 > 0.5, X6, -1.0))
    d = layers.Dense(3, activation="threshold")
    with pytest.raises(TypeError):
        d(np.ones((2, 4)))


def test_keras_defaults_and_arguments():
    x = mg.Tensor(X6)
    np.testing.assert_allclose(A.gelu(x, approximate=True).data,
                               0.5 * X6 * (1 + np.tanh(np.sqrt(2 / np.pi)
                                                       * (X6 + 0.044715 * X6 ** 3))),
                               rtol=1e-12)
    np.testing.assert_allclose(A.squareplus(x, b=1).data, (X6 + np.sqrt(X6 ** 2 + 1)) / 2)
    np.testing.assert_allclose(A.celu(x, alpha=2.0).data,
                               np.maximum(X6, 0) + 2 * np.expm1(np.minimum(X6, 0) / 2))
    np.testing.assert_allclose(A.soft_shrink(x, threshold=1.0).data,
                               np.sign(X6) * np.maximum(np.abs(X6) - 1, 0))
    np.testing.assert_allclose(A.glu(x, axis=0).data, X6[:1] * _sig(X6[1:]))
    np.testing.assert_allclose(A.sparsemax(x, axis=0).data, _sparsemax_rows(X6.T).T)


_KERAS_ACTIVATIONS = """
names = json.loads(sys.argv[1])
x = np.random.default_rng(3).normal(0, 3, (4, 8)).astype(np.float32)
out = {n: keras.ops.convert_to_numpy(keras.activations.get(n)(x)).tolist() for n in names}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def keras_values():
    """Keras 3's value of every activation on one fixed input, from a child process."""
    return json.loads(run_keras(_KERAS_ACTIVATIONS, json.dumps(sorted(ALL))).splitlines()[-1])


@pytest.mark.parametrize("name", sorted(ALL))
def test_values_match_keras(name, keras_values):
    x = np.random.default_rng(3).normal(0, 3, (4, 8)).astype(np.float32)
    expected = np.array(keras_values[name], np.float32)
    np.testing.assert_allclose(A.get(name)(mg.Tensor(x)).data, expected, rtol=2e-5, atol=2e-6)


# ---- Dense and Activation for every name: fused = unfused, one output probe ------------------
CALLABLE = [n for n in A.names() if A.entry(n).takes_defaults]


def _dense_pair(name, rng):
    x = rng.normal(size=(5, 4))
    w, b = rng.normal(size=(4, 6)), rng.normal(size=6)
    d = layers.Dense(6, activation=name, dtype="float64")
    d.build((None, 4))
    d.set_weights([w, b])
    return d, x, w, b


@pytest.mark.parametrize("name", CALLABLE)
def test_dense_equals_the_activation_of_x_at_w_plus_b_and_probes_once(name):
    d, x, w, b = _dense_pair(name, np.random.default_rng(0))
    seen = []
    listener = mg.add_probe_listener(lambda tag, kind, a: seen.append((tag, kind, np.array(a))))
    try:
        xt = mg.Tensor(x, requires_grad=True)
        y = d(xt)
        g = np.random.default_rng(1).normal(size=y.shape)
        y.backward(g)
    finally:
        mg.remove_probe_listener(listener)
    # the unfused graph: x @ W + b as plain ops, then the registry's function
    xt2, w2, b2 = (mg.Tensor(a, requires_grad=True) for a in (x, w, b))
    z = xt2 @ w2 + b2
    dz = []
    z.register_hook(lambda gz: dz.append(gz.copy()))
    y2 = A.get(name)(z)
    y2.backward(g)
    np.testing.assert_allclose(y.data, y2.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad, xt2.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d.kernel.grad, w2.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d.bias.grad, b2.grad, rtol=1e-10, atol=1e-12)
    outputs = [a for tag, kind, a in seen if kind == "output"]
    assert len(outputs) == 1 and all(tag == d.name for tag, _, _ in seen)
    np.testing.assert_array_equal(outputs[0], y.data)          # after the activation
    deltas = [a for _, kind, a in seen if kind == "delta"]
    assert len(deltas) == 1
    np.testing.assert_allclose(deltas[0], dz[0], rtol=1e-10, atol=1e-12)
    pre = [a for _, kind, a in seen if kind == "preactivation"]
    if A.entry(name).saturation.needs_preactivation:
        assert len(pre) == 1
        np.testing.assert_allclose(pre[0], z.data, rtol=1e-12)
    else:                      # no copy of z for a rule that reads the output
        assert pre == []
    kind = type(y._ctx).__name__ if y._ctx is not None else None
    fused = A.entry(name).fused is not None
    assert (kind == "Linear") == fused, (name, kind)


def test_dense_softmax_output_probe_is_the_softmax_not_the_logits():
    d, x, w, b = _dense_pair("softmax", np.random.default_rng(2))
    seen = []
    listener = mg.add_probe_listener(lambda tag, kind, a: seen.append((kind, np.array(a))))
    try:
        y = d(x)
    finally:
        mg.remove_probe_listener(listener)
    assert [k for k, _ in seen] == ["output"]
    np.testing.assert_allclose(seen[0][1], _softmax(x @ w + b), rtol=1e-12)
    assert isinstance(y._ctx, Softmax)


@pytest.mark.parametrize("name", CALLABLE)
def test_activation_layer_and_saving_round_trip(name, tmp_path):
    rng = np.random.default_rng(4)
    model = models.Sequential([layers.Input((4,)), layers.Dense(8, activation=name),
                               layers.Activation(name), layers.Dense(2)])
    x = rng.normal(size=(3, 4)).astype(np.float32)
    path = tmp_path / "m.keras"
    model.save(str(path))
    loaded = models.load_model(str(path))
    assert loaded.layers[0].get_config()["activation"] == A.entry(name).name
    assert loaded.layers[1].activation is A.get(name)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


# ---- diagnostics: saturation from the entry ------------------------------------------------------
def _fd_derivative(fn, z, h=1e-6):
    """f'(z) by central differences of the activation itself (independent of its VJP)."""
    return (fn(mg.Tensor(z + h)).data - fn(mg.Tensor(z - h)).data) / (2 * h)


GENERAL = [e.name for e in A.entries() if e.saturation.needs_preactivation]


def test_saturation_rules_cover_every_entry():
    families = {e.name: e.saturation.mode for e in A.entries() if e.saturation.mode in (1, 2, 3)}
    assert families == {"relu": 3, "leaky_relu": 3, "elu": 3, "selu": 3, "celu": 3,
                        "sigmoid": 1, "tanh": 2}
    undefined = {e.name for e in A.entries() if e.saturation.mode == 0}
    assert undefined == {"linear", "softmax", "glu", "log_softmax", "sparsemax", "threshold"}
    assert A.PRELU.saturation is A.RELU_FAMILY and A.RRELU.saturation is A.RELU_FAMILY


@pytest.mark.parametrize("name", GENERAL)
def test_saturation_is_the_fraction_with_a_flat_derivative(name):
    from minigrad.diagnostics.rows import kernel_rows, row_metrics
    z = np.random.default_rng(7).uniform(-8, 8, 400)
    kinks = np.array([0.0, 0.5, 1.0, 3.0, 6.0])
    z = z[np.min(np.abs(np.abs(z)[:, None] - kinks), axis=1) > 1e-3][None, :]
    fn = A.get(name)
    dense = layers.Dense(z.shape[1], activation=name, dtype="float64")
    model = models.Sequential([layers.Input((2,)), dense])
    row = kernel_rows(model)[0]
    y = fn(mg.Tensor(z)).data
    expected = np.mean(np.abs(_fd_derivative(fn, z)) < 0.01)
    assert 0 < expected < 1 or name in ("exponential", "softplus", "squareplus", "softsign",
                                        "silu", "gelu", "mish", "log_sigmoid", "tanh_shrink",
                                        "sparse_plus")
    metrics = row_metrics(row, {dense.name: y}, {}, preactivations={dense.name: z})
    assert metrics["saturation"] == pytest.approx(expected)
    assert math.isnan(row_metrics(row, {dense.name: y}, {})["saturation"])   # z not probed


def test_monitor_reads_the_preactivation_for_gelu_and_an_activation_layer():
    from minigrad.diagnostics import GradientMonitor
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(64, 6)), rng.integers(0, 3, 64)
    model = models.Sequential([layers.Input((6,)),
                               layers.Dense(8, activation="gelu", dtype="float64"),
                               layers.Dense(8, dtype="float64"),
                               layers.Activation("hard_tanh", dtype="float64"),
                               layers.Dense(3, dtype="float64")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    w0, b0, w1, b1 = (a.copy() for a in model.get_weights()[:4])
    monitor = GradientMonitor(every=1)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[monitor])
    # record 0: the initial weights on the first (here the only) batch
    z0 = x @ w0 + b0
    z1 = A.gelu(mg.Tensor(z0)).data @ w1 + b1
    flat0 = np.mean(np.abs(_fd_derivative(A.gelu, z0)) < 0.01)
    flat1 = np.mean(np.abs(_fd_derivative(A.hard_tanh, z1)) < 0.01)
    assert 0 < flat1 < 1
    names = [layer.name for layer in model.layers]
    assert monitor.history[names[0]]["saturation"][0] == pytest.approx(flat0)
    assert monitor.history[names[1]]["saturation"][0] == pytest.approx(flat1)
    assert monitor.to_records()[1]["activation"] == "hard_tanh"


def test_keras_ops_activations_are_in_minigrad_ops():
    from minigrad import ops
    for name in ("celu", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
                 "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid", "relu", "relu6",
                 "selu", "sigmoid", "silu", "swish", "soft_shrink", "softplus", "softsign",
                 "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink",
                 "threshold"):
        assert callable(getattr(ops, name)), name
    x = mg.Tensor(X6)
    # keras.ops.gelu defaults to the tanh form, keras.activations.gelu to the exact one
    np.testing.assert_array_equal(ops.gelu(x).data, A.gelu(x, approximate=True).data)
    # one function per alias; minigrad.ops wraps it for symbolic tensors (op nodes)
    assert ops.swish is ops.silu and ops.silu.__wrapped__ is A.silu
    assert ops.softplus.__wrapped__ is A.softplus


def test_gradients_command_lists_the_registry():
    from minigrad.diagnostics.cli import ACTIVATIONS
    from minigrad.experiments.config import canonical
    assert set(ACTIVATIONS) == set(A.names()) - {"threshold"}
    assert canonical({"activation": "gelu"})["activation"] == "gelu"
    with pytest.raises(ValueError, match="'relu7'.*softsign"):
        canonical({"activation": "relu7"})
