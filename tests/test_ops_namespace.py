"""minigrad.ops as a namespace (Keras 3's keras.ops): every name of API §7 is there, takes
arrays and Tensors, and the non-differentiable functions match numpy / Keras. The gradients of
the differentiable ones are checked in THE op table (tests/test_ops.py)."""
import importlib
import pkgutil

import numpy as np
import pytest

import minigrad as keras
from minigrad import ops
from minigrad.ops.norm import layer_norm, unit_norm


def _words(text):
    return text.split()


API_7 = _words("""
abs add subtract multiply divide power square sqrt exp log log1p maximum minimum clip
where sum mean max min var std argmax argmin matmul dot transpose reshape expand_dims squeeze
concatenate stack one_hot cast logsumexp relu sigmoid tanh softmax log_softmax norm zeros ones
zeros_like ones_like convert_to_tensor convert_to_numpy shape""")
MORE = _words("""
sign negative absolute arange eye identity full full_like linspace greater greater_equal
less less_equal equal not_equal logical_and logical_or logical_not logical_xor floor ceil round
cumsum prod swapaxes moveaxis tile repeat take take_along_axis flip sort argsort split
broadcast_to outer reciprocal log2 log10 expm1 true_divide ravel all any count_nonzero isnan
isinf isfinite stop_gradient ndim size elu selu leaky_relu sin cos pad average trace""")

X = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -2.5]])


def test_every_name_of_api_7_and_the_extras_is_a_function():
    missing = [n for n in API_7 + MORE if not callable(getattr(ops, n, None))]
    assert not missing, f"minigrad.ops lacks {missing}"
    assert set(API_7 + MORE) <= set(dir(ops))
    with pytest.raises(AttributeError, match="no_such_op"):
        ops.no_such_op  # noqa: B018


def test_public_functions_keep_their_names_after_every_module_is_imported():
    """shape, softmax, matmul and norm are also op-module names: importing every module
    (as the op-table guard does) must not rebind them to the modules."""
    import minigrad
    for m in pkgutil.walk_packages(minigrad.__path__, "minigrad."):
        if m.name != "minigrad.__main__":
            importlib.import_module(m.name)
    for name in ("shape", "softmax", "matmul", "norm"):
        assert callable(getattr(ops, name)), name
    assert ops.shape(X) == (2, 3)


# (name, args, kwargs, numpy reference, expected dtype or None for numpy's)
CONSTANT = [
    ("argmax", (X,), {}, lambda: np.argmax(X), np.int32),
    ("argmax", (X,), {"axis": 1, "keepdims": True}, lambda: np.argmax(X, 1, keepdims=True),
     np.int32),
    ("argmin", (X,), {"axis": 0}, lambda: np.argmin(X, 0), np.int32),
    ("argsort", (X,), {}, lambda: np.argsort(X, -1), np.int32),
    ("zeros", ((2, 3),), {}, lambda: np.zeros((2, 3)), np.float32),
    ("ones", (3,), {"dtype": "float64"}, lambda: np.ones(3), np.float64),
    ("full", ((2,), 7), {}, lambda: np.full(2, 7.0), np.float32),
    ("zeros_like", (X,), {}, lambda: np.zeros_like(X), np.float64),
    ("ones_like", (X,), {"dtype": "int32"}, lambda: np.ones_like(X, np.int32), np.int32),
    ("full_like", (X, 2.5), {}, lambda: np.full_like(X, 2.5), np.float64),
    ("eye", (3,), {"M": 4, "k": 1}, lambda: np.eye(3, 4, 1), np.float32),
    ("identity", (2,), {}, lambda: np.eye(2), np.float32),
    ("arange", (5,), {}, lambda: np.arange(5), np.int32),
    ("arange", (1, 2, 0.25), {}, lambda: np.arange(1, 2, 0.25), np.float32),
    ("linspace", (0, 1, 5), {}, lambda: np.linspace(0, 1, 5), np.float32),
    ("sign", (X,), {}, lambda: np.sign(X), np.float64),
    ("floor", (X,), {}, lambda: np.floor(X), np.float64),
    ("ceil", (X,), {}, lambda: np.ceil(X), np.float64),
    ("round", (X * 1.37,), {"decimals": 1}, lambda: np.round(X * 1.37, 1), np.float64),
    ("greater", (X, 0.0), {}, lambda: X > 0, np.bool_),
    ("greater_equal", (X, 0.0), {}, lambda: X >= 0, np.bool_),
    ("less", (X, 0.0), {}, lambda: X < 0, np.bool_),
    ("less_equal", (X, 0.0), {}, lambda: X <= 0, np.bool_),
    ("equal", (X, 0.0), {}, lambda: X == 0, np.bool_),
    ("not_equal", (X, 0.0), {}, lambda: X != 0, np.bool_),
    ("logical_and", (X > 0, X < 2.5), {}, lambda: (X > 0) & (X < 2.5), np.bool_),
    ("logical_or", (X > 2, X < -2), {}, lambda: (X > 2) | (X < -2), np.bool_),
    ("logical_xor", (X > 0, X > 1), {}, lambda: (X > 0) ^ (X > 1), np.bool_),
    ("logical_not", (X > 0,), {}, lambda: ~(X > 0), np.bool_),
    ("isnan", (np.array([np.nan, 1.0]),), {}, lambda: np.array([True, False]), np.bool_),
    ("isinf", (np.array([np.inf, 1.0]),), {}, lambda: np.array([True, False]), np.bool_),
    ("isfinite", (np.array([np.inf, 1.0]),), {}, lambda: np.array([False, True]), np.bool_),
    ("all", (X,), {"axis": 0}, lambda: np.all(X, 0), np.bool_),
    ("any", (X == 3.0,), {}, lambda: np.array(True), np.bool_),
    ("count_nonzero", (X,), {"axis": 1}, lambda: np.array([3, 2]), np.int32),
    ("one_hot", (np.array([0, 2, -1, 3]), 3), {},
     lambda: np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]), np.float32),
    ("one_hot", (np.array([[1, 0]]), 2), {"axis": 0},
     lambda: np.moveaxis(np.eye(2)[[[1, 0]]], -1, 0), np.float32),
]


