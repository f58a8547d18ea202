"""minigrad.layers: closed forms, one generic battery per layer class, float64 gradchecks,
naming, training inheritance and the "Bad input" errors of issue 5.

References are written here in float64 numpy from the formulas (Keras semantics as recorded
in KERAS_SEMANTICS.md), never produced by the code under test.
"""
import json

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L
from minigrad.layers.base import current_training, to_snake_case
from minigrad.ops.softmax import Softmax as SoftmaxNode

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def rng(seed=0):
    return np.random.default_rng(seed)


def away_from_zero(shape, seed=0, gap=0.05):
    """Values with |x| >= gap, so finite differences never straddle a kink at 0."""
    r = rng(seed)
    return r.choice([-1.0, 1.0], size=shape) * (gap + r.random(shape))


# ---------------------------------------------------------------------------------- naming
@pytest.mark.parametrize("cls, snake", [
    ("Dense", "dense"), ("BatchNormalization", "batch_normalization"), ("ReLU", "re_lu"),
    ("LeakyReLU", "leaky_re_lu"), ("PReLU", "p_re_lu"), ("RReLU", "r_re_lu"), ("ELU", "elu"),
    ("Softmax", "softmax"), ("Dropout", "dropout"), ("Conv2D", "conv2d"),
    ("RandomFlip", "random_flip"),
])
def test_snake_case_follows_keras(cls, snake):
    assert to_snake_case(cls) == snake


def test_names_count_per_class_and_explicit_names_do_not_count():
    class ZzCounterProbe(L.Layer):
        pass

    a, b = ZzCounterProbe(), ZzCounterProbe()
    named = ZzCounterProbe(name="custom")
    c = ZzCounterProbe()
    assert [a.name, b.name, named.name, c.name] == [
        "zz_counter_probe", "zz_counter_probe_1", "custom", "zz_counter_probe_2"]
    d1, d2 = L.Dense(1), L.Dense(1)
    n1 = 0 if d1.name == "dense" else int(d1.name.rsplit("_", 1)[1])
    assert d2.name == f"dense_{n1 + 1}"
    assert L.ReLU().name.startswith("re_lu") and L.PReLU().name.startswith("p_re_lu")
    d = L.Dense(2, name="head")
    d.build((None, 3))
    assert [w.name for w in d.weights] == ["head/kernel", "head/bias"]


# --------------------------------------------------------------------------------- Dense
def _ref_act(name, z):
    return {
        None: lambda: z, "linear": lambda: z, "relu": lambda: np.maximum(z, 0),
        "sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
        "elu": lambda: np.where(z > 0, z, np.expm1(z)),
        "selu": lambda: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(z)),
        "leaky_relu": lambda: np.where(z > 0, z, 0.2 * z),
        "softmax": lambda: np.exp(z - z.max(1, keepdims=True))
        / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True),
    }[name]()


@pytest.mark.parametrize("act", [None, "linear", "relu", "sigmoid", "tanh", "elu", "selu",
                                 "leaky_relu", "softmax"])
def test_dense_equals_x_at_w_plus_b(act):
    x, w, b = rng(1).normal(size=(5, 4)), rng(2).normal(size=(4, 3)), rng(3).normal(size=3)
    d = L.Dense(3, activation=act, dtype="float64")
    d.build((None, 4))
    d.set_weights([w, b])
    y = d(x)
    assert y.dtype == np.float64 and y.shape == (5, 3)
    np.testing.assert_allclose(y.data, _ref_act(act, x @ w + b), rtol=1e-12, atol=1e-12)
    assert d.activation_name == (None if act in (None, "linear") else act)


def test_dense_softmax_is_logits_then_a_softmax_node():
    x, w = rng(1).normal(size=(4, 3)), rng(2).normal(size=(3, 5))
    d = L.Dense(5, activation="softmax", use_bias=False, dtype="float64")
    d.build((None, 3))
    d.set_weights([w])
    y = d(mg.Tensor(x, requires_grad=True))
    assert y._ctx.__class__ is SoftmaxNode
    np.testing.assert_allclose(y._ctx.inputs[0].data, x @ w, rtol=1e-12)


def test_dense_custom_callable_is_applied_not_fused():
    def relu(t):            # named like the built-in, but it is the user's function
        return t * 2.0

    d = L.Dense(2, activation=relu, dtype="float64")
    d.build((None, 3))
    x = rng(0).normal(size=(4, 3))
    w, b = d.get_weights()
    np.testing.assert_allclose(d(x).data, 2 * (x @ w + b), rtol=1e-12)
    assert d.activation_name == "relu"


