"""The one random generator behind initializers, dropout, RReLU, shuffling and augmentation.

``seed(n)`` resets it so that every draw after it is reproducible bit for bit. Components
given their own ``seed=k`` use ``make_generator(k)`` instead of the global one.
"""
import numpy as np

_global = np.random.default_rng()


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
    return np.random.default_rng(seed)


def get_state():
    """A snapshot of the global generator's state (restored by ``set_state``)."""
    return _global.bit_generator.state


def set_state(state):
    """Restore the global generator to a snapshot from ``get_state``."""
    _global.bit_generator.state = state