@pytest.mark.parametrize("name, args, kw, ref, dtype", CONSTANT,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONSTANT)])
def test_constant_functions_match_numpy(name, args, kw, ref, dtype):
    for wrap in (lambda a: a, lambda a: keras.Tensor(a) if isinstance(a, np.ndarray) else a):
        out = getattr(ops, name)(*[wrap(a) for a in args], **kw)
        assert isinstance(out, keras.Tensor) and not out.requires_grad
        assert out.dtype == dtype
        np.testing.assert_array_equal(out.data, ref())


def test_constants_take_floatx(float64_default):
    assert ops.zeros(2).dtype == ops.eye(2).dtype == ops.one_hot([1], 2).dtype == np.float64
    assert ops.arange(0.0, 1.0, 0.5).dtype == np.float64 and ops.arange(3).dtype == np.int32


def test_conversion_shape_and_stop_gradient():
    t = keras.Tensor(X, requires_grad=True)
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor(X).dtype == np.float64                  # arrays keep theirs
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    f32 = ops.convert_to_tensor(t, "float32")
    assert f32.dtype == np.float32 and f32.requires_grad               # a differentiable cast
    (f32 * 2.0).sum().backward()
    np.testing.assert_array_equal(t.grad, np.full(X.shape, 2.0))
    a = ops.convert_to_numpy(t)
    assert type(a) is np.ndarray and not np.shares_memory(a, t.data)
    np.testing.assert_array_equal(a, X)
    assert ops.shape(t) == (2, 3) and ops.ndim(t) == 2 and ops.size(t) == 6
    s = ops.stop_gradient(t)
    assert not s.requires_grad and s.data is t.data


def test_where_with_only_a_condition_gives_the_nonzero_indices():
    rows, cols = ops.where(X > 0)
    np.testing.assert_array_equal(rows.data, np.nonzero(X > 0)[0])
    np.testing.assert_array_equal(cols.data, np.nonzero(X > 0)[1])
    with pytest.raises(ValueError, match="where"):
        ops.where(X > 0, X)


def test_split_and_max_min_initial():
    parts = ops.split(X, 3, axis=1)
    assert [p.shape for p in parts] == [(2, 1)] * 3
    parts = ops.split(np.arange(6.0), [2, 5])
    assert [p.data.tolist() for p in parts] == [[0.0, 1.0], [2.0, 3.0, 4.0], [5.0]]
    np.testing.assert_array_equal(ops.max(X, axis=1, initial=2.5).data, [2.5, 3.0])
    np.testing.assert_array_equal(ops.min(X, initial=-2.0).data, -2.5)
    with pytest.raises(ValueError, match="split"):
        ops.split(X, 2, axis=1)


def test_bad_input_names_the_function_and_the_values():
    with pytest.raises(TypeError, match="one_hot.*integer"):
        ops.one_hot(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="one_hot.*num_classes"):
        ops.one_hot(np.array([0]), 0)
    with pytest.raises(ValueError, match=r"squeeze: axis 1 .*\(2, 3\).*length 3"):
        ops.squeeze(X, 1)
    with pytest.raises(ValueError, match=r"broadcast_to.*\(2, 3\).*\(4, 3\)"):
        ops.broadcast_to(X, (4, 3))
    with pytest.raises(ValueError, match="norm.*'nuc'"):
        ops.norm(X, "nuc")
    with pytest.raises(TypeError, match="norm: ord 'x'"):
        ops.norm(np.ones(3), "x")
    with pytest.raises(ValueError, match="expand_dims.*out of range"):
        ops.expand_dims(X, 5)
    with pytest.raises(TypeError, match="take.*integers"):
        ops.take(X, np.array([0.5]))
    with pytest.raises(ValueError, match="pad: only mode 'constant'"):
        ops.pad(X, 1, mode="reflect")
    with pytest.raises(ValueError, match="pad_width must be non-negative"):
        ops.pad(X, -1)
    with pytest.raises(ValueError, match=r"average: 2 weights for axis 1 of length 3"):
        ops.average(X, 1, np.ones(2))


