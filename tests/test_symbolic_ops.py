"""Symbolic ops: ``minigrad.ops`` functions and tensor operators on KerasTensors record op
nodes of a functional model (layers/op_node.py), as Keras 3's ``Operation.symbolic_call``.

Each operator and each op of the table: the symbolic output's shape and dtype equal those of
the same expression evaluated eagerly on Tensors (None exactly where the eager shape changes
with the batch size), and a Model built from the expression returns the eager values bit for
bit, in float32 and float64. Then: gradients (finite differences; the eager composition),
fit, the captured step, nesting, summary, save/load, to_json, clone_model, and the errors.
"""
import json
import os

import numpy as np
import pytest
from keras_oracle import run_keras
from replays import count_replays

import minigrad as mg
from minigrad import layers as L
from minigrad import ops
from minigrad.layers.symbolic import KerasTensor

DTYPES = ["float32", "float64"]
R = np.random.default_rng(0)
A_DATA = R.normal(size=(6, 4))
B_DATA = R.uniform(0.5, 2.0, size=(6, 4))       # positive: a divisor, log, sqrt
W = R.normal(size=(4, 3))
W2 = R.normal(size=(3, 4))

# name -> (expression of (a, b, dtype), eager reference or None for the same expression);
# a: (batch, 4) any sign, b: (batch, 4) in [0.5, 2]
OPERATORS = {
    "add": (lambda a, b, d: a + b, None),
    "add_scalar": (lambda a, b, d: a + 2.0, None),
    "radd": (lambda a, b, d: 2.0 + a, None),
    "sub": (lambda a, b, d: a - b, None),
    "rsub": (lambda a, b, d: 2.0 - a, None),
    "mul": (lambda a, b, d: a * b, None),
    "rmul": (lambda a, b, d: 3 * a, None),
    "truediv": (lambda a, b, d: a / b, None),
    "truediv_scalar": (lambda a, b, d: a / 3, None),
    "rtruediv": (lambda a, b, d: 1.0 / b, None),
    "pow": (lambda a, b, d: a ** 2, None),
    "rpow": (lambda a, b, d: 2.0 ** a, None),
    "matmul_array": (lambda a, b, d: a @ W.astype(d), None),
    "rmatmul_array": (lambda a, b, d: W2.astype(d) @ ops.transpose(a), None),
    "neg": (lambda a, b, d: -a, None),
    "abs": (lambda a, b, d: abs(a), None),
    "floordiv": (lambda a, b, d: a // b,
                 lambda a, b, d: mg.Tensor(np.floor_divide(a.data, b.data))),
    "mod": (lambda a, b, d: a % b, lambda a, b, d: mg.Tensor(np.mod(a.data, b.data))),
    "lt": (lambda a, b, d: a < b, None),
    "le": (lambda a, b, d: a <= b, None),
    "gt": (lambda a, b, d: a > b, None),
    "ge": (lambda a, b, d: a >= 0.5, None),
    "ne": (lambda a, b, d: a != b, None),
    "and": (lambda a, b, d: (a > 0) & (b > 1), lambda a, b, d: mg.Tensor(
        (a.data > 0) & (b.data > 1))),
    "or": (lambda a, b, d: (a > 0) | (b > 1), lambda a, b, d: mg.Tensor(
        (a.data > 0) | (b.data > 1))),
    "xor": (lambda a, b, d: (a > 0) ^ (b > 1), lambda a, b, d: mg.Tensor(
        (a.data > 0) ^ (b.data > 1))),
    "invert": (lambda a, b, d: ~(a > 0), lambda a, b, d: mg.Tensor(~(a.data > 0))),
    "round": (lambda a, b, d: round(a), lambda a, b, d: ops.round(a)),
    "getitem_slice": (lambda a, b, d: a[:, :2], None),
    "getitem_int": (lambda a, b, d: a[:, 1], None),
    "getitem_none_ellipsis": (lambda a, b, d: a[..., None], None),
    "getitem_new_first": (lambda a, b, d: a[None], None),
    "getitem_step": (lambda a, b, d: a[:, ::-2], None),
    "getitem_batch_rows": (lambda a, b, d: a[1:], None),
    "reshape_method": (lambda a, b, d: a.reshape((-1, 2, 2)),
                       lambda a, b, d: ops.reshape(a, (-1, 2, 2))),
    "squeeze_method": (lambda a, b, d: a[:, :1].squeeze(-1),
                       lambda a, b, d: ops.squeeze(a[:, :1], -1)),
}