def test_dense_rank3_input_probe_tag_initialisers_and_input_dim():
    seen = []
    mg.add_probe_listener(lambda tag, kind, a: seen.append((tag, kind, a.shape)))
    d = L.Dense(4, name="probe_me", dtype="float64")
    x = rng(0).normal(size=(2, 5, 3))
    y = d(x)
    w, b = d.get_weights()
    assert y.shape == (2, 5, 4) and d.output_shape == (None, 5, 4)
    np.testing.assert_allclose(y.data, np.einsum("bti,io->bto", x, w) + b, rtol=1e-12)
    # one "output" probe per call, from Layer.__call__ (tests/test_activations.py checks
    # every activation)
    assert seen == [("probe_me", "output", (2, 5, 4))]
    d = L.Dense(3, kernel_initializer="ones", bias_initializer="ones", input_dim=4)
    assert d._input_shape_arg == (4,)
    d.build((None, 4))
    np.testing.assert_array_equal(d.kernel.data, np.ones((4, 3), np.float32))
    assert d.kernel.dtype == np.float32 and d.count_params() == 15


# -------------------------------------------------------------------------- dtype casting
def test_input_cast_to_layer_dtype_and_gradient_flows_through_the_cast():
    d32 = L.Dense(2)
    assert d32(rng(0).normal(size=(3, 4))).dtype == np.float32          # float64 numpy in
    assert d32([[1.0, 2.0, 3.0, 4.0]]).shape == (1, 2)                   # lists too
    d64 = L.Dense(2, dtype="float64")
    x = mg.Tensor(rng(0).normal(size=(3, 4)).astype(np.float32), requires_grad=True)
    y = d64(x)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, np.tile(d64.kernel.data.sum(1), (3, 1)), rtol=1e-6)
    mg.config.set_floatx("float64")               # restored by conftest
    assert L.Dense(2).dtype == "float64" and L.Dense(2, kernel_initializer="ones")(
        np.ones((1, 3))).dtype == np.float64


# --------------------------------------------------------------------- BatchNormalization
def test_batchnorm_training_normalises_with_batch_moments():
    x = rng(0).normal(3.0, 2.5, size=(64, 5))
    bn = L.BatchNormalization(dtype="float64")
    y = bn(x, training=True).data
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(0), np.sqrt(var / (var + 1e-3)), rtol=1e-10)
    assert np.all(np.abs(y.std(0) - 1.0) < 1e-3)


def test_batchnorm_moving_statistics_after_k_steps_match_a_numpy_loop():
    bn = L.BatchNormalization(momentum=0.9, dtype="float64")
    mm, mv = np.zeros(3), np.ones(3)
    for k in range(6):
        x = rng(k).normal(k, 1 + k, size=(16, 3))
        bn(x, training=True)
        mm = mm * 0.9 + x.mean(0) * 0.1
        mv = mv * 0.9 + x.var(0) * 0.1            # biased variance, as Keras
    np.testing.assert_allclose(bn.moving_mean.data, mm, rtol=1e-12)
    np.testing.assert_allclose(bn.moving_variance.data, mv, rtol=1e-12)


def test_batchnorm_inference_uses_moving_statistics_and_frozen_layer_always_does():
    bn = L.BatchNormalization(dtype="float64")
    bn.build((None, 4))
    gamma, beta = rng(1).normal(size=4), rng(2).normal(size=4)
    mm, mv = rng(3).normal(size=4), rng(4).random(4) + 0.5
    bn.set_weights([gamma, beta, mm, mv])
    x = rng(5).normal(size=(8, 4))
    expected = (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12)          # training=None
    bn.trainable = False
    np.testing.assert_allclose(bn(x, training=True).data, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.moving_mean.data, mm)                # not updated
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_batchnorm_axis1_on_rank4_and_center_scale_off():
    x = rng(0).normal(size=(2, 3, 4, 5))
    bn = L.BatchNormalization(axis=1, dtype="float64")
    y = bn(x, training=True).data
    m, v = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - m) / np.sqrt(v + 1e-3), rtol=1e-10, atol=1e-12)
    assert [w.shape for w in bn.weights] == [(3,)] * 4
    bare = L.BatchNormalization(center=False, scale=False)
    bare.build((None, 2))
    assert [w.name.split("/")[1] for w in bare.weights] == ["moving_mean", "moving_variance"]


# --------------------------------------------------------------------------------- Dropout
def test_dropout_layer_applies_the_op_values():
    # the rate statistics are the op's (tests/test_kernels_norm.py); the layer passes the
    # rate through: survivors are scaled by 1/(1 - rate), the rest are zero
    mg.random.seed(0)
    x = np.ones((20, 50), np.float32)
    y = L.Dropout(0.3)(x, training=True).data
    np.testing.assert_array_equal(np.unique(y), np.array([0, np.float32(1 / 0.7)], np.float32))


