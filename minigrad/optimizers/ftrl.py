"""FTRL-Proximal (McMahan et al. 2013) with Keras 3's formulas, shrinkage and beta."""
import math

from .. import _checks
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _ftrl_update(w, g, n, z, hp):
    """w -= w*wd_lr;  gs = g + 2*l2s*w;  n' = n + g^2;  z += gs - (n'^-p - n^-p)/lr * w;
    w = (clip(z, -l1, l1) - z) / (n'^-p/lr + 2*l2);  n = n'.
    hp = [wd_lr, lr, p (= learning_rate_power, <= 0), l1, l2 + beta/(2*lr), l2s].
    p = -0.5 (the default) uses sqrt, anything else pow. Neither slot decays towards 0
    (n only grows; z only moves with g), so nothing is flushed."""
    wd_lr, lr, p, l1, l2, l2s = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    root = p == -0.5
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        ni = n[i]
        nn = ni + gi * gi
        if root:
            pn, po = math.sqrt(nn), math.sqrt(ni)
        else:
            pn, po = nn ** -p, ni ** -p
        zi = z[i] + (gi + 2.0 * l2s * wi) - (pn - po) / lr * wi
        z[i] = zi
        n[i] = nn
        w[i] = (min(max(zi, -l1), l1) - zi) / (pn / lr + 2.0 * l2)


@registry.register("ftrl")
class Ftrl(Optimizer):
    """FTRL, as Keras 3 (g = the clipped gradient, lr = learning rate, p = learning_rate_power):

        g_s = g + 2 * l2_shrinkage_regularization_strength * w
        n_new = n + g^2                                   (n starts at initial_accumulator_value)
        z += g_s - (n_new^-p - n^-p) / lr * w             (z starts at 0)
        w = (clip(z, -l1, l1) - z) / (n_new^-p / lr + 2 * (l2 + beta / (2 * lr)))
        n = n_new

    l1, l2 = l1_regularization_strength, l2_regularization_strength. The learning rate must be
    > 0 (it divides); Keras's checks are kept: initial_accumulator_value, l1, l2 and the
    shrinkage >= 0, learning_rate_power <= 0 (and, stricter, beta >= 0). With
    ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    Slots: "accumulator" (n), "linear" (z).
    """

    _lr_positive = True

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, *, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.learning_rate_power = _checks.in_range("Ftrl", "learning_rate_power",
                                                    learning_rate_power, hi=0.0)
        self.initial_accumulator_value = _checks.nonneg(
            "Ftrl", "initial_accumulator_value", initial_accumulator_value)
        self.l1_regularization_strength = _checks.nonneg(
            "Ftrl", "l1_regularization_strength", l1_regularization_strength)
        self.l2_regularization_strength = _checks.nonneg(
            "Ftrl", "l2_regularization_strength", l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = _checks.nonneg(
            "Ftrl", "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)
        self.beta = _checks.nonneg("Ftrl", "beta", beta)

    def _slot_specs(self):
        return (("accumulator", self.initial_accumulator_value), ("linear", 0.0))

    def _hyper(self, lr, t):
        return (lr, self.learning_rate_power, self.l1_regularization_strength,
                self.l2_regularization_strength + self.beta / (2.0 * lr),
                self.l2_shrinkage_regularization_strength)

    def _update(self, w, g, slots, hp):
        _ftrl_update(w, g, slots[0], slots[1], hp)

    def get_config(self):
        config = super().get_config()
        config.update(learning_rate_power=self.learning_rate_power,
                      initial_accumulator_value=self.initial_accumulator_value,
                      l1_regularization_strength=self.l1_regularization_strength,
                      l2_regularization_strength=self.l2_regularization_strength,
                      l2_shrinkage_regularization_strength=(
                          self.l2_shrinkage_regularization_strength),
                      beta=self.beta)
        return config