# the keras.ops table: name -> expression (eager reference: the same expression on Tensors)
OPS = {
    "abs": lambda a, b, d: ops.abs(a),
    "absolute": lambda a, b, d: ops.absolute(a),
    "add": lambda a, b, d: ops.add(a, b),
    "all": lambda a, b, d: ops.all(a > 0, axis=1),
    "any": lambda a, b, d: ops.any(a > 0, axis=-1, keepdims=True),
    "argmax": lambda a, b, d: ops.argmax(a, axis=1),
    "argmin": lambda a, b, d: ops.argmin(a, axis=-1),
    "argsort": lambda a, b, d: ops.argsort(a),
    "average": lambda a, b, d: ops.average(a, axis=1, weights=np.arange(1.0, 5.0).astype(d)),
    "broadcast_to": lambda a, b, d: ops.broadcast_to(a[:1], (3, 4)),
    "cast": lambda a, b, d: ops.cast(a, "float64"),
    "ceil": lambda a, b, d: ops.ceil(a),
    "clip": lambda a, b, d: ops.clip(a, -0.5, 0.5),
    "concatenate": lambda a, b, d: ops.concatenate([a, b], axis=-1),
    "convert_to_tensor": lambda a, b, d: ops.convert_to_tensor(a, "float64"),
    "cos": lambda a, b, d: ops.cos(a),
    "count_nonzero": lambda a, b, d: ops.count_nonzero(a > 0, axis=1),
    "cumsum": lambda a, b, d: ops.cumsum(a, axis=1),
    "divide": lambda a, b, d: ops.divide(a, b),
    "dot": lambda a, b, d: ops.dot(a, W.astype(d)),
    "equal": lambda a, b, d: ops.equal(a, b),
    "exp": lambda a, b, d: ops.exp(a),
    "expand_dims": lambda a, b, d: ops.expand_dims(a, 1),
    "expm1": lambda a, b, d: ops.expm1(a),
    "flip": lambda a, b, d: ops.flip(a, axis=1),
    "floor": lambda a, b, d: ops.floor(a),
    "full_like": lambda a, b, d: ops.full_like(a, 3.0),
    "gelu": lambda a, b, d: ops.gelu(a),
    "greater": lambda a, b, d: ops.greater(a, b),
    "greater_equal": lambda a, b, d: ops.greater_equal(a, 0.0),
    "hard_shrink": lambda a, b, d: ops.hard_shrink(a),
    "isfinite": lambda a, b, d: ops.isfinite(a),
    "isinf": lambda a, b, d: ops.isinf(a),
    "isnan": lambda a, b, d: ops.isnan(a),
    "less": lambda a, b, d: ops.less(a, b),
    "less_equal": lambda a, b, d: ops.less_equal(a, b),
    "log": lambda a, b, d: ops.log(b),
    "log10": lambda a, b, d: ops.log10(b),
    "log1p": lambda a, b, d: ops.log1p(b),
    "log2": lambda a, b, d: ops.log2(b),
    "log_softmax": lambda a, b, d: ops.log_softmax(a),
    "logical_and": lambda a, b, d: ops.logical_and(a > 0, b > 1),
    "logical_not": lambda a, b, d: ops.logical_not(a > 0),
    "logical_or": lambda a, b, d: ops.logical_or(a > 0, b > 1),
    "logical_xor": lambda a, b, d: ops.logical_xor(a > 0, b > 1),
    "logsumexp": lambda a, b, d: ops.logsumexp(a, axis=-1),
    "matmul": lambda a, b, d: ops.matmul(a, W.astype(d)),
    "max": lambda a, b, d: ops.max(a, axis=1),
    "maximum": lambda a, b, d: ops.maximum(a, b),
    "mean": lambda a, b, d: ops.mean(a, axis=-1),
    "min": lambda a, b, d: ops.min(a, axis=0),
    "minimum": lambda a, b, d: ops.minimum(a, 0.0),
    "moveaxis": lambda a, b, d: ops.moveaxis(a, 0, 1),
    "multiply": lambda a, b, d: ops.multiply(a, b),
    "negative": lambda a, b, d: ops.negative(a),
    "norm": lambda a, b, d: ops.norm(a, axis=-1),
    "not_equal": lambda a, b, d: ops.not_equal(a, b),
    "one_hot": lambda a, b, d: ops.one_hot(ops.argmax(a, axis=1), 5),
    "ones_like": lambda a, b, d: ops.ones_like(a),
    "outer": lambda a, b, d: ops.outer(a, b),
    "pad": lambda a, b, d: ops.pad(a, ((0, 0), (1, 2))),
    "power": lambda a, b, d: ops.power(b, 1.5),
    "prod": lambda a, b, d: ops.prod(a, axis=1),
    "ravel": lambda a, b, d: ops.ravel(a),
    "reciprocal": lambda a, b, d: ops.reciprocal(b),
    "relu": lambda a, b, d: ops.relu(a),
    "repeat": lambda a, b, d: ops.repeat(a, 2, axis=1),
    "reshape": lambda a, b, d: ops.reshape(a, (-1, 2, 2)),
    "round": lambda a, b, d: ops.round(a, 1),
    "sigmoid": lambda a, b, d: ops.sigmoid(a),
    "sign": lambda a, b, d: ops.sign(a),
    "silu": lambda a, b, d: ops.silu(a),
    "sin": lambda a, b, d: ops.sin(a),
    "size": lambda a, b, d: ops.size(a),
    "softmax": lambda a, b, d: ops.softmax(a, axis=-1),
    "softplus": lambda a, b, d: ops.softplus(a),
    "sort": lambda a, b, d: ops.sort(a, axis=1),
    "sparse_sigmoid": lambda a, b, d: ops.sparse_sigmoid(a),
    "sparsemax": lambda a, b, d: ops.sparsemax(a),
    "split": lambda a, b, d: ops.split(a, 2, axis=1),
    "sqrt": lambda a, b, d: ops.sqrt(b),
    "square": lambda a, b, d: ops.square(a),
    "squeeze": lambda a, b, d: ops.squeeze(ops.expand_dims(a, -1), -1),
    "stack": lambda a, b, d: ops.stack([a, b], axis=1),
    "std": lambda a, b, d: ops.std(a, axis=1),
    "stop_gradient": lambda a, b, d: ops.stop_gradient(a),
    "subtract": lambda a, b, d: ops.subtract(a, b),
    "sum": lambda a, b, d: ops.sum(a),
    "swapaxes": lambda a, b, d: ops.swapaxes(a, 0, 1),
    "take": lambda a, b, d: ops.take(a, np.array([0, 2, 2]), axis=1),
    "take_along_axis": lambda a, b, d: ops.take_along_axis(a, ops.argsort(a), axis=1),
    "tanh": lambda a, b, d: ops.tanh(a),
    "threshold": lambda a, b, d: ops.threshold(a, 0.1, -1.0),
    "tile": lambda a, b, d: ops.tile(a, (1, 2)),
    "trace": lambda a, b, d: ops.trace(ops.reshape(a, (-1, 2, 2)), axis1=1, axis2=2),
    "transpose": lambda a, b, d: ops.transpose(a),
    "true_divide": lambda a, b, d: ops.true_divide(a, b),
    "var": lambda a, b, d: ops.var(a, axis=-1, keepdims=True),
    "where": lambda a, b, d: ops.where(a > 0, a, b),
    "zeros_like": lambda a, b, d: ops.zeros_like(a),
}
for _name in ops._ACTIVATIONS:      # the keras.ops activations, each on x alone
    if hasattr(ops, _name) and _name not in OPS:
        OPS[_name] = (lambda f: lambda a, b, d: f(a))(getattr(ops, _name))
