"""The one random generator behind initializers, dropout, RReLU, shuffling and augmentation.

``seed(n)`` resets it so that every draw after it is reproducible bit for bit. Components
given their own ``seed=k`` use ``make_generator(k)`` instead of the global one; the live ones
are listed by ``private_generators()`` (code that must leave every random state as it found
it, such as ``gradient_report``, saves and restores them without searching objects).
"""
import weakref

import numpy as np

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
