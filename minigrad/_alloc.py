"""Staggered buffers: large weights, gradients and optimizer slots start at different offsets.

Why (DESIGN.md §8): numpy maps every large array on its own (2 MiB huge) pages, so arrays of
the same power-of-two size all start at the same offset of a page. An optimizer update streams
the weight, its gradient and its slots together; with equal offsets element i of every stream
falls into the same L1/L2 cache set, and the update thrashes (Adam on the 1024-2048-2048-10
net 7.4-8.0 ms instead of 3.2-4.0). Buffer number k made here starts ``k * 4160`` bytes
(mod 64 KiB) into a 64 KiB window (one 4 KiB page plus one 64-byte cache line per buffer): a
different cache-line offset modulo 4 KiB (L1 sets) and modulo 64 KiB (L2 sets) for every
stream of one update. Arrays under ``MIN_BYTES`` are plain numpy arrays (no huge pages, and
the lecture-sized ones sit in cache anyway).
"""
import itertools
import math
import sys

import numpy as np

MIN_BYTES = 1 << 22   # 4 MiB: numpy asks huge pages from this size on (below it the staggered
# placement measured slower on the lecture step: 16 us per buffer)
_WINDOW = 1 << 16            # offsets are chosen modulo 64 KiB (the L2 set period)
_STEP = 4096 + 64            # one page plus one cache line between consecutive buffers
_counter = itertools.count()


def empty(shape, dtype):
    """An uninitialised C-contiguous array; at least ``MIN_BYTES`` large it starts at the
    next staggered offset (64-byte aligned)."""
    dtype = np.dtype(dtype)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
    nbytes = dtype.itemsize * math.prod(shape)
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype=dtype)
    target = (next(_counter) * _STEP) % _WINDOW
    raw = np.empty(nbytes + _WINDOW + 64, dtype=np.uint8)
    start = (target - raw.ctypes.data) % _WINDOW
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def zeros(shape, dtype):
    """``empty`` filled with zeros."""
    out = empty(shape, dtype)
    out.fill(0)
    return out


def full(shape, value, dtype):
    """``empty`` filled with ``value``."""
    out = empty(shape, dtype)
    out.fill(value)
    return out


def place(a):
    """``a`` itself when small, else a staggered C-contiguous copy."""
    if a.nbytes < MIN_BYTES:
        return a
    out = empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def matmul(a, b):
    """``a @ b`` for 2-D arrays, the result (a gradient) in a staggered buffer when large."""
    m, n = a.shape[0], b.shape[1]
    dtype = np.result_type(a, b)
    if m * n * dtype.itemsize < MIN_BYTES:
        return a @ b
    return np.matmul(a, b, out=empty((m, n), dtype))


def offset(a):
    """The byte offset of ``a``'s first element within its 64 KiB window (for tests and the
    benchmark's report)."""
    return a.ctypes.data % _WINDOW


def _base_refs(a):
    base = a.base
    return sys.getrefcount(base)


def _calibrate():
    raw = np.empty(8, dtype=np.uint8)
    view = raw.view(np.float32)
    del raw
    return _base_refs(view)


_SOLE_BASE = _calibrate()   # the count _base_refs sees when only the view holds its buffer


def owns(a):
    """True when ``a`` is a view of a byte buffer (made by ``empty``) that nothing else
    refers to: the backward walk may then keep ``a`` as a gradient without copying it."""
    base = a.base
    if type(base) is not np.ndarray or base.base is not None or base.dtype != np.uint8:
        return False
    del base    # not counted below
    return _base_refs(a) == _SOLE_BASE
