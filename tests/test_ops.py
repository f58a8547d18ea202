"""THE op table (DESIGN §6): one row per differentiable op, checked three ways.

A row is the minigrad call, an independent float64 numpy reference, the input shapes of each
case (a broadcast pair and a ``()`` case where that means something) and the input domain with
the kinks to stay away from. ``test_value`` compares float64 and float32 outputs with the
reference (dtype kept); ``test_grad`` runs a float64 gradcheck of ``fn(*xs) * C`` with a fixed
random cotangent ``C`` (a plain ``.sum()`` would let a backward that ignores ``g`` pass);
``test_every_function_has_a_row`` fails when a ``Function`` subclass has no row.
"""
import importlib
import math
import pkgutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.function import Function
from minigrad.gradcheck import directional_check, gradcheck
from minigrad.ops import activation, arith, datamap, dropout, linear, noise, reduce, unary

# these module names are also public functions of minigrad.ops: import the modules by path
matmul = importlib.import_module("minigrad.ops.matmul")
norm = importlib.import_module("minigrad.ops.norm")
shape = importlib.import_module("minigrad.ops.shape")
softmax = importlib.import_module("minigrad.ops.softmax")

GAP = 0.05  # distance from every kink: far more than 10 * gradcheck's eps (1e-6)


@dataclass(frozen=True)
class D:
    """Input domain: uniform on [lo, hi], at least GAP away from each kink; ``distinct``
    spreads the values so that no two are within GAP / n (no max/min ties)."""
    lo: float = -2.0
    hi: float = 2.0
    kinks: tuple = ()
    distinct: bool = False


@dataclass
class Row:
    id: str
    op: type               # the Function subclass that must produce the output node
    fn: Callable           # minigrad call: fn(*tensors, **kw)
    ref: Callable          # float64 numpy reference: ref(*arrays, **kw)
    cases: list            # [(input shapes, kw)]
    domain: tuple = (D(),)  # one D per input; the last one repeats
    ok: Callable = None    # predicate on the inputs for kinks of a composite (e.g. x@W+b)
    out_dtype: object = None  # output dtype when it is not the inputs' (Cast)
    tol32: tuple = (1e-5, 1e-6)  # float32 (rtol, atol)
    random: bool = False   # draws depend on the dtype: ref gets dtype=, no f32-vs-f64 grads


def case(*shapes, **kw):
    return (shapes, kw)


PAIRS = [case((3, 4), (3, 4)), case((2, 3, 4), (3, 1)), case((4, 1), (1, 3)), case((), (2, 3))]
UNARY = [case((3, 4)), case(())]
R = np.random.default_rng(1234)   # fixed config arrays (masks, labels, indices)
MASK = R.random((3, 4)) < 0.5
REDUCE = [case((2, 3, 4)), case((2, 3, 4), axis=1), case((2, 3, 4), axis=(0, 2), keepdims=True),
          case((2, 3, 4), axis=-1), case((5,), axis=0, keepdims=True), case(())]


def reducer(name):
    return lambda x, **kw: getattr(x, name)(**kw)


def np_reducer(f):
    return lambda x, axis=None, keepdims=False: f(x, axis=axis, keepdims=keepdims)


# ---- numpy references of the fused ops (float64, written from the formulas)
SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def np_elu(z, alpha=1.0):
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


ACT = {None: lambda z, a: z, "linear": lambda z, a: z,
       "relu": lambda z, a: np.maximum(z, 0),
       "leaky_relu": lambda z, a: np.where(z > 0, z, (0.2 if a is None else a) * z),
       "elu": lambda z, a: np_elu(z, 1.0 if a is None else a),
       "selu": lambda z, a: SELU_S * np_elu(z, SELU_A),
       "sigmoid": lambda z, a: 1 / (1 + np.exp(-z)), "tanh": lambda z, a: np.tanh(z)}


def linear_ref(x, w, b=None, act=None, alpha=None):
    z = x @ w + (0 if b is None else b)
    return ACT[act](z, alpha)


def linear_ok(x, w, b=None, **kw):
    """The pre-activation x@W+b stays GAP away from relu/leaky/elu's kink at 0."""
    return np.min(np.abs(x @ w + (0 if b is None else b))) > GAP


def softmax_ref(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def sce_ref(z, labels, epsilon=None):
    y = labels if labels.shape == z.shape else np.eye(z.shape[-1])[labels]
    if epsilon is None:
        return np.mean(np.sum(-y * log_softmax_ref(z), axis=-1))
    p = np.clip(softmax_ref(z), epsilon, 1 - epsilon)
    return np.mean(np.sum(-y * np.log(p), axis=-1))


def sce_ok(z, labels, epsilon=None):
    """Probabilities stay away from the clip bounds (the clipped form's kinks)."""
    if epsilon is None:
        return True
    p = softmax_ref(z)
    return np.min(np.abs(p - epsilon)) > 0.01 and np.min(np.abs(p - 1 + epsilon)) > 0.01


def bn(x, *p, has="gb", mm=None, mv=None, **kw):
    it = iter(p)
    gamma = next(it) if "g" in has else None
    beta = next(it) if "b" in has else None
    return norm.batch_norm(x, gamma, beta, mm, mv, **kw)


def bn_ref(x, *p, has="gb", mm=None, mv=None, training=False, epsilon=1e-3, axis=-1):
    col = [-1 if i == axis % x.ndim else 1 for i in range(x.ndim)]
    axes = tuple(i for i, n in enumerate(col) if n == 1)
    mean, var = (x.mean(axis=axes), x.var(axis=axes)) if training else (mm, mv)
    y = (x - mean.reshape(col)) / np.sqrt(var.reshape(col) + epsilon)
    p = [a.reshape(col) for a in p]
    y = y * p.pop(0) if "g" in has else y
    return y + p.pop(0) if "b" in has else y


def ln(x, *p, has="gb", **kw):
    it = iter(p)
    gamma = next(it) if "g" in has else None
    beta = next(it) if "b" in has else None
    return norm.layer_norm(x, gamma, beta, **kw)


def ln_ref(x, *p, has="gb", axis=-1, epsilon=1e-3):
    axes = tuple(sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)))
    col = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True)
                                                         + epsilon)
    p = [a.reshape(col) for a in p]
    y = y * p.pop(0) if "g" in has else y
    return y + p.pop(0) if "b" in has else y


def rrelu_train(x, lower=1 / 8, upper=1 / 3, glob=False):
    """Fixed slopes in every forward: a private generator, or the global one reseeded."""
    if glob:
        mg.random.seed(11)
    rng = None if glob else np.random.default_rng(11)
    return activation.rrelu(x, lower, upper, training=True, rng=rng)


