"""The one numba decorator: compiled lazily on the first call, cached on disk.

``import minigrad`` never imports numba (it costs 2-3x ``import numpy``); the first call of
any kernel does. Options: ``cache=True`` (compiled once per dtype per machine),
``nogil=True`` and ``error_model='numpy'`` (no per-division Python error checks, which would
make a fused optimizer kernel no faster than numpy).
"""
import numpy as np

_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")


def kernel(fn=None, **options):
    """Decorate a numba kernel; ``@kernel`` or ``@kernel(parallel=True)``.

    The returned function compiles ``fn`` with ``numba.njit`` on its first call. The plain
    Python function stays reachable as ``.py_func`` (handy when debugging a kernel).
    """
    if fn is None:
        return lambda f: kernel(f, **options)
    compiled = None

    def call(*args):
        nonlocal compiled
        if compiled is None:
            import numba
            compiled = numba.njit(**_OPTIONS, **options)(fn)
        return compiled(*args)

    call.py_func = fn
    call.__name__ = fn.__name__
    call.__doc__ = fn.__doc__
    return call


def flat(a):
    """A 1-D view of a C-contiguous array (a copy only if it is not contiguous)."""
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def elementwise(kern, *arrays_and_args):
    """Run ``kern(*flat_arrays, *scalars, out)`` over same-shape arrays; returns ``out``.

    Arrays come first; everything after the last array is passed through as a scalar.
    """
    arrays = [a for a in arrays_and_args if isinstance(a, np.ndarray)]
    scalars = arrays_and_args[len(arrays):]
    out = np.empty(arrays[0].shape, dtype=arrays[0].dtype)
    kern(*[flat(a) for a in arrays], *scalars, out.reshape(-1))
    return out