# public functions of minigrad.ops not in the table, and why
NOT_ON_TENSORS = {"arange", "eye", "full", "identity", "linspace", "ones", "zeros"}  # no x
STATIC = {"shape", "ndim"}           # static values (test_shape_and_ndim_are_static)
REFUSED = {"convert_to_numpy"}       # no value (test_ops_without_a_symbolic_form_raise)


def test_every_public_op_is_in_the_table():
    public = set(ops.__all__) | {n for n in ops._ACTIVATIONS if hasattr(ops, n)}
    assert public - set(OPS) - NOT_ON_TENSORS - STATIC - REFUSED == set()
    for name in OPS:
        assert name in public, name


def _inputs(dtype):
    return L.Input((4,), dtype=dtype), L.Input((4,), dtype=dtype)


def _tensors(dtype, n=6):
    return mg.Tensor(A_DATA[:n].astype(dtype)), mg.Tensor(B_DATA[:n].astype(dtype))


def _leaves(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def _check_case(expr, eager, dtype):
    ia, ib = _inputs(dtype)
    sym = _leaves(expr(ia, ib, dtype))
    assert all(isinstance(t, KerasTensor) for t in sym)
    eager = eager or expr
    ref6 = [np.asarray(getattr(y, "data", y)) for y in _leaves(eager(*_tensors(dtype, 6),
                                                                     dtype))]
    ref5 = [np.asarray(getattr(y, "data", y)) for y in _leaves(eager(*_tensors(dtype, 5),
                                                                     dtype))]
    for t, r6, r5 in zip(sym, ref6, ref5):
        # None exactly where the eager shape follows the batch size
        assert t.shape == tuple(p if p == q else None for p, q in zip(r6.shape, r5.shape))
        assert t.dtype == r6.dtype.name
    model = mg.Model([ia, ib], [*sym, ia, ib])    # both listed: never disconnected
    got = model(list(_tensors(dtype, 6)))
    for y, r in zip(got, ref6):
        np.testing.assert_array_equal(np.asarray(getattr(y, "data", y)), r)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_each_operator_builds_a_node_with_the_eager_shape_and_values(name, dtype):
    expr, eager = OPERATORS[name]
    _check_case(expr, eager, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_builds_a_node_with_the_eager_shape_and_values(name, dtype):
    _check_case(OPS[name], None, dtype)


def test_keras_has_no_symbolic_eq_and_tensors_stay_hashable():
    a = L.Input((4,))
    assert (a == a) is True and {a: 1}[a] == 1
    assert isinstance(a != a, KerasTensor)
    assert not hasattr(a, "T")        # Keras's KerasTensor has no .T either


def test_shape_and_ndim_are_static():
    a = L.Input((None, 3))
    assert ops.shape(a) == (None, None, 3) and ops.ndim(a) == 3


# ---- models with op nodes ---------------------------------------------------------------------
def _mixed_model(dtype="float32", seed=0):
    mg.random.seed(seed)
    x = L.Input((4,), dtype=dtype)
    h = L.Dense(4, activation="tanh", dtype=dtype)(x)
    y = ops.concatenate([h + x, (2.0 - h) * x, h[:, :2], ops.relu(h) ** 2 / 3], axis=-1)
    y = ops.reshape(y + ops.mean(h, axis=-1, keepdims=True), (-1, 7, 2))
    y = ops.sum(y, axis=-1)
    return mg.Model(x, L.Dense(2, dtype=dtype)(y))


def _mixed_eager(model, x):
    """The same computation written on Tensors with the model's layers."""
    d1, d2 = model.layers[1], model.layers[2]
    h = d1(x)
    y = ops.concatenate([h + x, (2.0 - h) * x, h[:, :2], ops.relu(h) ** 2 / 3], axis=-1)
    y = ops.reshape(y + ops.mean(h, axis=-1, keepdims=True), (-1, 7, 2))
    return d2(ops.sum(y, axis=-1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_equals_the_eager_composition_and_so_do_its_gradients(dtype):
    model = _mixed_model(dtype)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense"]
    x = mg.Tensor(A_DATA.astype(dtype))
    cot = R.normal(size=(6, 2)).astype(dtype)
    grads = []
    for run in (model, lambda t: _mixed_eager(model, t)):
        xt = mg.Tensor(x.data.copy(), requires_grad=True)
        out = run(xt)
        (out * cot).sum().backward()
        grads.append([xt.grad.copy()] + [w.grad.copy() for w in model.trainable_weights])
        for w in model.trainable_weights:
            w.grad = None
    np.testing.assert_array_equal(model(x).data, _mixed_eager(model, x).data)
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_gradients_through_op_nodes_equal_finite_differences():
    model = _mixed_model("float64")
    x = mg.Tensor(A_DATA[:3].copy(), requires_grad=True)
    kernel = model.layers[1].kernel
    cot = mg.Tensor(R.normal(size=(3, 2)))
    assert mg.gradcheck(lambda t, k: model(t) * cot, x, kernel)


def _residual(dtype="float32", seed=0):
    mg.random.seed(seed)
    inp = L.Input((6,), dtype=dtype)
    x = inp
    for _ in range(2):
        x = x + L.Dense(6, activation="tanh", dtype=dtype)(x)
    return mg.Model(inp, L.Dense(1, dtype=dtype)(x))


def test_fit_reduces_the_loss_of_a_residual_model():
    r = np.random.default_rng(1)
    x = r.normal(size=(64, 6)).astype("float32")
    y = (x[:, :1] - 0.5 * x[:, 1:2] ** 2).astype("float32")
    model = _residual()
    model.compile(optimizer="adam", loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.5 * before


def test_captured_step_replays_op_nodes_bit_for_bit(monkeypatch):
    count = count_replays(monkeypatch)
    r = np.random.default_rng(2)
    x = r.normal(size=(32, 6)).astype("float32")
    y = r.normal(size=(32, 1)).astype("float32")
    trained = []
    for jit in ("auto", False):
        model = _residual(seed=3)
        model.compile(optimizer="adam", loss="mse", jit_compile=jit)
        logs = [model.train_on_batch(x[i % 4 * 8:(i % 4 + 1) * 8],
                                     y[i % 4 * 8:(i % 4 + 1) * 8], return_dict=True)
                for i in range(50)]
        trained.append((model, logs))
        if jit == "auto":
            assert count[0] > 0      # the captured step ran
    (auto, logs_auto), (eager, logs_eager) = trained
    assert logs_auto == logs_eager
    for a, b in zip(auto.weights, eager.weights):
        np.testing.assert_array_equal(a.data, b.data)


def test_nested_model_with_op_nodes_runs_saves_and_loads(tmp_path):
    inner = _mixed_model()
    x = L.Input((4,))
    outer = mg.Model(x, ops.sigmoid(inner(x * 0.5)) - 1.0)
    data = A_DATA.astype("float32")
    want = ops.sigmoid(inner(mg.Tensor(data * 0.5))).data - 1.0
    np.testing.assert_array_equal(outer.predict(data, verbose=0), want)
    path = os.fspath(tmp_path / "nested.keras")
    outer.save(path)
    np.testing.assert_array_equal(mg.models.load_model(path).predict(data, verbose=0), want)


def test_summary_lists_each_op_node_with_its_connections():
    model = _mixed_model()
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    for node in model._nodes:
        op = node.layer
        if op in model.layers:
            continue
        row = next(line for line in text.splitlines()
                   if line.startswith(f" {op.name} ({op.type_name})"))
        assert str(tuple(node.flat_outputs[0].shape)).replace(",)", ")") in row
        assert f"{node.flat_inputs[0].node.layer.name}[0][0]" in row
    assert " (GetItem)" in text and " (Concatenate)" in text and " (Add)" in text


# ---- saving ----------------------------------------------------------------------------------
def test_save_load_and_json_round_trips_give_identical_predictions(tmp_path):
    model = _mixed_model()
    model.compile(optimizer="adam", loss="mse")
    data = A_DATA.astype("float32")
    want = model.predict(data, verbose=0)
    path = os.fspath(tmp_path / "m.keras")
    model.save(path)
    loaded = mg.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), want)
    assert [n.layer.name for n in loaded._nodes] == [n.layer.name for n in model._nodes]
    text = model.to_json()
    spec = json.loads(text)
    ops_saved = [e for e in spec["config"]["layers"] if e["class_name"] == "Operation"]
    assert {e["config"]["op"] for e in ops_saved} >= {"add", "get_item", "concatenate",
                                                       "reshape", "mean", "sum"}
    rebuilt = mg.models.model_from_json(text)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(data, verbose=0), want)
    clone = mg.models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(data, verbose=0), want)


def test_constants_of_every_kind_survive_json():
    x = L.Input((2, 4))
    y = x[..., None, 1:3, ::2]                       # Ellipsis, None, slices (a tuple key)
    y = ops.cast(ops.reshape(y, [-1, 2]), np.float64) + np.float64(0.5)
    model = mg.Model(x, ops.pad(y, [[0, 0], [1, 0]]))
    rebuilt = mg.models.model_from_json(model.to_json())
    data = R.normal(size=(3, 2, 4)).astype("float32")
    got, want = rebuilt.predict(data, verbose=0), model.predict(data, verbose=0)
    assert got.dtype == want.dtype == np.float64
    np.testing.assert_array_equal(got, want)


def test_a_constant_array_is_saved_with_the_weights_and_refused_by_to_json(tmp_path):
    x = L.Input((4,))
    h = L.Dense(4)(x)
    w = W.astype("float32")
    model = mg.Model(x, ops.take(h @ w, np.array([2, 0]), axis=1))
    with pytest.raises(ValueError, match=r"op node 'matmul\S*' \(minigrad.ops.matmul\).*"
                                         r"constant array .*\(4, 3\).*model.save"):
        model.to_json()
    path = os.fspath(tmp_path / "c.keras")
    model.save(path)
    loaded = mg.models.load_model(path)
    data = A_DATA.astype("float32")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data,
                                                                                 verbose=0))
    clone = mg.models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(data, verbose=0),
                                  model.predict(data, verbose=0))