def test_dropout_is_identity_at_inference_and_rate_one_drops_everything():
    x = mg.Tensor(rng(0).normal(size=(4, 3)).astype(np.float32))
    assert L.Dropout(0.5)(x) is x and L.Dropout(0.5)(x, training=False) is x
    np.testing.assert_array_equal(L.Dropout(1.0)(x, training=True).data, 0.0)


def test_dropout_seeds_and_noise_shape():
    x = np.ones((6, 50), np.float32)
    a, b = L.Dropout(0.5, seed=3), L.Dropout(0.5, seed=3)
    np.testing.assert_array_equal(a(x, training=True).data, b(x, training=True).data)
    free = L.Dropout(0.5)
    mg.random.seed(7)
    first = free(x, training=True).data
    mg.random.seed(7)
    np.testing.assert_array_equal(free(x, training=True).data, first)
    rows = L.Dropout(0.5, noise_shape=(None, 1), seed=1)(x, training=True).data
    assert all(len(set(r)) == 1 for r in rows) and len({r[0] for r in rows}) == 2


@pytest.mark.parametrize("make", [L.Dropout, L.AlphaDropout])
@pytest.mark.parametrize("noise_shape, shape, message", [
    ((None, 1), (6, 4, 3), r"noise_shape \(None, 1\) and the input shape \(6, 4, 3\) have "
                           r"different ranks"),
    ((2, 1), (6, 4), r"noise_shape \(2, 1\) does not broadcast to the input shape \(6, 4\)"),
    # a mask larger than the input would grow the output: refused as Keras's broadcast_to does
    ((None, 5), (6, 1), r"noise_shape \(None, 5\) does not broadcast to the input shape "
                        r"\(6, 1\)"),
])
def test_dropout_layers_resolve_noise_shape_alike(make, noise_shape, shape, message):
    layer = make(0.5, noise_shape=noise_shape, seed=0, name="drop")
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"^{name} 'drop': {message}"):
        layer(np.ones(shape), training=True)
    assert layer(np.ones(shape)).shape == shape          # not checked at inference (as Keras)


@pytest.mark.parametrize("make", [L.Dropout, L.AlphaDropout])
def test_dropout_layers_share_a_mask_along_the_noise_shape_ones(make):
    x = np.random.default_rng(0).normal(size=(8, 5, 3)) + 4.0      # all positive
    y = make(0.5, noise_shape=(None, 1, 3), seed=2, dtype="float64")(x, training=True).data
    assert y.shape == x.shape
    # a dropped entry is 0 (Dropout) or a * alpha' + b < 0 (AlphaDropout): the minimum of y
    dropped = y == y.min()
    kept_value = x / 0.5 if make is L.Dropout else y
    assert (dropped | (y == kept_value)).all()
    assert (dropped == dropped[:, :1, :]).all() and 0 < dropped.mean() < 1


# ------------------------------------------------------------------------- RReLU / PReLU
def test_rrelu_slopes_in_range_when_training_and_fixed_at_inference():
    lower, upper = 0.1, 0.3
    layer = L.RReLU(lower, upper, seed=0, dtype="float64")
    x = -(0.5 + rng(0).random(20000))
    slopes = layer(x, training=True).data / x
    assert slopes.min() >= lower and slopes.max() <= upper
    assert slopes.min() < lower + 0.01 and slopes.max() > upper - 0.01     # spread over it
    assert len(np.unique(slopes)) > 1000                                   # per element
    np.testing.assert_allclose(layer(x).data / x, (lower + upper) / 2, rtol=1e-14)
    pos = 0.5 + rng(1).random(100)
    np.testing.assert_array_equal(layer(pos, training=True).data, pos)


@pytest.mark.parametrize("shape, shared, alpha_shape", [
    ((6, 4), None, (4,)), ((5, 3, 2), [1], (1, 2)), ((5, 3, 2), (1, 2), (1, 1)),
])
def test_prelu_alpha_gradient_is_sum_of_g_times_x_over_negative_x(shape, shared, alpha_shape):
    layer = L.PReLU(shared_axes=shared, dtype="float64")
    layer.build((None,) + shape[1:])
    assert layer.alpha.shape == alpha_shape
    np.testing.assert_array_equal(layer(-np.ones(shape)).data, 0.0)      # alpha=0: a ReLU
    alpha = rng(1).random(alpha_shape)
    layer.set_weights([alpha])
    x, c = away_from_zero(shape, 2), rng(3).normal(size=shape)
    y = layer(x)
    np.testing.assert_allclose(y.data, np.where(x > 0, x, alpha * x), rtol=1e-14)
    (y * c).sum().backward()
    full = np.where(x < 0, c * x, 0.0)
    axes = tuple(i for i in range(len(shape)) if i == 0 or alpha_shape[i - 1] == 1)
    expected = full.sum(axis=axes, keepdims=True).reshape(alpha_shape)
    np.testing.assert_allclose(layer.alpha.grad, expected, rtol=1e-12)


