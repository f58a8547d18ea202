"""Fused dense layer: y = act(x @ W + b), one BLAS GEMM plus a fused in-place epilogue.

The activation's ``Epilogue`` (``ops.activation``, carried by its registry entry in
``minigrad.activations``) finishes the GEMM output in place. For activations whose derivative
is a function of the output (relu family, sigmoid, tanh, softplus) the pre-activation
z = x @ W + b is never kept: backward recovers act'(z) from the saved y in one pass that
also sums db. gelu, silu and mish save z instead. The gradient at z (Nielsen's delta) is
reported through ``probe(tag, "delta", dz)``; with ``probe_z`` and a listener registered,
forward also sends ``probe(tag, "preactivation", z)`` (the diagnostics' |f'(z)| rule).
"""
import numpy as np

from .. import _alloc, _checks
from .._flat import grad_dest
from ..function import Function
from ..probe import _listeners, probe, probe_listeners


def _check_shapes(x, w, b):
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[0]:
        raise ValueError(f"linear: input of shape {x.shape} and kernel of shape {w.shape} do "
                         f"not match; expected x (batch, in) @ kernel (in, units)")
    if b is not None and b.shape != (w.shape[1],):
        raise ValueError(f"linear: bias of shape {b.shape} for a kernel of shape {w.shape}; "
                         f"expected bias ({w.shape[1]},)")


# dX = dz @ W^T copies W^T contiguous up to this many elements (`python -m minigrad bench
# --micro`: faster at 64x64, 256x10 and 2048x10, slower from 256x256 on)
_COPY_WT_MAX = 32768


def input_grad(dz, w, out=None):
    """dx = dz @ W^T. A small kernel's transpose is copied contiguous first: BLAS's transposed
    path costs more than the copy there (64x64: 5.4 us vs 3.0 + the copy)."""
    wt = np.ascontiguousarray(w.T) if w.size <= _COPY_WT_MAX else w.T
    return np.matmul(dz, wt) if out is None else np.matmul(dz, wt, out=out)


class Linear(Function):
    """y = act(x @ W + b) for x (batch, in) (leading axes flattened), W (in, units), b (units,).

    VJP: dz = g * act'(z), from the saved y (relu: y > 0; leaky: 1 or alpha; elu/selu: scale
    or y + scale*alpha; sigmoid: y (1 - y); tanh: 1 - y**2; relu6: 0 < y < 6; softplus:
    1 - exp(-y)) or from the saved z (gelu, silu, mish); db = sum over rows of dz;
    dW = x^T dz; dx = dz W^T (computed only when x needs a gradient)."""

    def forward(self, x, w, b=None, epilogue=None, alpha=None, tag=None, probe_z=False):
        _check_shapes(x, w, b)
        ep = None if epilogue is None or epilogue.saves == "none" else epilogue
        self.ep, self.alpha, self.tag = ep, alpha, tag
        self.x_shape = x.shape
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        z = x2 @ w
        out_shape = x.shape[:-1] + (w.shape[1],)
        if ep is None:
            if b is not None:
                z += b
            y, kept = z, None
        else:
            if probe_z and tag is not None and probe_listeners():
                if b is not None:
                    z += b
                    b = None
                # the y-derivable epilogues overwrite z: the listener gets a copy
                probe(tag, "preactivation", (z.copy() if ep.saves == "y" else z)
                      .reshape(out_shape))
            y = z if ep.saves == "y" else np.empty_like(z)
            ep.forward(z, b, alpha, y)
            kept = y if ep.saves == "y" else z
        self.save(x2, w, kept)
        return y if x.ndim == 2 else y.reshape(out_shape)

    def _dest(self, k):
        """The free flat gradient view of input k (an optimizer's packed variable), or None
        (also for a Linear run by hand, without inputs)."""
        inputs = self.inputs
        return grad_dest(inputs[k]) if len(inputs) > k else None

    def backward(self, g):
        x2, w, kept = self.saved
        needs = self.needs_input_grad
        g = np.ascontiguousarray(g).reshape(x2.shape[0], w.shape[1])
        has_db = len(needs) == 3 and needs[2]
        # dW and db go straight into the optimizer's flat gradient views when free (_flat)
        db_dest = self._dest(2) if has_db else None
        if self.ep is None:
            dz = g
            db = np.add.reduce(g, axis=0, out=db_dest) if has_db else None   # = g.sum(0)
        else:
            db = db_dest if db_dest is not None else np.empty(w.shape[1] if has_db else 0,
                                                              dtype=g.dtype)   # size 0: no sum
            dz = np.empty(g.shape, dtype=g.dtype)
            self.ep.backward(kept, g, self.alpha, dz, db)
        if self.tag is not None and _listeners:   # tested first: most steps have none
            probe(self.tag, "delta", dz if len(self.x_shape) == 2 else
                  dz.reshape(self.x_shape[:-1] + (w.shape[1],)))
        dw = None
        if needs[1]:
            dest = self._dest(1)
            dw = _alloc.matmul(x2.T, dz) if dest is None else np.matmul(x2.T, dz, out=dest)
        dx = None
        if needs[0]:
            dx = input_grad(dz, w)
            if len(self.x_shape) != 2:
                dx = dx.reshape(self.x_shape)
        if len(needs) == 2:
            return dx, dw
        return dx, dw, (db if has_db else None)