# ---- errors -----------------------------------------------------------------------------------
def test_mismatched_shapes_raise_at_build_time_naming_op_and_shapes():
    h = L.Dense(4)(L.Input((4,)))
    with pytest.raises(ValueError, match=r"minigrad.ops.add .*\(None, 4\), \(None, 3\)"):
        h + L.Input((3,))
    with pytest.raises(ValueError, match=r"minigrad.ops.concatenate .*\(None, 4\), "
                                         r"\(1, 1, 4\) \(a constant\)"):
        ops.concatenate([h, np.zeros((1, 4), "float32")[None]], axis=0)
    with pytest.raises(ValueError, match=r"minigrad.ops.matmul .*\(None, 4\)"):
        ops.matmul(h, np.ones((3, 2), "float32"))


def test_ops_without_a_symbolic_form_raise():
    h = L.Input((4,))
    with pytest.raises(TypeError, match="convert_to_numpy"):
        ops.convert_to_numpy(h)
    with pytest.raises(TypeError, match=r"where.*depends on the data"):
        ops.where(h > 0)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(h)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(h)


def test_a_callable_argument_is_refused():
    h = L.Input((4,))
    with pytest.raises(TypeError, match=r"minigrad.ops.add: argument #1 is a callable"):
        ops.add(h, lambda t: t)