def test_relu_layer_options_follow_keras_formula():
    x = np.linspace(-3, 9, 49)
    y = L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, dtype="float64")(x).data
    pos = np.clip(np.where(x > 0.5, x, 0.0), 0, 6)
    np.testing.assert_allclose(y, pos - 0.1 * np.maximum(0.5 - x, 0), rtol=1e-14)
    np.testing.assert_allclose(L.LeakyReLU(dtype="float64")(x).data, np.where(x > 0, x, .3 * x))
    np.testing.assert_allclose(L.LeakyReLU(alpha=0.1, dtype="float64")(x).data,
                               np.where(x > 0, x, .1 * x))


# ------------------------------------------------------------------ Flatten / Activation
def test_flatten_is_row_major_and_channels_first_moves_channels_last():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(L.Flatten()(x).data, x.reshape(2, 12))
    np.testing.assert_array_equal(L.Flatten("channels_first")(x).data,
                                  x.transpose(0, 2, 1).reshape(2, 12))
    assert L.Flatten()(np.ones(5)).shape == (5, 1)
    assert L.Flatten().compute_output_shape((None, None, 3)) == (None, None)


def test_activation_layer_and_softmax_layer():
    x = rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(L.Activation("tanh", dtype="float64")(x).data, np.tanh(x))
    y = L.Softmax(axis=0, dtype="float64")(x).data
    np.testing.assert_allclose(y, np.exp(x) / np.exp(x).sum(0), rtol=1e-12)
    np.testing.assert_allclose(L.ELU(alpha=0.5, dtype="float64")(x).data,
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-12)


# ------------------------------------------------------------- generic battery, gradcheck
def _relu_option_input(shape, seed):
    # values kept away from the kinks at threshold 0.5 and max_value 6
    return rng(seed).choice([-1.7, -0.6, -0.2, 0.2, 0.9, 2.5, 5.2, 7.0], size=shape)


