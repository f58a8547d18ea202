"""Adam with optional AMSGrad, and AdamW (Keras 3 formulas: epsilon outside the square root)."""
import math

from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _adam_update(w, g, m, v, hp):
    """w -= w*wd_lr;  m += (g - m)*(1-b1);  v += (g^2 - v)*(1-b2);
    w -= alpha*m / (sqrt(v) + eps).  hp = [wd_lr, alpha, 1-b1, 1-b2, eps],
    alpha = lr*sqrt(1-b2^t)/(1-b1^t); m and v are flushed to 0 below TINY (see sgd.py)."""
    wd_lr, alpha, c1, c2, eps = hp[0], hp[1], hp[2], hp[3], hp[4]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        if abs(mi) < TINY:
            mi -= mi
        if vi < TINY:
            vi -= vi
        m[i] = mi
        v[i] = vi
        w[i] = wi - alpha * mi / (math.sqrt(vi) + eps)


@kernel
def _adam_amsgrad_update(w, g, m, v, vhat, hp):
    """As ``_adam_update`` with vhat = max(vhat, v) (uncorrected v) in place of v in the step."""
    wd_lr, alpha, c1, c2, eps = hp[0], hp[1], hp[2], hp[3], hp[4]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        if abs(mi) < TINY:
            mi -= mi
        if vi < TINY:
            vi -= vi
        vh = max(vhat[i], vi)
        m[i] = mi
        v[i] = vi
        vhat[i] = vh
        w[i] = wi - alpha * mi / (math.sqrt(vh) + eps)


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

    With ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    Slots, all starting at 0: "momentum" (m), "velocity" (v), then "velocity_hat" (vhat,
    only with amsgrad).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, *, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        owner = type(self).__name__
        self.beta_1 = _checks.rate(owner, "beta_1", beta_1, hi_open=True)
        self.beta_2 = _checks.rate(owner, "beta_2", beta_2, hi_open=True)
        self.epsilon = _checks.nonneg(owner, "epsilon", epsilon)
        self.amsgrad = _checks.boolean(owner, "amsgrad", amsgrad)

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


@registry.register("adamw")
class AdamW(Adam):
    """AdamW, as Keras 3: Adam with decoupled weight decay on by default
    (``weight_decay=0.004``, the second positional argument as in Keras):

        w -= w * weight_decay * lr;   then the Adam step above (same slots, same kernel).

    ``weight_decay=None`` is refused (ValueError), as in Keras.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, *, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, lr=None, name=None):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float >= 0, got None (use Adam "
                             "for no weight decay)")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, lr=lr, name=name)