def rrelu_train_ref(x, lower=1 / 8, upper=1 / 3, glob=False, dtype=np.float64):
    """The slopes come from the seed alone: read them off a run on -1s of the same dtype."""
    ones = mg.Tensor(-np.ones(x.shape, dtype))
    a = -rrelu_train(ones, lower, upper, glob).data.astype(np.float64)
    assert np.all((lower <= a) & (a <= upper)) and (x.size < 4 or np.ptp(a) > 0)
    return np.where(x > 0, x, a * x)


def _affine_draw(which, noise_shape=None):
    """A draw of RandomAffine's (scale, shift) fixed by a seed (the same in every forward of
    the finite differences); ``which`` says which of the two are drawn."""
    def draw(shape, dtype):
        r = np.random.default_rng(7)
        mask_shape = shape if noise_shape is None else noise_shape
        scale = r.uniform(0.5, 1.5, mask_shape).astype(dtype) if "s" in which else None
        shift = r.normal(size=shape).astype(dtype) if "t" in which else None
        return scale, shift
    return draw


def random_affine(x, which="st", noise_shape=None):
    return noise.RandomAffine.apply(x, draw=_affine_draw(which, noise_shape))


def random_affine_ref(x, which="st", noise_shape=None):
    scale, shift = _affine_draw(which, noise_shape)(x.shape, np.float64)
    y = x if scale is None else x * scale
    return y if shift is None else y + shift


def dropout_train(x, rate=0.4):
    mg.random.seed(5)   # the same mask in every forward of the finite differences
    return dropout.dropout(x, rate, training=True)


def dropout_train_ref(x, rate=0.4, dtype=np.float64):
    """The mask comes from the seed alone: read it off a run on 1s of the same dtype."""
    kept = dropout_train(mg.Tensor(np.ones(x.shape, dtype)), rate).data != 0
    if rate == 1.0:
        assert not kept.any()
        return np.zeros_like(x)
    assert x.size < 10 or 0 < kept.sum() < x.size
    return np.where(kept, x / (1 - rate), 0.0)


LIN = [case((5, 4), (4, 3), (3,), act=a) for a in ACT] + [
    case((5, 4), (4, 3), act="relu"), case((5, 4), (4, 3), act=None),
    case((2, 3, 4), (4, 3), (3,), act="tanh"), case((4,), (4, 3), (3,), act="relu"),
    case((5, 4), (4, 3), (3,), act="leaky_relu", alpha=0.1),
    case((5, 4), (4, 3), (3,), act="elu", alpha=0.5)]
SPARSE = R.integers(0, 5, 6)
SOFT = R.dirichlet(np.ones(5), 6)
BN_STATS = {"mm": R.uniform(-0.5, 0.5, 3), "mv": R.uniform(0.5, 2.0, 3)}
ZEROS = np.array([[1, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1]], dtype=float)  # prod: 1 and 2 zeros


def apart(a, b, **kw):
    """maximum/minimum: the two inputs stay GAP apart (their kink is a == b)."""
    return np.min(np.abs(np.subtract(a, b))) > GAP


