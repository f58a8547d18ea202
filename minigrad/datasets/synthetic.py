"""Small synthetic classification sets: blobs, two moons, k-armed spirals.

Each generator returns ``(X, y)``: X of shape (n_samples, n_features) in the framework's
float dtype (``minigrad.config.floatx()``, float32 by default), y int64 class labels.
Samples are spread over the classes as evenly as possible: class k gets
``n_samples // K + (k < n_samples % K)`` points.

Randomness: ``seed=None`` draws from the global generator of ``minigrad.random`` (so
``mg.random.seed(n)`` fixes the data); an int seed gives the call its own
``np.random.default_rng(seed)``; a ``np.random.Generator`` is used as it is.
"""

import numpy as np

from minigrad import _checks


def _rng(seed):
    """The generator behind one call (see the module docstring)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        return np.random.default_rng(seed)
    from minigrad import random as mgrandom  # lazy: the engine's global generator

    return mgrandom.generator()


def _floatx():
    """The framework's default float dtype (float32 until minigrad.config says otherwise)."""
    try:
        from minigrad import config
    except ImportError:
        return np.float32
    return np.dtype(config.floatx()).type


def _count(fn, name, value, minimum=1):
    """``value`` as an int >= ``minimum`` (minigrad._checks: TypeError for a non-integer,
    ValueError below the minimum)."""
    return _checks.integer(fn, name, value, lo=minimum)


def _nonnegative(fn, name, value, scalar=True):
    """``value`` as finite float(s) >= 0: TypeError for a non-number, ValueError otherwise."""
    if scalar:
        return np.float64(_checks.nonneg(fn, name, value))
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} must be a float or a sequence of floats, got "
                        f"{value!r}") from None
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"{fn}: {name} must be finite floats >= 0, got {value!r}")
    return v


def _per_class(n_samples, k):
    """Counts ``n // k + (i < n % k)`` for i in range(k): as even as possible, summing to n."""
    return [n_samples // k + (i < n_samples % k) for i in range(k)]


def _finish(X, y, shuffle, rng):
    """Cast X to floatx and y to int64; shuffle both rows together when asked."""
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return X.astype(_floatx()), y.astype(np.int64)


def _blob_centers(fn, centers, n_features, center_box, rng):
    """A (k, d) array of centers: given ones, or k uniform draws in center_box^d."""
    if np.ndim(centers) == 0:
        k = _count(fn, "centers", centers)
        d = _count(fn, "n_features", n_features)
        low, high = (float(b) for b in center_box)
        if not low < high:
            raise ValueError(f"{fn}: center_box must be (low, high) with low < high, got "
                             f"{center_box!r}")
        return rng.uniform(low, high, size=(k, d))
    c = np.asarray(centers, dtype=np.float64)
    if c.ndim != 2 or len(c) == 0 or c.shape[1] == 0 or not np.all(np.isfinite(c)):
        raise ValueError(f"{fn}: centers must be an int or a finite (k, n_features) array with "
                         f"k >= 1, got shape {c.shape}")
    return c


def make_blobs(n_samples=100, n_features=2, centers=3, cluster_std=1.0,
               center_box=(-10.0, 10.0), shuffle=True, seed=None):
    """Isotropic Gaussian blobs: ``x = c_k + cluster_std_k * N(0, I)`` for a point of class k.

    ``centers`` is a count (drawn uniformly in ``center_box`` along each of ``n_features``
    axes) or a (k, n_features) array (then ``n_features`` is taken from it and
    ``center_box`` unused). ``cluster_std`` is one float or one per center.
    Returns X (n_samples, n_features) floatx, y (n_samples,) int64 in [0, k).
    """
    fn = "make_blobs"
    n_samples = _count(fn, "n_samples", n_samples)
    rng = _rng(seed)
    c = _blob_centers(fn, centers, n_features, center_box, rng)
    k, d = c.shape
    std = _nonnegative(fn, "cluster_std", cluster_std, scalar=False)
    if std.ndim > 1 or (std.ndim == 1 and len(std) != k):
        raise ValueError(f"{fn}: cluster_std must be a float or {k} floats (one per center), "
                         f"got {cluster_std!r}")
    std = np.broadcast_to(std, (k,))
    counts = _per_class(n_samples, k)
    X = np.concatenate([c[i] + std[i] * rng.standard_normal((m, d))
                        for i, m in enumerate(counts)])
    y = np.repeat(np.arange(k), counts)
    return _finish(X, y, shuffle, rng)


def make_moons(n_samples=100, noise=0.0, shuffle=True, seed=None):
    """Two interleaving half circles in 2-d (sklearn's layout), plus ``noise * N(0, I)``.

    Class 0 (ceil(n_samples / 2) points): ``(cos t, sin t)``; class 1 (the rest):
    ``(1 - cos t, 0.5 - sin t)``; t evenly spaced in [0, pi] on each moon.
    Returns X (n_samples, 2) floatx, y int64 in {0, 1}.
    """
    fn = "make_moons"
    n_samples = _count(fn, "n_samples", n_samples)
    noise = float(_nonnegative(fn, "noise", noise))
    rng = _rng(seed)
    n0, n1 = _per_class(n_samples, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], axis=1),
                        np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)])
    y = np.repeat([0, 1], [n0, n1])
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, shuffle, rng)


def make_spirals(n_samples=100, n_classes=2, noise=0.0, shuffle=True, seed=None):
    """``n_classes`` interleaved spiral arms in 2-d (the CS231n spiral), plus ``noise * N(0, I)``.

    Arm k has m points with radius r evenly spaced in [0, 1] and angle
    ``theta = 2*pi*k / n_classes + 4*r`` (radians): ``x = r * (cos theta, sin theta)``.
    Returns X (n_samples, 2) floatx, y int64 in [0, n_classes).
    """
    fn = "make_spirals"
    n_samples = _count(fn, "n_samples", n_samples)
    n_classes = _count(fn, "n_classes", n_classes)
    noise = float(_nonnegative(fn, "noise", noise))
    rng = _rng(seed)
    counts = _per_class(n_samples, n_classes)
    arms = []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        theta = 2.0 * np.pi * k / n_classes + 4.0 * r
        arms.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
    X = np.concatenate(arms)
    y = np.repeat(np.arange(n_classes), counts)
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, shuffle, rng)
