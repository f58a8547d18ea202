"""BLAS threading policy for a training step: one thread when the step's GEMMs are too small
to gain from two.

Why (DESIGN.md §8, measured on 2-core AVX-512 machines with OpenBLAS 0.3.31): a second BLAS
thread makes the lecture step (largest GEMM 32x784x128) slower, and OpenBLAS's worker keeps
spinning ~0.1 s after each GEMM, stealing the core from the next kernel (an Adam update after
a 2-thread GEMM took 94 us instead of 40) and from every other process on the machine. From
256x256x256 on, two threads halve the GEMM. So the step runs with one BLAS thread unless its
largest GEMM has at least ``TWO_THREADS_MIN_MACS`` multiply-adds
(``python -m minigrad bench`` prints the crossover measured on the machine it runs on).

The decision is made once per step signature (batch size and the model's layers) and set
through threadpoolctl's library controllers (a ctypes call, ~1 us), never per GEMM. A limit
set by someone else (a user's ``threadpool_limits``, a sweep trial's pin, the
``OPENBLAS_NUM_THREADS`` the process started with) caps it: the count found in the library
when it differs from the one set here is the outer limit. ``fit`` restores the count it found
when it ends; ``train_on_batch`` leaves the step's count in place between calls (setting it
back and forth on every call is what this avoids).

No minigrad kernel opens a numba parallel region (``kernel(parallel=True)`` is unused), so no
kernel waits for a spinning BLAS worker after a multithreaded GEMM.
"""
# 2**24 multiply-adds = a 256x256x256 GEMM, the smallest size measured faster on two threads
TWO_THREADS_MIN_MACS = 1 << 24


class _Policy:
    """The BLAS libraries loaded in the process and the count this module last set."""

    def __init__(self):
        self._libs = None
        self.ours = None     # the count set here last (None: never set)
        self.outer = None    # the cap found in the library, set by someone else

    def libs(self):
        if self._libs is None:
            try:
                import numpy  # noqa: F401  (its BLAS must be loaded before the scan)
                from threadpoolctl import ThreadpoolController
                self._libs = ThreadpoolController().select(user_api="blas").lib_controllers
            except Exception:   # threadpoolctl missing or a platform it cannot inspect
                self._libs = []
        return self._libs

    def current(self):
        libs = self.libs()
        return min(lib.get_num_threads() for lib in libs) if libs else None

    def apply(self, want):
        """Set the BLAS thread count to ``min(want, outer limit)``; returns the count in
        place before (None without a controllable BLAS)."""
        cur = self.current()
        if cur is None:
            return None
        if cur != self.ours or self.outer is None:
            self.outer = cur           # changed by someone else: that is the cap now
        n = max(1, min(want, self.outer))
        if n != cur:
            for lib in self._libs:
                lib.set_num_threads(n)
        self.ours = n
        return cur

    def restore(self, count):
        if count is None:
            return
        if self.current() != count:
            for lib in self._libs:
                lib.set_num_threads(count)
        self.ours = None


policy = _Policy()


def step_macs(weights, batch):
    """The multiply-adds of the largest forward GEMM of a step: ``batch * k * n`` over the 2-D
    kernels ``(k, n)`` among ``weights``."""
    best = 0
    for w in weights:
        shape = w.shape
        if len(shape) == 2:
            macs = batch * shape[0] * shape[1]
            if macs > best:
                best = macs
    return best


def threads_for(macs, available=2):
    """The BLAS threads a step whose largest GEMM has ``macs`` multiply-adds should use."""
    return available if macs >= TWO_THREADS_MIN_MACS else 1


def plan(model, batch):
    """The thread count for ``model``'s training step at this batch size, cached on the model
    by signature (batch, its layers); every 2-D weight counts (a frozen layer's forward GEMM
    runs too)."""
    key = (batch, tuple(map(id, model.layers)))
    cached = model.__dict__.get("_blas_plan")
    if cached is not None and cached[0] == key:
        return cached[1]
    import os
    n = threads_for(step_macs(model.weights, batch), os.cpu_count() or 1)
    model.__dict__["_blas_plan"] = (key, n)
    return n


def batch_len(x):
    """The number of samples of a batch: an array, or a list/tuple/dict of arrays."""
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    elif isinstance(x, (list, tuple)):
        x = x[0] if x else None
    shape = getattr(x, "shape", None)
    return shape[0] if shape else 1


def set_for_step(model, x):
    """Set the BLAS threads for one train_on_batch step on the batch ``x`` (left in place
    afterwards)."""
    policy.apply(plan(model, batch_len(x)))


def enter_fit(model, batch):
    """Set the BLAS threads for a whole ``fit`` (the full-batch signature); returns the count
    to hand to ``policy.restore`` when fit ends."""
    return policy.apply(plan(model, batch))