def fused_linear(x, kernel, bias=None, epilogue=None, alpha=None, *, tag=None, probe_z=False):
    """act(x @ kernel + bias) with an activation's ``Epilogue`` (None: no activation) and its
    parameter ``alpha`` as given (Dense's path: no name lookup, no "output" probe, which the
    layer sends itself once it has applied its activation). ``probe_z``: send the
    pre-activation to a listener (the activation's saturation rule needs it)."""
    if bias is None:
        return Linear.apply(x, kernel, epilogue=epilogue, alpha=alpha, tag=tag, probe_z=probe_z)
    return Linear.apply(x, kernel, bias, epilogue=epilogue, alpha=alpha, tag=tag,
                        probe_z=probe_z)


def _entry(activation):
    """The registry entry of a fusable ``activation`` (None, a name, or a built-in function);
    ValueError listing the fusable names."""
    from .. import activations  # the registry imports the ops: resolved at call time
    if activation is None:
        return activations.LINEAR
    try:
        entry = (activations.entry(activation) if isinstance(activation, str)
                 else activations.entry_of(activation))
    except ValueError:
        entry = None
    if entry is None or entry.fused is None:
        fusable = [e.name for e in activations.entries() if e.fused is not None]
        raise ValueError(f"linear: cannot fuse the activation {activation!r}; expected None or "
                         f"one of {', '.join(fusable)} (apply other activations after linear)")
    return entry


def _epilogue(entry, alpha):
    """(epilogue, alpha) of a fusable entry, ``alpha`` checked against it."""
    ep = entry.fused
    if alpha is None:
        return ep, ep.alpha
    if ep.alpha is None:
        raise ValueError(f"linear: the activation {entry.name!r} takes no alpha, got "
                         f"alpha={alpha!r}")
    alpha = _checks.number("linear", "alpha", alpha)
    if alpha < 0.0:
        # backward tells the branch from the sign of y, which needs alpha >= 0
        raise ValueError(f"linear: alpha={alpha} for {entry.name!r}; the fused epilogue needs "
                         f"alpha >= 0 (apply the activation after linear instead)")
    return ep, alpha


def linear(x, kernel, bias=None, activation=None, *, tag=None, alpha=None):
    """Dense layer act(x @ kernel + bias) with the bias and a deterministic elementwise
    activation fused after the BLAS GEMM (None/"linear", the relu family, sigmoid, tanh,
    softplus, gelu, silu, mish: every entry of ``minigrad.activations`` with an epilogue).
    ``alpha``: leaky_relu's slope (0.2) or elu's alpha (1.0). ``tag`` names the probes:
    forward sends ``(tag, "output", y)``, backward ``(tag, "delta", dz)`` with dz the
    gradient at the pre-activation, and while a listener waits ``(tag, "preactivation", z)``
    when the activation's saturation rule reads z."""
    entry = _entry(activation)
    ep, alpha = _epilogue(entry, alpha)
    y = fused_linear(x, kernel, bias, ep, alpha, tag=tag,
                     probe_z=entry.saturation.needs_preactivation)
    if tag is not None:
        probe(tag, "output", y.data)
    return y