def lse_ref(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    y = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return y if keepdims else np.squeeze(y, axis=axis)


def np_norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


TABLE = [
    # ---- arith
    Row("add", arith.Add, lambda a, b: a + b, np.add, PAIRS),
    Row("radd", arith.Add, lambda a: 1.5 + a, lambda a: 1.5 + a, UNARY),
    Row("sub", arith.Sub, lambda a, b: a - b, np.subtract, PAIRS),
    Row("rsub", arith.Sub, lambda a: 1 - a, lambda a: 1 - a, UNARY),
    Row("mul", arith.Mul, lambda a, b: a * b, np.multiply, PAIRS),
    Row("div", arith.Div, lambda a, b: a / b, np.divide, PAIRS,
        (D(), D(-2, 2, kinks=(0.0,)))),
    Row("rdiv", arith.Div, lambda b: 2.0 / b, lambda b: 2.0 / b, UNARY, (D(0.3, 2),)),
    Row("neg", arith.Neg, lambda a: -a, np.negative, UNARY),
    Row("pow", arith.Pow, lambda a, b: a ** b, np.power, PAIRS, (D(0.3, 2), D())),
    Row("pow_const", arith.Pow, lambda a: a ** 3, lambda a: a ** 3, UNARY),
    Row("rpow", arith.Pow, lambda b: 2.0 ** b, lambda b: 2.0 ** b, UNARY),
    # ---- unary
    Row("exp", unary.Exp, lambda x: x.exp(), np.exp, UNARY),
    Row("log", unary.Log, lambda x: x.log(), np.log, UNARY, (D(0.2, 3),)),
    Row("sqrt", unary.Sqrt, lambda x: mg.sqrt(x), np.sqrt, UNARY, (D(0.2, 3),)),
    Row("abs", unary.Abs, lambda x: abs(x), np.abs, UNARY, (D(kinks=(0.0,)),)),
    Row("clip", unary.Clip, lambda x, lo, hi: x.clip(lo, hi), lambda x, lo, hi: np.clip(x, lo, hi),
        [case((3, 4), lo=-0.5, hi=0.7), case((), lo=-0.5, hi=0.7),
         case((3, 4), lo=None, hi=0.3), case((3, 4), lo=-0.2, hi=None)],
        (D(kinks=(-0.5, -0.2, 0.3, 0.7)),)),
    # ---- reduce
    Row("sum", reduce.Sum, reducer("sum"), np_reducer(np.sum), REDUCE),
    Row("mean", reduce.Mean, reducer("mean"), np_reducer(np.mean), REDUCE),
    Row("max", reduce.Max, reducer("max"), np_reducer(np.max), REDUCE, (D(distinct=True),)),
    Row("min", reduce.Min, reducer("min"), np_reducer(np.min), REDUCE, (D(distinct=True),)),
    Row("var", reduce.Var, reducer("var"), np_reducer(np.var), REDUCE),
    # ---- shape
    Row("reshape", shape.Reshape, lambda x, s: x.reshape(s), lambda x, s: x.reshape(s),
        [case((2, 3, 4), s=(4, 6)), case((6,), s=(2, -1)), case((), s=(1, 1))]),
    Row("flatten", shape.Reshape, lambda x, d: x.flatten(d),
        lambda x, d: x.reshape(x.shape[:d] + (-1,)), [case((2, 3, 4), d=1), case((2, 3), d=0)]),
    Row("transpose", shape.Transpose,
        lambda x, axes: x.T if axes is None else x.transpose(*axes),
        lambda x, axes: np.transpose(x, axes or None),
        [case((2, 3, 4), axes=(2, 0, 1)), case((2, 3, 4), axes=(-1, 0, 1)),
         case((3, 4), axes=None), case((2, 3, 4), axes=())]),
    Row("getitem", shape.GetItem, lambda x, i: x[i], lambda x, i: x[i],
        [case((4, 5), i=(slice(1, None), slice(None, None, 2))), case((3, 4, 2), i=(..., 1)),
         case((4, 5), i=0), case((4, 5), i=(None, slice(None), slice(1, 3)))]),
    Row("getitem_int_array", shape.GetItem, lambda x, i: x[i], lambda x, i: x[i],
        [case((4, 3), i=np.array([0, 2, 0, 1, 0])), case((4, 3), i=[3, 3]),
         case((4, 3), i=(np.array([[0, 1], [1, 1]]), 2)),
         case((4, 3, 2), i=(np.array([2, 0, 2]), slice(1, 3))),
         case((3, 4), i=MASK)]),
    Row("concatenate", shape.Concatenate, lambda *xs, axis: mg.concatenate(xs, axis=axis),
        lambda *xs, axis: np.concatenate(xs, axis=axis),
        [case((2, 3), (4, 3), (1, 3), axis=0), case((2, 1), (2, 3), axis=-1)]),
    Row("stack", shape.Stack, lambda *xs, axis: mg.stack(xs, axis=axis),
        lambda *xs, axis: np.stack(xs, axis=axis),
        [case((2, 3), (2, 3), (2, 3), axis=0), case((2, 3), (2, 3), axis=-1)]),
    Row("where", shape.Where, lambda a, b, c: mg.where(c, a, b), lambda a, b, c: np.where(c, a, b),
        [case((3, 4), (3, 4), c=MASK), case((3, 1), (4,), c=MASK), case((), (3, 4), c=MASK)]),
    Row("where_scalar", shape.Where, lambda a, c: mg.where(c, a, 0.5),
        lambda a, c: np.where(c, a, 0.5), [case((3, 4), c=MASK)]),
    Row("cast", shape.Cast, lambda x: mg.cast(x, "float64"), lambda x: x, UNARY,
        out_dtype=np.float64),
    # ---- matmul
    Row("matmul", matmul.MatMul, lambda a, b: a @ b, np.matmul,
        [case((3, 4), (4, 5)), case((2, 3, 4), (4, 5)), case((2, 1, 3, 4), (3, 4, 2)),
         case((4,), (4, 5)), case((3, 4), (4,)), case((4,), (4,))]),
    Row("rmatmul", matmul.MatMul, lambda b: np.ones((2, 3), b.dtype) @ b,
        lambda b: np.ones((2, 3)) @ b,
        [case((3, 4))]),
    # ---- activation
    Row("relu", activation.Relu, lambda x: x.relu(), lambda x: np.maximum(x, 0), UNARY,
        (D(kinks=(0.0,)),)),
    Row("leaky_relu", activation.LeakyRelu, lambda x, **kw: activation.leaky_relu(x, **kw),
        lambda x, negative_slope=0.2: np.where(x > 0, x, negative_slope * x),
        UNARY + [case((3, 4), negative_slope=0.3), case((3, 4), negative_slope=-0.5)],
        (D(kinks=(0.0,)),)),
    Row("elu", activation.Elu, lambda x, **kw: activation.elu(x, **kw), np_elu,
        UNARY + [case((3, 4), alpha=0.5), case((3, 4), alpha=-0.5)], (D(kinks=(0.0,)),)),
    Row("selu", activation.Selu, activation.selu, lambda x: ACT["selu"](x, None), UNARY,
        (D(kinks=(0.0,)),)),
    Row("sigmoid", activation.Sigmoid, lambda x: x.sigmoid(), lambda x: ACT["sigmoid"](x, 0),
        UNARY, (D(-6, 6),)),
    Row("sigmoid_far", activation.Sigmoid, activation.sigmoid, lambda x: ACT["sigmoid"](x, 0),
        UNARY, (D(-80, 80, kinks=(0.0,)),)),   # exp never overflows on either side
    Row("tanh", activation.Tanh, lambda x: x.tanh(), np.tanh, UNARY, (D(-3, 3),)),
    Row("prelu", activation.Prelu, activation.prelu, lambda x, a: np.where(x > 0, x, a * x),
        [case((4, 3), (3,)), case((2, 3, 4), (3, 1)), case((4, 3), (4, 3)), case((5,), (1,)),
         case((2, 3), ())], (D(kinks=(0.0,)), D(0.05, 0.8))),
    Row("rrelu", activation.Rrelu, lambda x, **kw: activation.rrelu(x, **kw),
        lambda x, lower=1 / 8, upper=1 / 3, training=False:
            np.where(x > 0, x, (lower + upper) / 2 * x),
        UNARY + [case((3, 4), lower=0.1, upper=0.4)], (D(kinks=(0.0,)),)),
    Row("rrelu_train", activation.Rrelu, rrelu_train, rrelu_train_ref,
        [case((6, 5)), case((6, 5), lower=0.05, upper=0.5), case(()), case((4, 5), glob=True)],
        (D(kinks=(0.0,)),),
        random=True),
    # ---- linear: every fused activation, no bias, leading axes, a 1-D input, alpha
    Row("linear", linear.Linear,
        lambda x, w, b=None, act=None, alpha=None: linear.linear(x, w, b, act, alpha=alpha),
        linear_ref, LIN, ok=linear_ok, tol32=(1e-5, 1e-5)),
    # ---- softmax
    Row("softmax", softmax.Softmax, lambda x, axis: x.softmax(axis), softmax_ref,
        [case((4, 5), axis=-1), case((3, 4, 5), axis=1), case((5,), axis=0), case((4, 5), axis=0),
         case((4, 1), axis=-1)], (D(-3, 3),)),
    Row("log_softmax", softmax.LogSoftmax, lambda x, axis: x.log_softmax(axis), log_softmax_ref,
        [case((4, 5), axis=-1), case((3, 4, 5), axis=1), case((5,), axis=0), case((4, 5), axis=0)],
        (D(-3, 3),)),
    Row("softmax_cross_entropy", softmax.SoftmaxCrossEntropy,
        lambda z, **kw: softmax.softmax_cross_entropy(z, **kw), sce_ref,
        [case((6, 5), labels=SPARSE), case((6, 5), labels=np.eye(5)[SPARSE]),
         case((6, 5), labels=SOFT), case((2, 3, 5), labels=SPARSE.reshape(2, 3)),
         case((6, 5), labels=SPARSE, epsilon=1e-7), case((6, 5), labels=SOFT, epsilon=1e-7),
         case((6, 5), labels=SOFT, epsilon=0.1), case((6, 5), labels=SPARSE, epsilon=0.1)],
        (D(-3, 3),), ok=sce_ok),
    Row("dropout", dropout.Dropout, dropout_train, dropout_train_ref,
        [case((6, 5)), case((6, 5), rate=0.8), case((), rate=0.5), case((3, 4), rate=1.0)],
        random=True),
    Row("random_affine", noise.RandomAffine, random_affine, random_affine_ref,
        [case((6, 5)), case((6, 5), which="s"), case((6, 5), which="t"),
         case((6, 5), which="s", noise_shape=(6, 1)), case((), which="st")]),
    # ---- batch norm: training (batch statistics) and inference, with/without gamma, beta
    Row("batch_norm", norm.BatchNorm, bn, bn_ref,
        [case((6, 3), (3,), (3,), training=True, **BN_STATS),
         case((6, 3), training=True, has="", **BN_STATS),
         case((6, 3), (3,), training=True, has="g", **BN_STATS),
         case((6, 3), (3,), training=True, has="b", **BN_STATS),
         case((4, 3, 2), (3,), (3,), training=True, axis=1, **BN_STATS),
         case((6, 3), (3,), (3,), training=False, **BN_STATS),
         case((6, 3), training=False, has="", **BN_STATS),
         case((2, 3, 2), (3,), training=False, has="b", axis=-2, **BN_STATS)],
        (D(), D(0.5, 1.5), D(-1, 1)), tol32=(1e-4, 1e-5)),
    # ---- the ops added with the public minigrad.ops namespace
    Row("maximum", arith.Maximum, ops.maximum, np.maximum, PAIRS, ok=apart),
    Row("minimum", arith.Minimum, ops.minimum, np.minimum, PAIRS, ok=apart),
    Row("log1p", unary.Log1p, ops.log1p, np.log1p, UNARY, (D(-0.8, 3),)),
    Row("expm1", unary.Expm1, ops.expm1, np.expm1, UNARY),
    Row("prod", reduce.Prod, lambda x, **kw: ops.prod(x, **kw), np_reducer(np.prod), REDUCE),
    Row("prod_with_zeros", reduce.Prod,
        lambda x, axis: ops.prod(x * ZEROS.astype(x.dtype), axis=axis),
        lambda x, axis: np.prod(x * ZEROS, axis=axis), [case((3, 4), axis=1),
                                                         case((3, 4), axis=None)]),
    Row("norm", reduce.Norm, lambda x, **kw: ops.norm(x, **kw), np_norm,
        [case((3, 4)), case((3, 4), axis=1), case((2, 3, 4), axis=(0, 2), keepdims=True),
         case((5,), ord=2), case((3, 4), ord="fro"), case((2, 3, 4), axis=-1, keepdims=True)]),
    Row("norm_l1", reduce.Sum, lambda x, **kw: ops.norm(x, **kw), np_norm,
        [case((5,), ord=1), case((3, 4), ord=1, axis=0)], (D(kinks=(0.0,)),)),
    Row("norm_inf", reduce.Max, lambda x, **kw: ops.norm(x, **kw), np_norm,
        [case((5,), ord=np.inf), case((3, 4), ord=np.inf, axis=1),
         case((3, 4), ord=1), case((3, 4), ord=np.inf)], (D(distinct=True),)),
    Row("norm_min", reduce.Min, lambda x, **kw: ops.norm(x, **kw), np_norm,
        [case((5,), ord=-np.inf), case((3, 4), ord=-1), case((3, 4), ord=-np.inf)],
        (D(0.1, 2, distinct=True),)),
    Row("norm_p", arith.Pow, lambda x, **kw: ops.norm(x, **kw), np_norm,
        [case((5,), ord=3), case((3, 4), ord=0.5, axis=1)], (D(kinks=(0.0,)),)),
    Row("cumsum", reduce.Cumsum, lambda x, **kw: ops.cumsum(x, **kw),
        lambda x, axis=None: np.cumsum(x, axis),
        [case((3, 4), axis=1), case((2, 3, 4), axis=0), case((5,), axis=-1), case((2, 3))]),
    Row("broadcast_to", shape.BroadcastTo, lambda x, s: ops.broadcast_to(x, s),
        lambda x, s: np.broadcast_to(x, s),
        [case((3, 1), s=(2, 3, 4)), case((), s=(2, 2)), case((4,), s=(3, 4))]),
    Row("square", arith.Mul, ops.square, np.square, UNARY),
    Row("reciprocal", arith.Div, ops.reciprocal, np.reciprocal, UNARY, (D(0.3, 2),)),
    Row("log2", arith.Mul, ops.log2, np.log2, UNARY, (D(0.2, 3),)),
    Row("log10", arith.Mul, ops.log10, np.log10, UNARY, (D(0.2, 3),)),
    Row("std", unary.Sqrt, lambda x, **kw: ops.std(x, **kw), np_reducer(np.std), REDUCE[:-1]),
    Row("logsumexp", arith.Add, lambda x, **kw: ops.logsumexp(x, **kw), lse_ref,
        [case((3, 4)), case((3, 4), axis=1), case((2, 3, 4), axis=(0, 2), keepdims=True),
         case(())], (D(-3, 3),)),
    Row("max_initial", arith.Maximum, lambda x, **kw: ops.max(x, **kw),
        lambda x, axis, initial: np.max(x, axis=axis, initial=initial),
        [case((3, 4), axis=1, initial=0.3)], (D(distinct=True),),
        ok=lambda x, **kw: np.min(np.abs(x.max(axis=1) - 0.3)) > GAP),
    Row("dot", matmul.MatMul, ops.dot, np.dot,
        [case((3, 4), (4, 5)), case((4,), (4, 2)), case((2, 3, 4), (4,))]),
    Row("dot_nd", shape.Reshape, ops.dot, np.dot, [case((2, 3, 4), (5, 4, 2)),
                                                  case((4,), (2, 4, 3))]),
    Row("dot_scalar", arith.Mul, ops.dot, np.dot, [case((), (2, 3))]),
    Row("outer", arith.Mul, ops.outer, np.outer, [case((3,), (4,)), case((2, 2), (3,))]),
    Row("expand_dims", shape.Reshape, lambda x, axis: ops.expand_dims(x, axis),
        lambda x, axis: np.expand_dims(x, axis),
        [case((3, 4), axis=1), case((3, 4), axis=-1), case((3,), axis=(0, 2))]),
    Row("squeeze", shape.Reshape, lambda x, **kw: ops.squeeze(x, **kw),
        lambda x, axis=None: np.squeeze(x, axis), [case((3, 1, 4, 1)), case((1, 3, 1), axis=0)]),
    Row("swapaxes", shape.Transpose, lambda x, a, b: ops.swapaxes(x, a, b),
        lambda x, a, b: np.swapaxes(x, a, b), [case((2, 3, 4), a=0, b=2), case((3, 4), a=-1, b=0)]),
    Row("moveaxis", shape.Transpose, lambda x, s, d: ops.moveaxis(x, s, d),
        lambda x, s, d: np.moveaxis(x, s, d),
        [case((2, 3, 4), s=0, d=-1), case((2, 3, 4, 5), s=(0, 3), d=(2, 0))]),
    Row("flip", shape.GetItem, lambda x, axis: ops.flip(x, axis), lambda x, axis: np.flip(x, axis),
        [case((3, 4), axis=None), case((3, 4), axis=1), case((2, 3, 4), axis=(0, 2))]),
    Row("take", shape.GetItem, lambda x, i, axis=None: ops.take(x, i, axis),
        lambda x, i, axis=None: np.take(x, i, axis),
        [case((4, 3), i=np.array([2, 0, 2]), axis=0), case((4, 3), i=np.array([[1, 0], [2, 2]]),
                                                             axis=1),
         case((2, 3), i=np.array([5, 0, 5]))]),
    Row("take_along_axis", shape.GetItem, lambda x, i, axis: ops.take_along_axis(x, i, axis),
        lambda x, i, axis: np.take_along_axis(x, i, axis),
        [case((3, 4), i=R.integers(0, 4, (3, 2)), axis=1),
         case((3, 4), i=R.integers(0, 3, (2, 4)), axis=0)]),
    Row("repeat", shape.GetItem, lambda x, r, axis=None: ops.repeat(x, r, axis),
        lambda x, r, axis=None: np.repeat(x, r, axis),
        [case((2, 3), r=2, axis=1), case((2, 3), r=np.array([1, 0, 3]), axis=1),
         case((2, 3), r=2)]),
    Row("tile", shape.GetItem, lambda x, r: ops.tile(x, r), lambda x, r: np.tile(x, r),
        [case((2, 3), r=(2, 1)), case((3,), r=(2, 2)), case((2, 3), r=3)]),
    Row("sin", unary.Sin, ops.sin, np.sin, UNARY, (D(-4, 4),)),
    Row("cos", unary.Cos, ops.cos, np.cos, UNARY, (D(-4, 4),)),
    Row("pad", shape.Concatenate, lambda x, **kw: ops.pad(x, **kw),
        lambda x, **kw: np.pad(x, **kw),
        [case((2, 3), pad_width=((1, 2), (0, 1))), case((3,), pad_width=2, constant_values=1.5),
         case((2, 3, 2), pad_width=(0, 1))]),
    Row("average", arith.Div, lambda x, w=None, axis=None: ops.average(x, axis, w),
        lambda x, w=None, axis=None: np.average(x, axis, w),
        [case((3, 4), w=R.uniform(0.5, 1.5, (3, 4))), case((3, 4), w=R.uniform(0.5, 1.5, 4),
                                                             axis=1),
         case((3, 4), w=R.uniform(0.5, 1.5, 3), axis=0)]),
    Row("trace", reduce.Sum, lambda x, **kw: ops.trace(x, **kw),
        lambda x, **kw: np.trace(x, **kw),
        [case((3, 4)), case((3, 4), offset=1), case((4, 3), offset=-2),
         case((2, 3, 3), axis1=1, axis2=2)]),
    Row("sort", shape.GetItem, lambda x, axis: ops.sort(x, axis), lambda x, axis: np.sort(x, axis),
        [case((3, 5), axis=-1), case((4, 3), axis=0)], (D(distinct=True),)),
]

# ---- Keras 3's other activations (issue 13): closed-form float64 references


def np_softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_gelu(x, approximate=False):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf, otypes=[float])(x / np.sqrt(2)))


