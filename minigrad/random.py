"""The one random generator behind initializers, dropout, RReLU, shuffling and augmentation.

``seed(n)`` resets it so that every draw after it is reproducible bit for bit. Components
given their own ``seed=k`` use ``make_generator(k)`` instead of the global one; the live ones
are listed by ``private_generators()`` (code that must leave every random state as it found
it, such as ``gradient_report``, saves and restores them without searching objects).

Keras 3's ``keras.random`` lives here too (below): ``normal``, ``uniform``,
``truncated_normal``, ``randint``, ``categorical``, ``dropout``, ``shuffle``, ``gamma``,
``binomial``, ``beta`` and ``SeedGenerator``, each draw made inside an op.
"""
import weakref

import numpy as np

from . import _checks

_global = np.random.default_rng()


class _Generator(np.random.Generator):
    """numpy's Generator, weakly referenceable so that private generators can be listed
    without being kept alive."""

    __slots__ = ("__weakref__",)


_private = weakref.WeakSet()


def seed(n):
    """Reseed the global generator (``minigrad.manual_seed`` is an alias)."""
    global _global
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"random.seed: expected a non-negative integer, got {n!r}")
    _global = np.random.default_rng(int(n))


manual_seed = seed


def generator():
    """The global ``numpy.random.Generator`` (look it up at call time: ``seed`` replaces it)."""
    return _global


def make_generator(seed=None):
    """A private generator for ``seed=k``; ``None`` means the global generator."""
    if seed is None:
        return _global
    gen = _Generator(np.random.PCG64(seed))    # the stream of np.random.default_rng(seed)
    _private.add(gen)
    return gen


def private_generators():
    """The live generators made by ``make_generator(k)`` (the global one excluded)."""
    return list(_private)


def get_state():
    """A snapshot of the global generator's state (restored by ``set_state``)."""
    return _global.bit_generator.state


def set_state(state):
    """Restore the global generator to a snapshot from ``get_state``."""
    _global.bit_generator.state = state


# ---- Keras 3's keras.random -------------------------------------------------------------
#
# Every draw below happens inside an op (``ops.datamap.DataMap``, whose forward calls the
# sampler): a captured training step (models/tape.py) replays the op, so each replayed step
# draws anew, from the same stream in the same order as an eager step. A value drawn with numpy
# outside the ops would be a constant of the captured graph (tape.py refuses it).
#
# ``seed``: None draws from the global generator as it is when the op runs (so ``seed(n)``
# fixes it); an int k draws from a fresh generator seeded with [k, 0] (the same values at every
# call, as Keras); a SeedGenerator draws from a fresh generator seeded with its next state
# [seed, counter], then advances the counter. The seeded streams are those of Keras 3's numpy
# backend (``np.random.default_rng([seed, counter])``, float64 draws cast to ``dtype``).

_SEED_LIMIT = 2 ** 32      # Keras's seeds are uint32 values (numpy backend: random_seed_dtype)


class SeedGenerator:
    """A stateful seed source (Keras 3's ``keras.random.SeedGenerator``): ``state`` is a
    non-trainable uint32 Variable ``[seed, counter]``; ``next()`` returns the current state
    and advances the counter, so two generators made with the same seed give the same seeds,
    and each ``keras.random.normal(..., seed=gen)`` call gets new values. ``seed=None``: a
    seed drawn from Python's ``random`` (1 <= seed <= 1e9), as Keras does.

    Usage in a layer: ``self.seed_generator = keras.random.SeedGenerator(1337)`` in
    ``__init__``, ``keras.random.dropout(x, 0.5, seed=self.seed_generator)`` in ``call``."""

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"SeedGenerator: unrecognized keyword arguments {sorted(kwargs)}")
        if name is None:
            from .layers.base import unique_name
            name = unique_name("seed_generator")
        if not isinstance(name, str):
            raise TypeError(f"SeedGenerator: name must be a string, got {name!r}")
        self.name = name
        self._initial_seed = seed
        if seed is None:
            import random as python_random
            seed = python_random.randint(1, int(1e9))
        seed = _int_seed(f"SeedGenerator {name!r}", seed)
        from .variables import Variable
        self.state = Variable(np.array([seed, 0], dtype=np.uint32), trainable=False,
                              name="seed_generator_state")

    def next(self, ordered=True):
        """The current state ``[seed, counter]`` (a copy), then advance it: ``ordered``
        increments the counter; otherwise the state becomes ``(state + 1) * 5387 % 933199``
        elementwise (Keras's unordered step)."""
        state = self.state.data
        current = state.copy()
        # written in place without a version bump: the state is never an op's input, and a
        # bump inside a training step's forward would send every backward to the version check
        if ordered:
            state[1] += np.uint32(1)
        else:
            state[...] = (state.astype(np.int64) + 1) * 5387 % 933199
        return current

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} state={self.state.data.tolist()}>"