def test_a_saved_op_must_be_a_public_op():
    model = mg.Model(*(lambda x: (x, x + 1.0))(L.Input((2,))))
    spec = json.loads(model.to_json())
    for entry in spec["config"]["layers"]:
        if entry["class_name"] == "Operation":
            entry["config"]["op"] = "Tensor"
    with pytest.raises(ValueError, match="'Tensor' is not a public function of minigrad.ops"):
        mg.models.model_from_json(json.dumps(spec))


# ---- Keras 3 as the oracle of output shapes ---------------------------------------------------
ORACLE = {   # expression on a (None, 4) and b (None, 4) -> written for both libraries
    "getitem": "a[:, 1:3]", "getitem_none": "a[None, ..., 0]", "matmul_t": "ops.transpose(a)",
    "mean0": "ops.mean(a, axis=0)", "concat": "ops.concatenate([a, b], axis=-1)",
    "reshape": "ops.reshape(a, (-1, 2, 2))", "stack": "ops.stack([a, b], axis=1)",
    "sum_keep": "ops.sum(a * b, axis=-1, keepdims=True)", "expand": "ops.expand_dims(a, 1)",
    "outer": "ops.outer(a, b)", "pow": "2.0 ** a - a / 3", "less": "a < b",
    "split": "ops.split(a, 2, axis=1)[1]", "tile": "ops.tile(a, (1, 2))",
}