def np_sparsemax(x, axis=-1):
    """Row by row: sort, find the support size k, tau = (top-k sum - 1) / k."""
    z = np.moveaxis(x, axis, -1)
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape[:-1]):
        s = np.sort(z[idx])[::-1]
        k = max(j for j in range(1, s.size + 1) if 1 + j * s[j - 1] > s[:j].sum())
        out[idx] = np.maximum(z[idx] - (s[:k].sum() - 1) / k, 0)
    return np.moveaxis(out, -1, axis)


def sparsemax_ok(x, axis=-1):
    """Every element GAP away from the support boundary x = tau (the Jacobian's kinks)."""
    z = np.moveaxis(x, axis, -1)
    y = np.moveaxis(np_sparsemax(x, axis), axis, -1)
    tau = (z - y)[y > 0]
    taus = np.where(y > 0, z - y, np.nan)
    tau_row = np.nanmax(taus, axis=-1, keepdims=True)
    return tau.size > 0 and np.min(np.abs(z - tau_row)) > GAP


def np_glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * np_sigmoid(b)


ACT_MORE = {"relu6": lambda z, a: np.clip(z, 0, 6), "softplus": lambda z, a: np_softplus(z),
            "gelu": lambda z, a: np_gelu(z), "silu": lambda z, a: z * np_sigmoid(z),
            "mish": lambda z, a: z * np.tanh(np_softplus(z))}