# key -> (factory(**kwargs), per-sample input shape, weight names, trainable flags, input fn)
SPECS = {
    "Dense": (lambda **k: L.Dense(3, activation="tanh", **k), (4,),
              ["kernel", "bias"], [True, True], None),
    "Dense_softmax": (lambda **k: L.Dense(3, activation="softmax", use_bias=False, **k),
                      (4,), ["kernel"], [True], None),
    "Flatten": (lambda **k: L.Flatten(**k), (2, 3), [], [], None),
    "Activation": (lambda **k: L.Activation("sigmoid", **k), (4,), [], [], None),
    "Dropout": (lambda **k: L.Dropout(0.4, **k), (4,), [], [], None),
    "BatchNormalization": (lambda **k: L.BatchNormalization(**k), (4,),
                           ["gamma", "beta", "moving_mean", "moving_variance"],
                           [True, True, False, False], None),
    "ReLU": (lambda **k: L.ReLU(**k), (4,), [], [], None),
    "ReLU_options": (lambda **k: L.ReLU(6.0, 0.1, 0.5, **k), (4,), [], [],
                     _relu_option_input),
    "LeakyReLU": (lambda **k: L.LeakyReLU(0.1, **k), (4,), [], [], None),
    "PReLU": (lambda **k: L.PReLU(shared_axes=[1], **k), (3, 2), ["alpha"], [True], None),
    "RReLU": (lambda **k: L.RReLU(**k), (4,), [], [], None),
    "ELU": (lambda **k: L.ELU(0.7, **k), (4,), [], [], None),
    "Softmax": (lambda **k: L.Softmax(**k), (4,), [], [], None),
    # issue 13: normalisation, noise and preprocessing layers
    "LayerNormalization": (lambda **k: L.LayerNormalization(**k), (4,), ["gamma", "beta"],
                           [True, True], None),
    "LayerNormalization_axes": (lambda **k: L.LayerNormalization(axis=[1, 2], center=False,
                                                                 **k),
                                (3, 2), ["gamma"], [True], None),
    "UnitNormalization": (lambda **k: L.UnitNormalization(axis=[1], **k), (3, 2), [], [],
                          None),
    "Normalization": (lambda **k: L.Normalization(**k), (4,),
                      ["mean", "variance", "count"], [False, False, False], None),
    "Normalization_given": (lambda **k: L.Normalization(axis=None, mean=0.5, variance=4.0,
                                                        invert=True, **k),
                            (2, 2), [], [], None),
    "Rescaling": (lambda **k: L.Rescaling([0.5, -2.0, 1.5, 3.0], offset=-1.0, **k), (4,), [],
                  [], None),
    "GaussianNoise": (lambda **k: L.GaussianNoise(0.3, **k), (4,), [], [], None),
    "GaussianDropout": (lambda **k: L.GaussianDropout(0.4, **k), (4,), [], [], None),
    "AlphaDropout": (lambda **k: L.AlphaDropout(0.3, **k), (4,), [], [], None),
    "ActivityRegularization": (lambda **k: L.ActivityRegularization(0.1, 0.2, **k), (4,), [],
                               [], None),
    # merge and structure layers (issue 11): a list of per-sample shapes = a list of inputs
    "Add": (lambda **k: L.Add(**k), [(4,), (4,), (4,)], [], [], None),
    "Add_broadcast": (lambda **k: L.Add(**k), [(2, 4), (1, 4)], [], [], None),
    "Subtract": (lambda **k: L.Subtract(**k), [(4,), (4,)], [], [], None),
    "Multiply": (lambda **k: L.Multiply(**k), [(4,), (4,), (4,)], [], [], None),
    "Average": (lambda **k: L.Average(**k), [(4,), (4,), (4,)], [], [], None),
    "Maximum": (lambda **k: L.Maximum(**k), [(4,), (4,), (4,)], [], [], None),
    "Minimum": (lambda **k: L.Minimum(**k), [(4,), (4,)], [], [], None),
    "Concatenate": (lambda **k: L.Concatenate(**k), [(2, 3), (2, 1)], [], [], None),
    "Concatenate_axis1": (lambda **k: L.Concatenate(axis=1, **k), [(2, 3), (4, 3)], [], [],
                          None),
    "Dot": (lambda **k: L.Dot(axes=1, **k), [(4,), (4,)], [], [], None),
    "Dot_rank3": (lambda **k: L.Dot(axes=(2, 1), **k), [(2, 3), (3, 4)], [], [], None),
    "Dot_normalize": (lambda **k: L.Dot(axes=-1, normalize=True, **k), [(2, 3), (5, 3)],
                      [], [], None),
    "Reshape": (lambda **k: L.Reshape((3, -1), **k), (2, 3), [], [], None),
    "Lambda": (lambda **k: L.Lambda(_battery_fn, **k), (4,), [], [], None),
    "Identity": (lambda **k: L.Identity(**k), (4,), [], [], None),
    "InputLayer": (lambda **k: L.InputLayer((4,), **k), (4,), [], [], None),
}


@mg.saving.register_keras_serializable(package="Battery")
def _battery_fn(x):
    return x * x - 0.5 * x


def _several(shape):
    return isinstance(shape, list)


def _make(key, dtype="float64"):
    make, shape, _, _, xfn = SPECS[key]
    layer = make(dtype=dtype)
    if _several(shape):
        layer.build([(None,) + s for s in shape])
        # Maximum/Minimum: distinct values, so no tie sits at a kink
        x = [(xfn or away_from_zero)((3,) + s, 1 + i) + 0.01 * i for i, s in enumerate(shape)]
    else:
        layer.build((None,) + shape)
        x = (xfn or away_from_zero)((3,) + shape, 1)
    # non-default weights, positive so moving variances stay valid
    layer.set_weights([0.5 + rng(i + 10).random(w.shape) for i, w in enumerate(layer.weights)])
    return layer, x


def _tensors(x):
    return [mg.Tensor(a, requires_grad=True) for a in x] if isinstance(x, list) else \
        mg.Tensor(x, requires_grad=True)


def _batched(shape):
    return [(None,) + s for s in shape] if _several(shape) else (None,) + shape


def test_every_layer_class_is_in_the_battery():
    covered = {type(SPECS[k][0]()).__name__ for k in SPECS}
    mine = {n for n in L.LAYERS.names() if "augmentation" not in L.LAYERS.lookup(n).__module__
            and not issubclass(L.LAYERS.lookup(n), mg.models.Model)}   # models: test_model*
    assert mine <= covered, f"no row in SPECS for {mine - covered}"


