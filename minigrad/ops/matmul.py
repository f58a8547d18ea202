"""Matrix product through BLAS (numpy ``@``)."""
import numpy as np

from ..function import Function


class MatMul(Function):
    """y = a @ b (2-D, or batched with broadcasting; 1-D operands as numpy).

    VJP: da = g @ b^T, db = a^T @ g (skipped when the input needs no gradient)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]}); expected a (..., n, k)"
                f" @ b (..., k, m)")
        self.save(a, b)
        return a @ b

    def backward(self, g):
        a, b = self.saved
        # promote 1-D operands as numpy does, then drop the promoted axis again; the
        # engine's unbroadcast sums any batch axes an operand was broadcast over
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:   # first: for 1-D @ 1-D, g is 0-d and gets (1,) then (1, 1)
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        da = db = None
        if self.needs_input_grad[0]:
            da = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                da = np.squeeze(da, -2)
        if self.needs_input_grad[1]:
            db = np.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                db = np.squeeze(db, -1)
        return da, db


def matmul(a, b):
    """a @ b through BLAS."""
    return MatMul.apply(a, b)