def _int_seed(owner, seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{owner}: seed must be an integer, got {seed!r}")
    if not 0 <= seed < _SEED_LIMIT:
        raise ValueError(f"{owner}: seed must be an integer in [0, 2**32), got {seed!r}")
    return int(seed)


def _check_seed(owner, seed):
    """``seed`` as given to a keras.random function: None, an int in [0, 2**32) or a
    SeedGenerator (TypeError for anything else)."""
    if seed is None or isinstance(seed, SeedGenerator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{owner}: seed must be None, an integer or a keras.random."
                        f"SeedGenerator, got {seed!r} (of type {type(seed).__name__})")
    return _int_seed(owner, seed)


def draw_generator(seed):
    """The numpy Generator a draw with ``seed`` uses, made when the op runs: the global one
    (None), a fresh one seeded with [k, 0] (an int k) or with ``seed.next()`` (a
    SeedGenerator, which advances)."""
    if seed is None:
        return _global
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    return np.random.default_rng([seed, 0])


def _shape(owner, shape):
    return _checks.shape(owner, shape, "random values need one")


def _float_dtype(owner, dtype):
    return _checks.dtype(owner, dtype, floating=True)


def _param(owner, name, value):
    """A distribution parameter: a finite number, or an array (a Tensor's values, detached)."""
    from .tensor import Tensor
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (np.ndarray, list, tuple)):
        return np.asarray(value)
    from . import _checks
    return _checks.number(owner, name, value)


def _draw(fn, *args, inputs=()):
    from .ops.datamap import data_map
    return data_map(fn, *inputs, args=args)


# The samplers: module-level functions (a captured step compares them by identity), run by
# the DataMap op with its ``args``.

def _normal(shape, mean, stddev, dtype, seed):
    return draw_generator(seed).normal(loc=mean, scale=stddev, size=shape).astype(dtype)


def _uniform(shape, minval, maxval, dtype, seed):
    return draw_generator(seed).uniform(low=minval, high=maxval, size=shape).astype(dtype)


def _truncated_normal(shape, mean, stddev, dtype, seed):
    rng = draw_generator(seed)
    n = int(np.prod(shape, dtype=np.int64))
    lo, hi = mean - 2 * stddev, mean + 2 * stddev
    kept = np.empty(0)
    # rejection in whole batches of n (Keras's numpy backend): accept lo <= z <= hi
    while kept.size < n:
        z = rng.normal(loc=mean, scale=stddev, size=n)
        kept = np.append(kept, z[(z >= lo) & (z <= hi)])
    return kept[:n].astype(dtype).reshape(shape)


def _randint(shape, minval, maxval, dtype, seed):
    return draw_generator(seed).integers(low=minval, high=maxval, size=shape, dtype=dtype)