@pytest.mark.parametrize("key", sorted(SPECS))
def test_battery_build_shapes_weights_config(key):
    _, shape, names, flags, _ = SPECS[key]
    layer, x = _make(key)
    assert layer.built
    out_shape = layer.output_shape
    assert out_shape == layer.compute_output_shape(_batched(shape)) and out_shape[0] is None
    y = layer(x)
    assert y.shape == (3,) + tuple(out_shape[1:]) and y.dtype == np.float64
    assert [w.name.split("/")[1] for w in layer.weights] == names
    assert [w.trainable for w in layer.weights] == flags
    assert layer.trainable_weights == [w for w, f in zip(layer.weights, flags) if f]
    assert layer.non_trainable_weights == [w for w, f in zip(layer.weights, flags) if not f]
    assert layer.count_params() == sum(w.size for w in layer.weights)
    saved = json.loads(json.dumps(L.serialize(layer)))
    clone = L.deserialize(saved)
    assert type(clone) is type(layer) and clone.built
    assert clone.get_config() == layer.get_config()
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, y.data)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("key", sorted(SPECS))
def test_battery_one_sgd_step_changes_exactly_the_trainable_weights(key):
    layer, x = _make(key)
    mg.random.seed(0)
    y = layer(_tensors(x), training=True)
    before = layer.get_weights()             # after the forward: BN moving stats moved there
    (y * rng(5).normal(size=y.shape)).sum().backward()
    mg.optimizers.SGD(0.1).step(layer.trainable_weights)     # no-op when there are none
    for w, old in zip(layer.weights, before):
        if w.trainable:              # plain SGD from the backward's gradient, every entry moved
            np.testing.assert_allclose(w.data, old - 0.1 * w.grad, rtol=1e-15, atol=0)
            assert np.all(w.data != old), w.name
        else:
            assert w.grad is None and np.array_equal(w.data, old), w.name


@pytest.mark.parametrize("key", ["Dense", "BatchNormalization", "PReLU"])
def test_frozen_layer_has_no_trainable_weights_and_gets_no_gradients(key):
    layer, x = _make(key)
    layer.trainable = False
    assert layer.trainable_weights == [] and layer.non_trainable_weights == layer.weights
    (layer(mg.Tensor(x, requires_grad=True), training=True) * 1.5).sum().backward()
    assert all(w.grad is None for w in layer.weights)
    layer.trainable = True
    assert [w.trainable for w in layer.weights] == SPECS[key][3]


GRAD_CASES = [(k, False) for k in sorted(SPECS)] + [
    (k, True) for k in ("BatchNormalization", "Dropout", "RReLU", "GaussianNoise",
                        "GaussianDropout", "AlphaDropout")]


@pytest.mark.parametrize("key, training", GRAD_CASES)
def test_gradcheck_float64(key, training):
    layer, x = _make(key)
    xs = _tensors(x)
    xs = xs if isinstance(xs, list) else [xs]
    c = rng(7).normal(size=(3,) + tuple(layer.output_shape[1:]))
    n = len(xs)

    def fn(*args):
        mg.random.seed(3)            # the same dropout mask / RReLU slopes on every call
        inputs = list(args[:n]) if _several(SPECS[key][1]) else args[0]
        return layer(inputs, training=training) * c

    assert mg.gradcheck(fn, *xs, *layer.weights)


# ---------------------------------------------------------------- training inheritance
class Recorder(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, x, training=False):
        self.seen.append((training, current_training()))
        return x


