"""Array helpers of ``keras.utils`` (Keras 3.15 utils/numerical_utils.py, utils/rng_utils.py)."""
import random

import numpy as np

from .. import _checks
from .. import random as mgrandom


def to_categorical(x, num_classes=None):
    """One-hot rows of float64: ``out[..., x] = 1``; a trailing axis of 1 is dropped first
    ((n, 1) -> (n, k)); ``num_classes`` defaults to max(x) + 1. Labels must be integers in
    [0, num_classes)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not (np.isfinite(x).all() and (x == np.round(x)).all()):
            raise ValueError("to_categorical: labels must be integer class ids")
    elif x.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: labels must be integers, got dtype {x.dtype}")
    x = x.astype(np.int64)
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    num_classes = _checks.integer("to_categorical", "num_classes", num_classes, lo=0)
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        bad = x[(x < 0) | (x >= num_classes)][0]
        raise ValueError(f"to_categorical: label {int(bad)} is outside [0, {num_classes})")
    out = np.zeros((x.size, num_classes))
    out[np.arange(x.size), x] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """x / ||x||_order along ``axis`` (a zero norm counts as 1), as a numpy array."""
    x = np.asarray(x)
    order = _checks.integer("normalize", "order", order, lo=1)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis if axis is not None else -1)


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy's global state and ``minigrad.random`` at once."""
    seed = _checks.integer("set_random_seed", "seed", seed, lo=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    mgrandom.seed(seed)
