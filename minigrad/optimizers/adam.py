"""Adam with optional AMSGrad (Keras 3 formulas: epsilon outside the square root)."""
import math

from .._kernel import kernel
from .base import Optimizer, check_nonneg, check_range, registry

# Moments that decay towards zero (a weight whose input is always 0, e.g. an image border)
# become subnormal floats after a few hundred steps, and x86 arithmetic on subnormals is
# ~50x slower: a decayed slot is flushed to 0 once it falls below float32's smallest normal.
# Its contribution to w at that point is below 1e-30, far under float32 resolution.
_TINY = 1.1754943508222875e-38


@kernel
def _adam_update(w, g, m, v, hp):
    """m += (g - m)*(1-b1);  v += (g^2 - v)*(1-b2);  w -= alpha*m / (sqrt(v) + eps).
    hp = [alpha, 1-b1, 1-b2, eps], alpha = lr*sqrt(1-b2^t)/(1-b1^t)."""
    alpha, c1, c2, eps = hp[0], hp[1], hp[2], hp[3]
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        if abs(mi) < _TINY:
            mi -= mi
        if vi < _TINY:
            vi -= vi
        m[i] = mi
        v[i] = vi
        w[i] -= alpha * mi / (math.sqrt(vi) + eps)


@kernel
def _adam_amsgrad_update(w, g, m, v, vhat, hp):
    """As ``_adam_update`` with vhat = max(vhat, v) (uncorrected v) in place of v in the step."""
    alpha, c1, c2, eps = hp[0], hp[1], hp[2], hp[3]
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        if abs(mi) < _TINY:
            mi -= mi
        if vi < _TINY:
            vi -= vi
        vh = max(vhat[i], vi)
        m[i] = mi
        v[i] = vi
        vhat[i] = vh
        w[i] -= alpha * mi / (math.sqrt(vh) + eps)


@registry.register("adam")
class Adam(Optimizer):
    """Adam, as Keras 3 (g = the clipped gradient, lr = learning rate, t = iterations + 1):

        m += (g - m) * (1 - beta_1)                 (= beta_1*m + (1-beta_1)*g)
        v += (g^2 - v) * (1 - beta_2)
        alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        amsgrad:  vhat = max(vhat, v) (the uncorrected v), used in place of v below
        w -= alpha * m / (sqrt(v) + epsilon)

    Epsilon sits **outside** the square root and is Kingma & Ba's "epsilon hat": the step
    equals the textbook ``lr * m_hat / (sqrt(v_hat) + epsilon / sqrt(1 - beta_2^t))``. The
    lecture writes ``w -= eta * m_hat / sqrt(s_hat + epsilon)`` (epsilon **inside** the root
    of the bias-corrected s): with epsilon=1e-7 and |g| >= 0.1 the two agree to ~2e-6
    relative, but with epsilon=0.5 they differ by ~19%. This is the Keras form, not the
    lecture's.

    Slots, all starting at 0: "momentum" (m), "velocity" (v), then "velocity_hat" (vhat,
    only with amsgrad).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, *, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.beta_1 = check_range("Adam", "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = check_range("Adam", "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = check_nonneg("Adam", "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self):
        specs = (("momentum", 0.0), ("velocity", 0.0))
        return (specs + (("velocity_hat", 0.0),)) if self.amsgrad else specs

    def _hyper(self, lr, t):
        alpha = lr * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        return (alpha, 1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon)

    def _update(self, w, g, slots, hp):
        if self.amsgrad:
            _adam_amsgrad_update(w, g, slots[0], slots[1], slots[2], hp)
        else:
            _adam_update(w, g, slots[0], slots[1], hp)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      amsgrad=self.amsgrad)
        return config
