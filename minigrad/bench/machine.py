"""What a benchmark run prints about the machine, and the rates the physical limit uses."""
import os
import platform
import time

import numpy as np


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def load():
    """The 1-minute load average (None where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def blas_info():
    """'<library> <version>, <threads> threads' of numpy's BLAS (via threadpoolctl)."""
    from .. import _threads
    libs = _threads.policy.libs()
    if not libs:
        return "BLAS not controllable"
    lib = libs[0]
    return f"{lib.internal_api} {lib.version}, {lib.get_num_threads()} threads"


def best_time(fn, repeats, min_seconds=0.05):
    """The best wall time of one ``fn()`` over ``repeats`` timed blocks."""
    fn()
    n = 1
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    if one < min_seconds:
        n = max(1, int(min_seconds / max(one, 1e-7)))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def gemm_peak(threads, size=1024, repeats=5):
    """float32 GEMM rate (FLOP/s) of a ``size``-cube on ``threads`` BLAS threads, best of
    ``repeats``."""
    from threadpoolctl import threadpool_limits
    r = np.random.default_rng(0)
    a = r.random((size, size), dtype=np.float32)
    b = r.random((size, size), dtype=np.float32)
    out = np.empty((size, size), np.float32)
    with threadpool_limits(threads, user_api="blas"):
        t = best_time(lambda: np.matmul(a, b, out=out), repeats)
    return 2.0 * size ** 3 / t


def copy_bandwidth(nbytes=64 << 20, repeats=5):
    """Bytes per second moved by ``np.copyto`` of an ``nbytes`` buffer (read + write)."""
    src = np.ones(nbytes // 4, np.float32)
    dst = np.empty_like(src)
    t = best_time(lambda: np.copyto(dst, src), repeats)
    return 2.0 * nbytes / t
