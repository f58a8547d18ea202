"""RMSprop, plain, centered and with momentum (Keras 3 formulas)."""
import math

from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _rmsprop_update(w, g, v, m, mg, hp):
    """w -= w*wd_lr;  v = rho*v + (1-rho)*g^2;  centered: mg = rho*mg + (1-rho)*g,
    den = v - mg^2 + eps, else den = v + eps;  inc = lr*g / sqrt(den);
    momentum: m = momentum*m + inc, w -= m, else w -= inc.
    hp = [wd_lr, lr, rho, 1-rho, eps, momentum, centered (0/1), use momentum (0/1)];
    decaying slots are flushed to 0 below TINY (see sgd.py).
    ``m`` / ``mg`` are touched only when their flag is set (else any array may be passed)."""
    wd_lr, lr, rho, one_minus_rho = hp[0], hp[1], hp[2], hp[3]
    eps, momentum = hp[4], hp[5]
    centered = hp[6] != 0
    use_momentum = hp[7] != 0
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        vi = rho * v[i] + one_minus_rho * (gi * gi)
        if vi < TINY:
            vi -= vi
        v[i] = vi
        if centered:
            mgi = rho * mg[i] + one_minus_rho * gi
            if abs(mgi) < TINY:
                mgi -= mgi
            mg[i] = mgi
            inc = lr * gi / math.sqrt(vi - mgi * mgi + eps)
        else:
            inc = lr * gi / math.sqrt(vi + eps)
        if use_momentum:
            mi = momentum * m[i] + inc
            if abs(mi) < TINY:
                mi -= mi
            m[i] = mi
            w[i] = wi - mi
        else:
            w[i] = wi - inc


@registry.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop, as Keras 3 (g = the clipped gradient, lr = learning rate):

        v = rho*v + (1-rho)*g^2
        centered:  mg = rho*mg + (1-rho)*g;  den = v - mg^2 + epsilon
        else:      den = v + epsilon
        inc = lr * g / sqrt(den)                  (epsilon inside the square root)
        momentum > 0:  m = momentum*m + inc;  w -= m
        else:          w -= inc

    All slots start at 0. Slots: "velocity" (v), then "momentum" (m, only when momentum > 0),
    then "average_gradient" (mg, only when centered). With ``weight_decay``,
    ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, *, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.rho = _checks.rate("RMSprop", "rho", rho)
        self.momentum = _checks.rate("RMSprop", "momentum", momentum)
        self.epsilon = _checks.nonneg("RMSprop", "epsilon", epsilon)
        self.centered = _checks.boolean("RMSprop", "centered", centered)

    def _slot_specs(self):
        specs = [("velocity", 0.0)]
        if self.momentum > 0:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return tuple(specs)

    def _hyper(self, lr, t):
        return (lr, self.rho, 1.0 - self.rho, self.epsilon, self.momentum,
                float(self.centered), float(self.momentum > 0))

    def _update(self, w, g, slots, hp):
        v = slots[0]
        m = slots[1] if self.momentum > 0 else v
        mg = slots[-1] if self.centered else v
        _rmsprop_update(w, g, v, m, mg, hp)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config
