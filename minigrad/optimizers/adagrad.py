"""Adagrad (Keras 3 formula: accumulator starts at 0.1, epsilon inside the square root)."""
import math

from .. import _checks
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _adagrad_update(w, g, a, hp):
    """w -= w*wd_lr;  a += g^2;  w -= lr*g / sqrt(a + eps).  hp = [wd_lr, lr, eps].
    The accumulator only grows: nothing to flush."""
    wd_lr, lr, eps = hp[0], hp[1], hp[2]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        ai = a[i] + gi * gi
        a[i] = ai
        w[i] = wi - lr * gi / math.sqrt(ai + eps)


@registry.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad, as Keras 3 (g = the clipped gradient, lr = learning rate):

        a += g^2;   w -= lr * g / sqrt(a + epsilon)

    The accumulator ``a`` starts at ``initial_accumulator_value`` (0.1, where the lecture's s
    starts at 0) and epsilon sits **inside** the square root, as in the lecture's
    ``eta / sqrt(s + eps)``.

    With ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    Slot: "accumulator" (a).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, *,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.initial_accumulator_value = _checks.nonneg(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _checks.nonneg("Adagrad", "epsilon", epsilon)

    def _slot_specs(self):
        return (("accumulator", self.initial_accumulator_value),)

    def _hyper(self, lr, t):
        return (lr, self.epsilon)

    def _update(self, w, g, slots, hp):
        _adagrad_update(w, g, slots[0], hp)

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value,
                      epsilon=self.epsilon)
        return config
