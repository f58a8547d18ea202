"""RMSprop, plain, centered and with momentum (Keras 3 formulas)."""
import math

from .._kernel import kernel
from .base import Optimizer, check_nonneg, check_range, registry

# Slots that decay towards zero (a weight whose input is always 0, e.g. an image border)
# become subnormal floats after a few hundred steps, and x86 arithmetic on subnormals is
# ~50x slower: a decayed slot is flushed to 0 once it falls below float32's smallest normal.
# Its contribution to w at that point is below 1e-30, far under float32 resolution.
_TINY = 1.1754943508222875e-38


@kernel
def _rmsprop_update(w, g, v, m, mg, hp):
    """v = rho*v + (1-rho)*g^2;  centered: mg = rho*mg + (1-rho)*g, den = v - mg^2 + eps,
    else den = v + eps;  inc = lr*g / sqrt(den);  momentum: m = momentum*m + inc, w -= m,
    else w -= inc.  hp = [lr, rho, 1-rho, eps, momentum, centered (0/1), use momentum (0/1)].
    ``m`` / ``mg`` are touched only when their flag is set (else any array may be passed)."""
    lr, rho, one_minus_rho, eps, momentum = hp[0], hp[1], hp[2], hp[3], hp[4]
    centered = hp[5] != 0
    use_momentum = hp[6] != 0
    for i in range(w.size):
        gi = g[i]
        vi = rho * v[i] + one_minus_rho * (gi * gi)
        if vi < _TINY:
            vi -= vi
        v[i] = vi
        if centered:
            mgi = rho * mg[i] + one_minus_rho * gi
            if abs(mgi) < _TINY:
                mgi -= mgi
            mg[i] = mgi
            inc = lr * gi / math.sqrt(vi - mgi * mgi + eps)
        else:
            inc = lr * gi / math.sqrt(vi + eps)
        if use_momentum:
            mi = momentum * m[i] + inc
            if abs(mi) < _TINY:
                mi -= mi
            m[i] = mi
            w[i] -= mi
        else:
            w[i] -= inc


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
    then "average_gradient" (mg, only when centered).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, *, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.rho = check_range("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = check_range("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = check_nonneg("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)

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