def linear_more_ref(x, w, b=None, act=None):
    return ACT_MORE[act](x @ w + (0 if b is None else b), None)


def linear_more_ok(x, w, b=None, **kw):
    """x@W+b away from relu6's kinks at 0 and 6."""
    z = x @ w + (0 if b is None else b)
    return np.min(np.abs(z)) > GAP and np.min(np.abs(z - 6)) > GAP


TABLE += [
    Row("celu", activation.Celu, lambda x, **kw: activation.celu(x, **kw),
        lambda x, alpha=1.0: np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha),
        UNARY + [case((3, 4), alpha=2.0), case((3, 4), alpha=-0.5)], (D(kinks=(0.0,)),)),
    Row("gelu", activation.Gelu, lambda x, **kw: activation.gelu(x, **kw), np_gelu,
        UNARY + [case((3, 4), approximate=True)], (D(-4, 4),)),
    Row("glu", activation.Glu, lambda x, **kw: activation.glu(x, **kw), np_glu,
        [case((3, 4)), case((2, 5), axis=0), case((2, 4, 3), axis=1), case((6,))], (D(-3, 3),)),
    Row("hard_shrink", activation.Shrink, lambda x, **kw: activation.hard_shrink(x, **kw),
        lambda x, threshold=0.5: np.where(np.abs(x) > threshold, x, 0.0),
        UNARY + [case((3, 4), threshold=1.2)], (D(kinks=(-1.2, -0.5, 0.5, 1.2)),)),
    Row("soft_shrink", activation.Shrink, lambda x, **kw: activation.soft_shrink(x, **kw),
        lambda x, threshold=0.5: np.sign(x) * np.maximum(np.abs(x) - threshold, 0),
        UNARY + [case((3, 4), threshold=1.2)], (D(kinks=(-1.2, -0.5, 0.5, 1.2)),)),
    Row("hard_sigmoid", activation.HardSigmoid, activation.hard_sigmoid,
        lambda x: np.clip(x / 6 + 0.5, 0, 1), UNARY, (D(-5, 5, kinks=(-3.0, 3.0)),)),
    Row("hard_silu", activation.HardSilu, activation.hard_silu,
        lambda x: x * np.clip(x / 6 + 0.5, 0, 1), UNARY, (D(-5, 5, kinks=(-3.0, 3.0)),)),
    Row("hard_tanh", activation.HardTanh, activation.hard_tanh, lambda x: np.clip(x, -1, 1),
        UNARY, (D(kinks=(-1.0, 1.0)),)),
    Row("log_sigmoid", activation.LogSigmoid, activation.log_sigmoid,
        lambda x: -np_softplus(-x), UNARY, (D(-30, 30),)),
    Row("mish", activation.Mish, activation.mish, lambda x: x * np.tanh(np_softplus(x)), UNARY,
        (D(-5, 5),)),
    Row("relu6", activation.Relu6, activation.relu6, lambda x: np.clip(x, 0, 6), UNARY,
        (D(-2, 8, kinks=(0.0, 6.0)),)),
    Row("silu", activation.Silu, activation.silu, lambda x: x * np_sigmoid(x), UNARY,
        (D(-6, 6),)),
    Row("softplus", activation.Softplus, activation.softplus, np_softplus, UNARY, (D(-30, 30),)),
    Row("softsign", activation.Softsign, activation.softsign, lambda x: x / (1 + np.abs(x)),
        UNARY, (D(kinks=(0.0,)),)),
    Row("sparse_plus", activation.SparsePlus, activation.sparse_plus,
        lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)), UNARY,
        (D(-3, 3, kinks=(-1.0, 1.0)),)),
    Row("sparse_sigmoid", activation.SparseSigmoid, activation.sparse_sigmoid,
        lambda x: np.clip((x + 1) / 2, 0, 1), UNARY, (D(-3, 3, kinks=(-1.0, 1.0)),)),
    Row("sparsemax", activation.Sparsemax, lambda x, **kw: activation.sparsemax(x, **kw),
        np_sparsemax, [case((4, 5)), case((3, 4, 5), axis=1), case((6,), axis=0)],
        (D(-2, 2, distinct=True),), ok=sparsemax_ok),
    Row("squareplus", activation.Squareplus, lambda x, **kw: activation.squareplus(x, **kw),
        lambda x, b=4: (x + np.sqrt(x * x + b)) / 2, UNARY + [case((3, 4), b=0.5)]),
    Row("tanh_shrink", activation.TanhShrink, activation.tanh_shrink, lambda x: x - np.tanh(x),
        UNARY, (D(-3, 3),)),
    Row("threshold", activation.Threshold, lambda x, **kw: activation.threshold(x, **kw),
        lambda x, threshold, default_value: np.where(x > threshold, x, default_value),
        [case((3, 4), threshold=0.3, default_value=-2.0),
         case((), threshold=-0.5, default_value=0.0)], (D(kinks=(-0.5, 0.3)),)),
    # the fused linear with the epilogues added for issue 13 (y-derivable and z-saving)
    Row("linear_more", linear.Linear,
        lambda x, w, b=None, act=None: linear.linear(x, w, b, act), linear_more_ref,
        [case((5, 4), (4, 3), (3,), act=a) for a in ACT_MORE]
        + [case((2, 3, 4), (4, 3), (3,), act="gelu"), case((5, 4), (4, 3), act="silu")],
        (D(-1.5, 1.5),), ok=linear_more_ok, tol32=(1e-5, 1e-5)),
    # ---- layer norm (per-sample statistics over the feature axes) and unit (L2) norm
    Row("layer_norm", norm.LayerNorm, lambda x, *p, **kw: ln(x, *p, **kw), ln_ref,
        [case((5, 4), (4,), (4,)), case((5, 4), has=""), case((5, 4), (4,), has="g"),
         case((2, 3, 4), (3, 4), (3, 4), axis=(1, 2)), case((3, 4, 2), (4,), has="b", axis=1),
         case((2, 3, 4), (2, 4), (2, 4), axis=(0, 2), epsilon=0.5)],
        (D(), D(0.5, 1.5), D(-1, 1)), tol32=(1e-4, 1e-5)),
    Row("unit_norm", norm.UnitNorm, lambda x, **kw: norm.unit_norm(x, **kw),
        lambda x, axis=-1: x / np.sqrt(np.sum(x * x, axis=axis, keepdims=True)),
        [case((4, 5)), case((2, 3, 4), axis=1), case((2, 3, 4), axis=(0, 2)), case((6,))],
        (D(0.2, 2),)),
]