def _categorical(logits, num_samples, dtype, seed):
    rng = draw_generator(seed)
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(p)):
        raise ValueError("random.categorical: the logits give non-finite probabilities in "
                         "some row (a row of all -inf, nan or +inf logits)")
    u = rng.random((logits.shape[0], num_samples))
    out = np.empty(u.shape, dtype=dtype)
    # inverse CDF per row, as numpy's Generator.choice(p=...) draws: cdf normalised by its
    # last entry, the first class whose cdf exceeds u
    for i in range(u.shape[0]):
        cdf = np.cumsum(p[i])
        cdf /= cdf[-1]
        out[i] = np.minimum(np.searchsorted(cdf, u[i], side="right"), cdf.size - 1)
    return out


def _permutation(n, seed):
    return draw_generator(seed).permutation(n)


def _dropout_mask(shape, rate, dtype, seed):
    keep = draw_generator(seed).uniform(size=shape) < 1.0 - rate
    return np.where(keep, 1.0 / (1.0 - rate), 0.0).astype(dtype)


def _gamma(shape, alpha, dtype, seed):
    return draw_generator(seed).gamma(alpha, scale=1.0, size=shape).astype(dtype)


def _binomial(shape, counts, probabilities, dtype, seed):
    return draw_generator(seed).binomial(n=counts, p=probabilities, size=shape).astype(dtype)


def _beta(shape, alpha, beta, dtype, seed):
    return draw_generator(seed).beta(a=alpha, b=beta, size=shape).astype(dtype)


# The public functions: Keras 3's keras.random, each returning a Tensor without gradient
# (dropout and shuffle keep the gradient of their input).

