"""Adamax: Adam with the infinity norm in place of the second moment (Keras 3 formulas)."""
from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _adamax_update(w, g, m, u, hp):
    """w -= w*wd_lr;  m += (g - m)*(1-b1);  u = max(b2*u, |g|);  w -= alpha*m / (u + eps).
    hp = [wd_lr, alpha, 1-b1, b2, eps], alpha = lr/(1-b1^t); m and u are flushed to 0 below
    TINY (see sgd.py)."""
    wd_lr, alpha, c1, b2, eps = hp[0], hp[1], hp[2], hp[3], hp[4]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        ui = max(b2 * u[i], abs(gi))
        if abs(mi) < TINY:
            mi -= mi
        if ui < TINY:
            ui -= ui
        m[i] = mi
        u[i] = ui
        w[i] = wi - alpha * mi / (ui + eps)


@registry.register("adamax")
class Adamax(Optimizer):
    """Adamax, as Keras 3 (g = the clipped gradient, lr = learning rate, t = iterations + 1):

        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1^t) * (u + epsilon))

    With ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    Slots, starting at 0: "momentum" (m), "norm" (u).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, *,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.beta_1 = _checks.rate("Adamax", "beta_1", beta_1, hi_open=True)
        self.beta_2 = _checks.rate("Adamax", "beta_2", beta_2, hi_open=True)
        self.epsilon = _checks.nonneg("Adamax", "epsilon", epsilon)

    def _slot_specs(self):
        return (("momentum", 0.0), ("norm", 0.0))

    def _hyper(self, lr, t):
        return (lr / (1.0 - self.beta_1 ** t), 1.0 - self.beta_1, self.beta_2, self.epsilon)

    def _update(self, w, g, slots, hp):
        _adamax_update(w, g, slots[0], slots[1], hp)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