CASES = [pytest.param(row, i, id=f"{row.id}-{i}") for row in TABLE for i in range(len(row.cases))]


# ---------------------------------------------------------------------------- inputs


def _sample(rng, shape, dom):
    n = int(np.prod(shape))
    if dom.distinct:
        u = (rng.permutation(n) + rng.uniform(0.1, 0.9, n)) / n
        return (dom.lo + (dom.hi - dom.lo) * u).reshape(shape)
    x = np.asarray(rng.uniform(dom.lo, dom.hi, shape))
    for _ in range(200):
        bad = np.zeros(x.shape, dtype=bool)
        for k in dom.kinks:
            bad |= np.abs(x - k) < GAP
        if not bad.any():
            return x
        x = np.where(bad, rng.uniform(dom.lo, dom.hi, shape), x)
    raise AssertionError(f"could not sample {shape} away from kinks {dom.kinks}")


def _rng(row, i, what):
    return np.random.default_rng(zlib.crc32(f"{row.id}/{i}/{what}".encode()))


def inputs(row, i):
    """float64 inputs of case i, inside the row's domain and away from its kinks."""
    shapes, kw = row.cases[i]
    rng = _rng(row, i, "x")
    for _ in range(100):
        xs = [_sample(rng, s, row.domain[min(j, len(row.domain) - 1)])
              for j, s in enumerate(shapes)]
        if row.ok is None or row.ok(*xs, **kw):
            return xs
    raise AssertionError(f"{row.id}: no inputs satisfy the row's kink predicate")