def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev^2) of ``shape`` (dtype default floatx)."""
    who = "random.normal"
    return _draw(_normal, _shape(who, shape), _param(who, "mean", mean),
                 _nonneg(who, "stddev", stddev), _float_dtype(who, dtype),
                 _check_seed(who, seed))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval) of ``shape`` (a floating point dtype, default floatx)."""
    who = "random.uniform"
    return _draw(_uniform, _shape(who, shape), _param(who, "minval", minval),
                 _param(who, "maxval", maxval), _float_dtype(who, dtype),
                 _check_seed(who, seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev^2) conditioned on |x - mean| <= 2 stddev (rejection)."""
    who = "random.truncated_normal"
    mean = _checks_number(who, "mean", mean)
    stddev = _nonneg(who, "stddev", _checks_number(who, "stddev", stddev))
    return _draw(_truncated_normal, _shape(who, shape), mean, stddev,
                 _float_dtype(who, dtype), _check_seed(who, seed))


def _checks_number(owner, name, value):
    from . import _checks
    return _checks.number(owner, name, value)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in [minval, maxval) of ``shape`` (an integer dtype, default int32)."""
    who = "random.randint"
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{who}: invalid dtype {dtype!r}") from None
    if dt.kind not in "iu":
        raise ValueError(f"{who} requires an integer dtype, got dtype={dtype!r}")
    from . import _checks
    lo = _checks.integer(who, "minval", minval)
    hi = _checks.integer(who, "maxval", maxval)
    if lo >= hi:
        raise ValueError(f"{who}: minval must be below maxval (the range is [minval, maxval)),"
                         f" got minval={lo}, maxval={hi}")
    info = np.iinfo(dt)
    if lo < info.min or hi - 1 > info.max:
        raise ValueError(f"{who}: [{lo}, {hi}) does not fit in dtype {dt.name}")
    return _draw(_randint, _shape(who, shape), lo, hi, dt.name, _check_seed(who, seed))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class ids drawn from softmax(logits) per row: logits (batch, classes) -> ids
    (batch, num_samples), each sample independent."""
    who = "random.categorical"
    from . import _checks
    from .tensor import Tensor
    arr = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    if arr.ndim != 2:
        raise ValueError(f"{who}: logits should be a 2-D tensor of shape (batch_size, "
                         f"num_classes), got shape {arr.shape}")
    if arr.dtype.kind not in "fiu" or arr.shape[1] == 0:
        raise ValueError(f"{who}: logits must be numbers over at least one class, got dtype "
                         f"{arr.dtype} and shape {arr.shape}")
    n = _checks.integer(who, "num_samples", num_samples, lo=0)
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise ValueError(f"{who} requires an integer dtype, got dtype={dtype!r}")
    # the logits are the op's input: in a captured step they may be an earlier op's output
    source = logits if isinstance(logits, Tensor) else Tensor(arr)
    return _draw(_categorical, n, dt.name, _check_seed(who, seed), inputs=(source,))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a uniformly random order (one permutation for
    the whole tensor, as the torch and jax backends). Differentiable: the permutation is
    drawn by an op and applied by indexing."""
    who = "random.shuffle"
    from . import _checks
    from .ops.shape import getitem
    from .tensor import Tensor
    t = x if isinstance(x, Tensor) else Tensor(x)
    if t.ndim == 0:
        raise ValueError(f"{who}: cannot shuffle a 0-d tensor")
    ax = _checks.axis(who, axis, t.ndim)
    perm = _draw(_permutation, t.shape[ax], _check_seed(who, seed))
    return getitem(t, (slice(None),) * ax + (perm,))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout, always applied (Keras 3's ``keras.random.dropout``): each element
    (or each entry of a ``noise_shape`` mask, broadcast to the input) is kept with
    probability 1 - rate and scaled by 1/(1 - rate), else zeroed. The gradient flows to
    ``inputs``: dx = g * mask / (1 - rate)."""
    who = "random.dropout"
    from . import _checks
    from .ops.dropout import Dropout
    from .tensor import Tensor
    rate = _checks.rate(who, "rate", rate)
    seed = _check_seed(who, seed)
    x = inputs if isinstance(inputs, Tensor) else Tensor(inputs)
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: inputs must be floating point, got dtype {x.dtype}")
    if rate == 0.0:
        return x
    if rate == 1.0:
        return Dropout.apply(x, rate=1.0)       # zeros, zero gradient, nothing drawn
    if noise_shape is None and seed is None:
        # the framework's dropout op: one fused pass, the global generator at call time
        return Dropout.apply(x, rate=rate)
    shape = x.shape if noise_shape is None else _checks.noise_shape(who, noise_shape, x.shape)
    return x * _draw(_dropout_mask, shape, rate, x.dtype.name, seed)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of Gamma(alpha, scale 1): mean alpha, variance alpha."""
    who = "random.gamma"
    return _draw(_gamma, _shape(who, shape), _positive(who, "alpha", alpha),
                 _float_dtype(who, dtype), _check_seed(who, seed))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of Binomial(counts, probabilities) (counts and probabilities broadcast with
    ``shape``), in a floating point dtype (default floatx), as Keras."""
    who = "random.binomial"
    counts = _param(who, "counts", counts)
    probabilities = _param(who, "probabilities", probabilities)
    if np.any(np.asarray(counts) < 0) or np.any(np.asarray(counts) % 1 != 0):
        raise ValueError(f"{who}: counts must be non-negative whole numbers, got {counts!r}")
    p = np.asarray(probabilities)
    if np.any(~((p >= 0) & (p <= 1))):
        raise ValueError(f"{who}: probabilities must lie in [0, 1], got {probabilities!r}")
    return _draw(_binomial, _shape(who, shape), counts, probabilities,
                 _float_dtype(who, dtype), _check_seed(who, seed))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of Beta(alpha, beta): mean alpha/(alpha+beta)."""
    who = "random.beta"
    return _draw(_beta, _shape(who, shape), _positive(who, "alpha", alpha),
                 _positive(who, "beta", beta), _float_dtype(who, dtype), _check_seed(who, seed))


def _nonneg(owner, name, value):
    value = _param(owner, name, value)
    if np.any(~(np.asarray(value) >= 0)):
        raise ValueError(f"{owner}: {name} must be non-negative, got {value!r}")
    return value


def _positive(owner, name, value):
    value = _param(owner, name, value)
    if np.any(~(np.asarray(value) > 0)):
        raise ValueError(f"{owner}: {name} must be positive, got {value!r}")
    return value