class Outer(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner, self.explicit, self.dense = Recorder(), Recorder(), L.Dense(2)
        self._layers += [self.inner, self.explicit, self.dense]

    def call(self, x, training=False):
        self.explicit(x, training=False)
        return self.dense(self.inner(x))


def test_training_none_inherits_the_enclosing_call():
    outer = Outer()
    x = np.ones((2, 3))
    outer(x, training=True)
    outer(x)
    assert outer.inner.seen == [(True, True), (False, False)]
    assert outer.explicit.seen == [(False, False), (False, False)]
    outer.inner(x)
    assert outer.inner.seen[-1] == (False, False) and current_training() is False
    # sub-layers tracked in _layers contribute their weights and freeze with the parent
    assert outer.weights == outer.dense.weights and len(outer.trainable_weights) == 2
    outer.trainable = False
    assert outer.dense.trainable is False and not outer.dense.kernel.requires_grad


def test_training_stack_unwinds_after_an_error():
    class Boom(L.Layer):
        def call(self, x, training=False):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Boom()(np.ones((1, 1)), training=True)
    assert current_training() is False


# ------------------------------------------------------------------ losses, constraints
def test_losses_hold_weight_and_activity_terms_built_fresh():
    reg = mg.regularizers
    d = L.Dense(3, kernel_regularizer=reg.l2(0.01), bias_regularizer=reg.l1(0.1),
                activity_regularizer=reg.l2(0.001), dtype="float64")
    d.build((None, 4))
    w, b = rng(1).normal(size=(4, 3)), rng(2).normal(size=3)
    d.set_weights([w, b])
    x = rng(3).normal(size=(5, 4))
    y = d(x)
    d(x)                                          # activity terms: the last call's only
    values = [t.item() for t in d.losses]
    expected = [0.01 * (w**2).sum(), 0.1 * np.abs(b).sum(), 0.001 * (y.data**2).sum() / 5]
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    (d.losses[0] + d.losses[1]).backward()
    np.testing.assert_allclose(d.kernel.grad, 0.02 * w, rtol=1e-12)
    np.testing.assert_allclose(d.bias.grad, 0.1 * np.sign(b), rtol=1e-12)
    d.set_weights([2 * w, b])
    np.testing.assert_allclose(d.losses[0].item(), 0.04 * (w**2).sum(), rtol=1e-12)
    d.trainable = False                           # Keras: frozen weights add no penalty
    assert len(d.losses) == 1


def test_constraints_are_attached_to_parameters_and_survive_the_config():
    d = L.Dense(2, kernel_constraint=mg.constraints.max_norm(1.5))
    d.build((None, 3))
    assert d.kernel.constraint is d.kernel_constraint and d.bias.constraint is None
    clone = L.deserialize(json.loads(json.dumps(L.serialize(d))))
    assert clone.kernel.constraint.get_config() == d.kernel_constraint.get_config()


# ------------------------------------------------------------- input specs and configs
def test_input_spec_object_and_input_shape_arguments():
    spec = mg.Input(shape=(784,))    # Keras 3: a symbolic tensor, batch axis None
    assert spec.shape == (None, 784) and isinstance(spec.node.layer, L.InputLayer)
    assert L.Input(5).shape == (None, 5) and not isinstance(spec, L.Layer)
    flat = L.Flatten(input_shape=[28, 28])
    assert flat._input_shape_arg == (28, 28)
    assert L.deserialize(L.serialize(flat))._input_shape_arg == (28, 28)
    assert L.Dense(2, batch_input_shape=(None, 7))._input_shape_arg == (7,)


def test_get_and_custom_objects():
    assert isinstance(L.get("flatten"), L.Flatten) and isinstance(L.get("ReLU"), L.ReLU)
    d = L.Dense(1)
    assert L.get(d) is d

    def twice(t):
        return t * 2.0

    class Doubler(L.Layer):
        def call(self, x):                       # no training parameter: called without it
            return x * 2.0

    saved = json.loads(json.dumps(L.serialize(L.Dense(2, activation=twice))))
    with pytest.raises(ValueError, match="twice"):
        L.deserialize(saved)
    assert L.deserialize(saved, custom_objects={"twice": twice}).activation is twice
    with pytest.raises(ValueError, match="Doubler"):
        L.deserialize(L.serialize(Doubler()))
    back = L.deserialize(L.serialize(Doubler()), custom_objects={"Doubler": Doubler})
    assert isinstance(back, Doubler) and back(np.ones(2), training=True).data[0] == 2.0
    with pytest.raises(ValueError, match="lambda"):
        L.Dense(2, activation=lambda t: t).get_config()


def test_build_twice_keeps_the_weights_and_checks_the_shape():
    d = L.Dense(2)
    d.build((None, 3))
    kernel = d.kernel
    d.build((None, 3))
    assert d.weights == [kernel, d.bias] and len(d.weights) == 2
    with pytest.raises(ValueError, match="expected axis -1 of size 3"):
        d.build((None, 4))


# ------------------------------------------------------------------------ bad input
def test_wrong_trailing_dimension_names_layer_expected_and_got():
    d = L.Dense(2, name="hidden")
    d(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"'hidden'.*size 3.*\(2, 4\)"):
        d(np.ones((2, 4)))
    bn = L.BatchNormalization(name="bn_check")
    bn.build((None, 5))
    with pytest.raises(ValueError, match=r"'bn_check'.*size 5.*\(4, 6\)"):
        bn(np.ones((4, 6)))
    pr = L.PReLU(name="pr_check")
    pr.build((None, 3, 2))
    with pytest.raises(ValueError, match=r"'pr_check'.*\(5, 3, 3\)"):
        pr(np.ones((5, 3, 3)))
    with pytest.raises(ValueError, match="rank 3"):
        pr(np.ones((5, 6)))
    with pytest.raises(ValueError, match="Dense"):
        L.Dense(2)(np.ones(4))                    # no feature axis


@pytest.mark.parametrize("make, bad", [(L.Dense, u) for u in (0, -3, 2.5, True, "8")]
                         + [(L.Dropout, r) for r in (-0.1, 1.5, float("nan"), "0.5")])
def test_non_positive_units_and_rate_outside_0_1(make, bad):
    if make is L.Dense:        # _checks: a wrong type (2.5, True, "8") is a TypeError
        with pytest.raises(ValueError if type(bad) is int else TypeError, match="units must be"):
            make(bad)
        return
    # _checks: a non-number is a TypeError, a number out of [0, 1] (or NaN) a ValueError
    with pytest.raises(TypeError if isinstance(bad, str) else ValueError,
                       match=r"Dropout .*rate must be"):
        make(bad)


def test_unknown_strings_list_the_valid_names():
    with pytest.raises(ValueError, match="relu"):
        L.Dense(2, activation="relux")
    with pytest.raises(ValueError, match="glorot_uniform"):
        L.Dense(2, kernel_initializer="glorot_unifrom")
    with pytest.raises(ValueError, match="Dense.*BatchNormalization|BatchNormalization.*Dense"):
        L.deserialize({"class_name": "Densse", "config": {}})
    with pytest.raises(ValueError, match="Flatten"):
        L.get("flaten")


def test_set_weights_errors_name_index_and_shapes_and_write_nothing():
    d = L.Dense(3, name="sw")
    with pytest.raises(ValueError, match="not built"):
        d.set_weights([np.ones((2, 3)), np.ones(3)])
    d.build((None, 2))
    old = d.get_weights()
    with pytest.raises(ValueError, match=r"'sw'.*got 1 arrays, expected 2"):
        d.set_weights([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"array 1 \(sw/bias\) has shape \(4,\), expected \(3,\)"):
        d.set_weights([np.zeros((2, 3)), np.ones(4)])
    for w, o in zip(d.get_weights(), old):
        np.testing.assert_array_equal(w, o)
    d.set_weights([np.full((2, 3), 2.0), np.ones(3)])        # float64 in, float32 kept
    assert d.kernel.dtype == np.float32 and d.kernel.data[0, 0] == 2.0


def test_other_bad_arguments():
    with pytest.raises(TypeError, match="Dense.*unitz"):
        L.Dense(2, unitz=3)
    with pytest.raises(AttributeError, match="not been built"):
        _ = L.Dense(2).output_shape
    with pytest.raises(ValueError, match="count_params"):
        L.Dense(2).count_params()
    with pytest.raises(ValueError, match="lower"):
        L.RReLU(lower=0.5, upper=0.1)
    with pytest.raises(ValueError, match="'/'"):
        L.Dense(2, name="a/b")
    with pytest.raises(ValueError, match="float32 or float64"):
        L.Dense(2, dtype="int32")
    with pytest.raises(ValueError, match="shared axis 3"):
        L.PReLU(shared_axes=3).build((None, 4, 5))
    with pytest.raises(ValueError, match="negative_slope"):
        L.LeakyReLU(-1.0)
    with pytest.raises(ValueError, match="positive"):
        L.Input((0, 3))


class _PenalisedTanh(L.Layer):
    """A custom layer adding 0.01 * sum(y^2) / batch with add_loss (what an l2(0.01) activity
    regularizer adds)."""

    def call(self, x):
        y = mg.ops.tanh(x)
        self.add_loss(0.01 * mg.ops.sum(mg.ops.square(y)) / x.shape[0])
        return y


def test_add_loss_joins_the_loss_and_is_cleared_by_the_next_call():
    """Layer.add_loss (Keras 3) was missing: AttributeError in a custom layer's call."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))

    def model(custom):
        mg.random.seed(0)
        act = _PenalisedTanh(dtype="float64") if custom else L.Activation(
            "tanh", activity_regularizer=mg.regularizers.l2(0.01), dtype="float64")
        m = mg.Sequential([mg.Input((3,)), L.Dense(4, dtype="float64"), act,
                           L.Dense(1, dtype="float64")])
        m.compile(mg.optimizers.SGD(0.1), "mse")
        return m

    custom, reference = model(True), model(False)
    k1, b1, k2, b2 = custom.get_weights()
    h = np.tanh(x @ k1 + b1)
    want = np.mean((h @ k2 + b2 - y) ** 2) + 0.01 * np.sum(h ** 2) / 16
    np.testing.assert_allclose(custom.evaluate(x, y, batch_size=16, verbose=0), want,
                               rtol=1e-12)
    custom(x)
    custom(x[:4])
    assert len(custom.losses) == 1          # not one per call
    custom.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(custom.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(TypeError, match="add_loss"):
        _PenalisedTanh().add_loss(0.5)


def test_variables_lists_every_weight_as_keras():
    bn = mg.layers.BatchNormalization()
    bn.build((None, 3))
    assert [v.name for v in bn.variables] == [w.name for w in bn.weights]
    assert len(bn.variables) == 4