def huber_fn(y_true, y_pred):
    """The Keras 3 tutorial's custom loss, written with keras.ops."""
    error = y_true - y_pred
    is_small_error = ops.abs(error) < 1
    squared_loss = ops.square(error) / 2
    linear_loss = ops.abs(error) - 0.5
    return ops.where(is_small_error, squared_loss, linear_loss)


_AXIS_OPS = {
    "sum": ops.sum, "mean": ops.mean, "max": ops.max, "var": ops.var, "prod": ops.prod,
    "logsumexp": ops.logsumexp,
    "layer_norm": lambda x, axis: layer_norm(x, axis=axis),
    "unit_norm": lambda x, axis: unit_norm(x, axis=axis),
}


@pytest.mark.parametrize("name", list(_AXIS_OPS))
def test_every_axis_argument_is_checked_by_one_helper(name):
    """Reductions and the row ops share ops._rows.normalize_axes: the same axes, the same
    errors (naming the op, the axis, the rank and the shape)."""
    fn = _AXIS_OPS[name]
    x = np.arange(1.0, 13.0).reshape(3, 4)
    with pytest.raises(ValueError, match=rf"^{name}: axis 2 is out of range for a tensor of "
                                         r"rank 2 \(shape \(3, 4\); an int in \[-2, 2\)"):
        fn(x, 2)
    with pytest.raises(ValueError, match=rf"^{name}: axis \(1, -1\) repeats an axis of a "
                                         r"tensor of rank 2 \(shape \(3, 4\)\)"):
        fn(x, (1, -1))
    for bad in (1.5, True, "0", (0, 1.0)):
        with pytest.raises(TypeError, match=rf"^{name}: axis must be an int or a sequence"):
            fn(x, bad)
    with pytest.raises(ValueError, match=rf"^{name}: needs a tensor of rank >= 1 for axis 0"):
        fn(np.float64(2.0), 0)
    # both spellings of one axis set give the same result
    np.testing.assert_array_equal(fn(x, (-1, 0)).data, fn(x, [1, 0]).data)
    np.testing.assert_array_equal(fn(x, np.int64(-1)).data, fn(x, 1).data)


def test_reductions_take_none_and_the_empty_tuple_the_row_ops_do_not():
    x = np.arange(1.0, 13.0).reshape(3, 4)
    assert ops.sum(x, None).data == x.sum() and ops.max(x).data == 12.0
    np.testing.assert_array_equal(ops.sum(x, ()).data, x)          # numpy: reduce nothing
    np.testing.assert_array_equal(ops.sum(x, -2).data, x.sum(0))
    with pytest.raises(ValueError, match=r"^layer_norm: axis must name at least one axis"):
        layer_norm(x, axis=())
    with pytest.raises(TypeError, match=r"^unit_norm: axis must be an int or a sequence"):
        unit_norm(x, axis=None)
    with pytest.raises(TypeError, match=r"^softmax: axis must be an int, got \(0, 1\)"):
        ops.softmax(x, axis=(0, 1))
    with pytest.raises(ValueError, match=r"^softmax: axis -3 is out of range for a tensor of "
                                         r"rank 2 \(shape \(3, 4\)"):
        ops.softmax(x, axis=-3)


def test_a_loss_written_with_keras_ops_runs_and_is_differentiable():
    """Issue 12: keras.ops.abs & co. were internal. Huber (delta 1): e**2/2 where |e| < 1,
    else |e| - 1/2; d/dy_pred = -e where |e| < 1, else -sign(e)."""
    y_true = np.array([[0.0], [1.0], [4.0], [-3.0]])
    pred = keras.Tensor(np.array([[0.5], [1.2], [1.0], [-1.0]]), requires_grad=True)
    loss = ops.mean(huber_fn(y_true, pred))
    e = y_true - pred.data
    huber = np.where(np.abs(e) < 1, e ** 2 / 2, np.abs(e) - 0.5)
    np.testing.assert_allclose(loss.data, huber.mean(), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(pred.grad, np.where(np.abs(e) < 1, -e, -np.sign(e)) / 4,
                               rtol=1e-12)


def test_a_model_trains_with_a_keras_ops_loss():
    keras.random.seed(0)
    x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1)])
    model.compile(loss=lambda t, p: ops.mean(huber_fn(t, p)),
                  optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.05 * losses[0]
