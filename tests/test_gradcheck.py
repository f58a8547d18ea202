"""gradcheck and directional_check: sharp enough to catch a wrong backward, exact on any
input layout."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.function import Function
from minigrad.gradcheck import GradcheckError, directional_check, gradcheck


def leaf(values, dtype="float64"):
    return mg.Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_gradcheck_catches_a_wrong_backward():
    class BadSquare(Function):      # defined here: the op-table guard skips test modules
        """y = x**2 with a backward that forgets the factor 2."""

        def forward(self, x):
            self.save(x)
            return x * x

        def backward(self, g):
            return g * self.saved[0]

    class GoodSquare(BadSquare):
        def backward(self, g):
            return 2.0 * g * self.saved[0]

    x = leaf([0.5, -1.5, 2.0])
    assert gradcheck(GoodSquare.apply, x)
    with pytest.raises(GradcheckError, match=r"input 0 .*index \(0,\)"):
        gradcheck(BadSquare.apply, x)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(GoodSquare.apply, mg.Tensor(np.ones(2, np.float32), requires_grad=True))


def test_gradcheck_perturbs_a_non_contiguous_input_itself():
    """Issue 10 item 7: a transposed (non-contiguous) input used to be perturbed through a
    reshaped copy, so a correct gradient failed. PyTorch's gradcheck passes here."""
    data = np.random.default_rng(0).standard_normal((4, 3)).T
    assert not data.flags.c_contiguous
    x = mg.Tensor(data, requires_grad=True)
    assert gradcheck(lambda t: t * t, x)
    c = np.random.default_rng(1).standard_normal((3, 4))
    assert gradcheck(lambda t: t.exp() * c, x)
    with pytest.raises(GradcheckError, match=r"index \(0, 1\)"):
        _wrong_at(x, (0, 1))    # and a wrong element is found at its own index
    assert directional_check(lambda t: t * t * c, x)


def _wrong_at(x, idx):
    """gradcheck of x*x with the gradient at ``idx`` corrupted by a hook."""
    def corrupt(g):
        g = g.copy()
        g[idx] += 1.0
        return g

    def fn(t):
        y = t * 1.0
        y.register_hook(corrupt)
        return y * y
    return gradcheck(fn, x)
