"""Adadelta (Keras 3 formulas: epsilon inside both square roots, lr scales the step)."""
import math

from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _adadelta_update(w, g, ag, ad, hp):
    """w -= w*wd_lr;  ag = rho*ag + (1-rho)*g^2;  d = -sqrt(ad + eps)*g / sqrt(ag + eps);
    ad = rho*ad + (1-rho)*d^2;  w += lr*d.  hp = [wd_lr, lr, rho, 1-rho, eps]; ag and ad are
    flushed to 0 below TINY (see sgd.py)."""
    wd_lr, lr, rho, c, eps = hp[0], hp[1], hp[2], hp[3], hp[4]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        agi = rho * ag[i] + c * (gi * gi)
        if agi < TINY:
            agi -= agi
        d = -(math.sqrt(ad[i] + eps) * gi) / math.sqrt(agi + eps)
        adi = rho * ad[i] + c * (d * d)
        if adi < TINY:
            adi -= adi
        ag[i] = agi
        ad[i] = adi
        w[i] = wi + lr * d


@registry.register("adadelta")
class Adadelta(Optimizer):
    """Adadelta, as Keras 3 (g = the clipped gradient, lr = learning rate):

        acc_g = rho * acc_g + (1 - rho) * g^2
        delta = -sqrt(acc_d + epsilon) * g / sqrt(acc_g + epsilon)     (the old acc_d)
        acc_d = rho * acc_d + (1 - rho) * delta^2
        w += lr * delta

    Zeiler's paper has no learning rate (lr = 1.0 reproduces it); Keras's default is 0.001.
    With ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    Slots, starting at 0: "accumulated_grad" (acc_g), "accumulated_delta_var" (acc_d).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, *, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.rho = _checks.rate("Adadelta", "rho", rho)
        self.epsilon = _checks.nonneg("Adadelta", "epsilon", epsilon)

    def _slot_specs(self):
        return (("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0))

    def _hyper(self, lr, t):
        return (lr, self.rho, 1.0 - self.rho, self.epsilon)

    def _update(self, w, g, slots, hp):
        _adadelta_update(w, g, slots[0], slots[1], hp)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config