def kwargs(row, i, dtype):
    """The case's config, float arrays cast to ``dtype`` and copied (some ops update them)."""
    out = {}
    for k, v in row.cases[i][1].items():
        if isinstance(v, np.ndarray):
            v = v.astype(dtype) if v.dtype.kind == "f" else v.copy()
        out[k] = v
    return out


def cotangent(row, i, shape):
    return _rng(row, i, "C").standard_normal(shape)


def run(row, i, xs, dtype, requires_grad=True):
    ts = [mg.Tensor(x.astype(dtype), requires_grad=requires_grad) for x in xs]
    return ts, row.fn(*ts, **kwargs(row, i, dtype))


# ---------------------------------------------------------------------------- tests


@pytest.mark.parametrize("row, i", CASES)
def test_value(row, i):
    xs = inputs(row, i)
    for dtype, (rtol, atol) in ((np.float64, (1e-10, 1e-12)), (np.float32, row.tol32)):
        # the reference sees the same (rounded) inputs, so only the op's own error counts
        kw = kwargs(row, i, np.float64)
        if row.random:
            kw["dtype"] = dtype
        expected = row.ref(*[x.astype(dtype).astype(np.float64) for x in xs], **kw)
        _, out = run(row, i, xs, dtype)
        assert type(out.grad_fn) is row.op, f"{row.id}: output made by {type(out.grad_fn)}"
        assert out.dtype == np.dtype(row.out_dtype or dtype)
        assert out.shape == np.shape(expected)
        np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("row, i", CASES)
def test_grad(row, i):
    xs = inputs(row, i)
    ts = [mg.Tensor(x, requires_grad=True) for x in xs]
    kw = kwargs(row, i, np.float64)
    c = cotangent(row, i, row.fn(*ts, **kw).shape)
    assert gradcheck(lambda *a: row.fn(*a, **kw) * c, *ts, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("row, i", CASES)
def test_grad_float32_and_partial(row, i):
    """float32 gradients keep the dtype and agree with float64; with only input j requiring
    grad (the ``needs_input_grad`` branches), input j gets the same gradient."""
    xs = inputs(row, i)
    ts64, out = run(row, i, xs, np.float64)
    c = cotangent(row, i, out.shape)
    out.backward(c)
    ts32, out32 = run(row, i, xs, np.float32)
    out32.backward(c.astype(np.float32))
    for t32, t64 in zip(ts32, ts64):
        assert t32.grad.dtype == np.float32 and t32.grad.shape == t32.shape
        scale = 1.0 + np.max(np.abs(t64.grad), initial=0.0)
        if not row.random:
            np.testing.assert_allclose(t32.grad, t64.grad, rtol=1e-3, atol=1e-4 * scale)
    for j in range(len(xs) if len(xs) > 1 else 0):
        ts = [mg.Tensor(x, requires_grad=(k == j)) for k, x in enumerate(xs)]
        row.fn(*ts, **kwargs(row, i, np.float64)).backward(c)
        np.testing.assert_allclose(ts[j].grad, ts64[j].grad, rtol=1e-12, atol=1e-12)
        assert all(t.grad is None for k, t in enumerate(ts) if k != j)


@pytest.mark.parametrize("row, i", CASES)
def test_leaf_gradients_alias_nothing(row, i):
    """Item 4 of issue 10, for every row: a leaf's ``.grad`` shares memory with nothing the
    caller or another leaf holds (the cotangent, any input, any config array, any other
    leaf's gradient) and is writable, with the graph freed and with it retained (the saved
    arrays alive). The walk keeps an array uncopied only when it holds the sole reference."""
    xs = inputs(row, i)
    for retain in (False, True):
        ts = [mg.Tensor(x, requires_grad=True) for x in xs]
        kw = kwargs(row, i, np.float64)
        out = row.fn(*ts, **kw)
        c = cotangent(row, i, out.shape)
        out.backward(c, retain_graph=retain)
        held = [c, out.data] + [t.data for t in ts] + [
            v for v in kw.values() if isinstance(v, np.ndarray)]
        grads = [t.grad for t in ts]
        for j, g in enumerate(grads):
            assert g.flags.writeable, f"{row.id}: the gradient of input {j} is read-only"
            for a in held + grads[:j]:
                assert not np.shares_memory(g, a), (
                    f"{row.id} (retain_graph={retain}): the gradient of input {j} aliases an "
                    f"array of shape {np.shape(a)}")


# ---------------------------------------------------------------------------- big shapes


def _leaves(rng, *shapes):
    return [mg.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def _large_matmul(rng):
    c = rng.standard_normal((256, 256))
    return (lambda a, b: (a @ b) * c), _leaves(rng, (256, 256), (256, 256))


def _large_linear_relu(rng):
    x, w, b = _leaves(rng, (128, 256), (256, 128), (128,))
    w.data /= 16.0    # unit-variance pre-activations: relu's kink is hit by ~half of them
    c = rng.standard_normal((128, 128))
    return (lambda x, w, b: linear.linear(x, w, b, "relu") * c), (x, w, b)


def _large_softmax_ce(rng):
    labels = rng.integers(0, 10, 512)
    return (lambda z: softmax.softmax_cross_entropy(z, labels) * 3.7), _leaves(rng, (512, 10))


def _large_batch_norm(rng):
    x, gamma, beta = _leaves(rng, (256, 64), (64,), (64,))
    mm, mv = np.zeros(64), np.ones(64)
    c = rng.standard_normal((256, 64))
    return (lambda *a: norm.batch_norm(*a, mm, mv, training=True) * c), (x, gamma, beta)


def _large_layer_norm(rng):
    x, gamma, beta = _leaves(rng, (128, 512), (512,), (512,))
    c = rng.standard_normal((128, 512))
    return (lambda *a: norm.layer_norm(*a) * c), (x, gamma, beta)


LARGE = {"matmul_256": _large_matmul, "linear_relu": _large_linear_relu,
         "softmax_ce": _large_softmax_ce, "batch_norm": _large_batch_norm,
         "layer_norm": _large_layer_norm}


@pytest.mark.parametrize("name", sorted(LARGE))
def test_grad_large(name):
    fn, ts = LARGE[name](np.random.default_rng(zlib.crc32(name.encode())))
    for seed in range(2):
        assert directional_check(fn, *ts, rtol=1e-5, seed=seed)


def test_grad_large_catches_a_wrong_gradient():
    """The directional check is sharp enough to see one wrong element in 65 536."""
    fn, (a, b) = _large_matmul(np.random.default_rng(0))
    hook = a.register_hook(lambda g: g + np.eye(1, g.size, 1234).reshape(g.shape))
    with pytest.raises(mg.GradcheckError):
        directional_check(fn, a, b, rtol=1e-5)
    hook.remove()
    assert directional_check(fn, a, b, rtol=1e-5)


# ---------------------------------------------------------------------------- guards


def all_functions():
    """Every Function subclass defined in minigrad (test-defined ones excluded by module)."""
    import minigrad

    def unimportable(name):   # walk_packages would otherwise skip a broken subpackage
        raise ImportError(f"cannot import {name}")

    # every module must import: the optional matplotlib is only imported inside
    # minigrad.diagnostics.plot's functions, so it need not be installed here
    for m in pkgutil.walk_packages(minigrad.__path__, "minigrad.", onerror=unimportable):
        if m.name != "minigrad.__main__":
            importlib.import_module(m.name)
    seen, stack = set(), [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return {c for c in seen if c.__module__.startswith("minigrad.")}


# computations on data without a gradient (tested below), the one kind of op without a row
NO_GRADIENT = {datamap.DataMap}


def test_every_function_has_a_row():
    covered = {row.op for row in TABLE} | NO_GRADIENT
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in all_functions() - covered)
    assert not missing, f"Function subclasses without a row in the op table: {missing}"


# ---------------------------------------------------------------------------- op details


def test_data_map_computes_per_call_and_refuses_a_gradient():
    x = mg.Tensor(np.array([[0.0, 1.0], [1.0, 1.0]]))
    y = datamap.data_map(np.add, x, args=(2.0,))
    np.testing.assert_array_equal(y.data, [[2.0, 3.0], [3.0, 3.0]])
    assert not y.requires_grad and y.grad_fn is None
    ids = datamap.data_map(np.argmax, np.array([[0, 5], [7, 1]]), args=(1,))
    np.testing.assert_array_equal(ids.data, [1, 0])           # integer data stays integer
    w = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="DataMap: a computation on data carries no grad"):
        datamap.data_map(np.multiply, w, args=(2.0,)).backward(np.ones(2))


def test_max_min_ties_share_the_gradient_equally():
    x = mg.Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True, dtype="float64")
    (x.max(axis=1) * np.array([6.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 3, 3], [1, 1, 1]])
    x.zero_grad()
    (x.min(axis=1) * np.array([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 0, 0], [1, 1, 1]])


