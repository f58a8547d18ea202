"""Finite-difference checks of the graph's gradients (float64 central differences)."""
import numpy as np

from .grad_mode import enable_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The graph's gradient disagrees with finite differences (names input, index, values)."""


def _graph_grads(fn, inputs):
    for t in inputs:
        t.grad = None
    with enable_grad():
        out = fn(*inputs)
        out.sum().backward()
    return [np.zeros_like(t.data) if t.grad is None else t.grad.copy() for t in inputs]


def _scalar(fn, inputs):
    return float(np.sum(fn(*inputs).data, dtype=np.float64))


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare the graph's gradient of ``fn(*inputs).sum()`` with central differences
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every element of every input that
    requires grad. Inputs must be float64 Tensors. Returns True or raises GradcheckError."""
    tensors = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not tensors:
        raise ValueError("gradcheck: no input requires grad")
    for t in tensors:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: inputs must be float64 for finite differences, "
                            f"got {t.dtype}")
    analytic = _graph_grads(fn, inputs)
    grads = dict(zip([id(t) for t in inputs], analytic))
    for n, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        data, got = t.data, grads[id(t)]
        # perturb the input's own array element by element (a reshaped copy of a
        # non-contiguous input would leave fn's input untouched)
        for idx in np.ndindex(data.shape):
            orig = data[idx]
            data[idx] = orig + eps
            hi = _scalar(fn, inputs)
            data[idx] = orig - eps
            lo = _scalar(fn, inputs)
            data[idx] = orig
            num = (hi - lo) / (2 * eps)
            if not abs(got[idx] - num) <= atol + rtol * abs(num):
                raise GradcheckError(
                    f"gradcheck: input {n} (shape {t.shape}) at index {idx}: "
                    f"graph gradient {got[idx]!r}, finite differences {num!r}")
    return True


def directional_check(fn, *inputs, eps=1e-6, rtol=1e-4, seed=0):
    """One directional derivative instead of one per element, for big shapes:
    <grad, v> == (f(x + eps v) - f(x - eps v)) / (2 eps) for a random direction v.
    Costs one backward and two extra forwards. Returns True or raises GradcheckError."""
    rng = np.random.default_rng(seed)
    tensors = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    analytic = _graph_grads(fn, inputs)
    dirs = {id(t): rng.standard_normal(t.shape) for t in tensors}
    predicted = sum(float(np.sum(g * dirs[id(t)])) for t, g in zip(inputs, analytic)
                    if id(t) in dirs)
    originals = {id(t): t.data.copy() for t in tensors}
    for t in tensors:
        t.data[...] = originals[id(t)] + eps * dirs[id(t)]
    hi = _scalar(fn, inputs)
    for t in tensors:
        t.data[...] = originals[id(t)] - eps * dirs[id(t)]
    lo = _scalar(fn, inputs)
    for t in tensors:
        t.data[...] = originals[id(t)]
    num = (hi - lo) / (2 * eps)
    if not abs(predicted - num) <= rtol * max(abs(num), 1e-8) + 1e-8:
        raise GradcheckError(f"directional_check: <grad, v> = {predicted!r}, finite "
                             f"differences {num!r}")
    return True
