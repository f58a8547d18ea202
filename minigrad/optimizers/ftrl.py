"""FTRL-Proximal (McMahan et al. 2013) with Keras 3's formulas, shrinkage and beta."""
import math

from .. import _checks
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _ftrl_update(w, g, n, z, hp):
    """w -= w*wd_lr;  gs = g + 2*l2s*w;  n' = n + g^2;  z += gs - (sqrt(n') - sqrt(n))/lr * w;
    w = (clip(z, -l1, l1) - z) / (sqrt(n')/lr + 2*l2);  n = n'  (learning_rate_power -0.5).
    hp = [wd_lr, 1/lr, -0.5, l1, l2 + beta/(2*lr), l2s]. Neither slot decays towards 0 (n
    only grows; z only moves with g), so nothing is flushed."""
    wd_lr, inv_lr, l1, l2, l2s = hp[0], hp[1], hp[3], hp[4], hp[5]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        nn = n[i] + gi * gi
        pn = math.sqrt(nn)
        zi = z[i] + (gi + 2.0 * l2s * wi) - (pn - math.sqrt(n[i])) * inv_lr * wi
        z[i] = zi
        n[i] = nn
        w[i] = (min(max(zi, -l1), l1) - zi) / (pn * inv_lr + 2.0 * l2)


@kernel
def _ftrl_pow_update(w, g, n, z, hp):
    """As ``_ftrl_update`` with n^-p for any learning_rate_power p = hp[2] <= 0 (pow is ~10x
    slower than sqrt, so the default p = -0.5 has the kernel above)."""
    wd_lr, inv_lr, p, l1, l2, l2s = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        nn = n[i] + gi * gi
        pn = nn ** -p
        zi = z[i] + (gi + 2.0 * l2s * wi) - (pn - n[i] ** -p) * inv_lr * wi
        z[i] = zi
        n[i] = nn
        w[i] = (min(max(zi, -l1), l1) - zi) / (pn * inv_lr + 2.0 * l2)


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
        return (1.0 / lr, self.learning_rate_power, self.l1_regularization_strength,
                self.l2_regularization_strength + self.beta / (2.0 * lr),
                self.l2_shrinkage_regularization_strength)

    def _update(self, w, g, slots, hp):
        if self.learning_rate_power == -0.5:
            _ftrl_update(w, g, slots[0], slots[1], hp)
        else:
            _ftrl_pow_update(w, g, slots[0], slots[1], hp)

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