def test_maximum_minimum_ties_share_the_gradient_equally():
    """PyTorch's value: d max(a, b) = 0.5 to each side at a tie."""
    a = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype="float64")
    b = mg.Tensor([1.0, 1.0, 4.0], requires_grad=True, dtype="float64")
    ops.maximum(a, b).backward(np.array([2.0, 2.0, 2.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.0, 2.0])
    a.zero_grad()
    b.zero_grad()
    ops.minimum(a, b).backward(np.array([2.0, 2.0, 2.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 2.0])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0, 0.0])


def test_pow_exponent_gradient_is_zero_at_a_zero_base():
    """Issue 10 item 7: d(a**b)/db = a**b log a is 0 where a == 0 (b >= 0), so one zero from
    relu does not poison the update. PyTorch: p.grad = 1.7155 (0.5**1.5 ln .5 + 2**1.5 ln 2)."""
    p = mg.Tensor(1.5, requires_grad=True, dtype="float64")
    (mg.Tensor([-1.0, 0.5, 2.0], dtype="float64").relu() ** p).sum().backward()
    expected = 0.5 ** 1.5 * np.log(0.5) + 2 ** 1.5 * np.log(2.0)
    np.testing.assert_allclose(p.grad, expected, rtol=1e-12)
    np.testing.assert_allclose(p.grad, 1.7155, atol=5e-5)                 # PyTorch's value
    p32 = mg.Tensor(np.float32(1.5), requires_grad=True)
    (mg.Tensor(np.zeros(3, np.float32)) ** p32).sum().backward()
    assert p32.grad == 0.0 and p32.grad.dtype == np.float32


def test_pow_with_exponent_zero_has_zero_gradient_everywhere():
    """Issue 10 item 7: x ** 0 is constant 1, so its gradient is 0, also at x = 0 (where
    b * a**(b-1) = 0 * inf). PyTorch: [0, 0]."""
    x = mg.Tensor([0.0, 3.0], requires_grad=True, dtype="float64")
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    b = mg.Tensor([0.0, 2.0], requires_grad=True, dtype="float64")
    a = mg.Tensor([0.0, 0.0], requires_grad=True, dtype="float64")
    (a ** b).sum().backward()      # 0**0 = 1 and 0**2 = 0: flat in b, da = [0, 0] as PyTorch
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape_, axis", [((0, 3), 0), ((0, 3), -1), ((3, 0), -1), ((3, 0), 0),
                                          ((2, 0, 3), 1), ((0,), 0)])
def test_softmax_on_an_empty_axis_is_empty(fn, shape_, axis):
    """Issue 10 item 7: an empty input gives an empty result and gradient (PyTorch too)."""
    x = mg.Tensor(np.ones(shape_), requires_grad=True)
    y = getattr(x, fn)(axis=axis)
    assert y.shape == shape_ and y.dtype == np.float64
    y.backward(np.ones(shape_))
    assert x.grad.shape == shape_


def test_prod_of_an_empty_axis_is_one_and_its_gradient_empty():
    x = mg.Tensor(np.ones((2, 0)), requires_grad=True)
    y = ops.prod(x, axis=1)
    np.testing.assert_array_equal(y.data, [1.0, 1.0])
    y.backward(np.ones(2))
    assert x.grad.shape == (2, 0)


def test_norm_gradient_at_zero_is_zero():
    """PyTorch's subgradient: d||x||/dx = 0 at x = 0 (not NaN)."""
    x = mg.Tensor(np.zeros((2, 3)), requires_grad=True)
    ops.norm(x, axis=1).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


def test_pytorch_oracle_for_the_edge_cases():
    """Optional oracle: the same edge cases against torch, where installed."""
    torch = pytest.importorskip("torch")
    base = np.array([-1.0, 0.5, 2.0, 0.0])
    p = mg.Tensor(1.5, requires_grad=True, dtype="float64")
    (mg.Tensor(base).relu() ** p).sum().backward()
    tp = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (torch.relu(torch.tensor(base)) ** tp).sum().backward()
    np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
    x = mg.Tensor(np.array([0.0, 3.0]), requires_grad=True)
    (x ** 0).sum().backward()
    tx = torch.tensor([0.0, 3.0], dtype=torch.float64, requires_grad=True)
    (tx ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    a = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = mg.Tensor(np.array([1.0, 1.0, 4.0]), requires_grad=True)
    ops.maximum(a, b).sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([1.0, 1.0, 4.0], dtype=torch.float64, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())