_ORACLE_SCRIPT = """
from keras import ops
a = keras.Input((4,)); b = keras.Input((4,))
out = {}
for name, expr in json.loads(sys.argv[1]).items():
    t = eval(expr)
    out[name] = [list(t.shape), str(t.dtype)]
print(json.dumps(out))
"""


def test_output_shapes_match_keras():
    keras_out = json.loads(run_keras(_ORACLE_SCRIPT, json.dumps(ORACLE)).strip().splitlines()[-1])
    a, b = L.Input((4,)), L.Input((4,))
    for name, expr in ORACLE.items():
        t = eval(expr, {"ops": ops, "a": a, "b": b})
        assert list(t.shape) == keras_out[name][0], name
        assert t.dtype == keras_out[name][1], name


def test_integer_floor_division_and_modulo_stay_integer():
    """Keras: int32 // 2 and int32 % 3 are int32 (a Python number is weak); a float operand
    gives a float."""
    i = ops.cast(mg.Input((4,)), "int32")
    assert (i // 2).dtype == "int32" and (i % 3).dtype == "int32"
    assert (7 // i).dtype == "int32" and (i // 2.0).dtype == "float32"
    x = mg.Input((4,))
    model = mg.Model(x, [ops.cast(x, "int32") // 2, ops.cast(x, "int32") % 3])
    q, r = model.predict(np.array([[3.0, 4.0, -5.0, 7.0]], "float32"), verbose=0)
    np.testing.assert_array_equal(q, [[1, 2, -3, 3]])
    np.testing.assert_array_equal(r, [[0, 1, 1, 1]])
    assert q.dtype == np.int32 and r.dtype == np.int32


def test_a_boolean_mask_on_a_symbolic_tensor_is_refused():
    """Its result's size depends on the data: no static shape (stand-in zeros gave (0,))."""
    a = mg.Input((4,))
    with pytest.raises(TypeError, match="boolean mask is not supported on a symbolic tensor"):
        a[a > 0]
