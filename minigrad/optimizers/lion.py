"""Lion: the sign of an interpolated momentum (Keras 3 formulas)."""
from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _lion_update(w, g, m, hp):
    """w -= w*wd_lr;  c = b1*m + (1-b1)*g;  w -= lr*sign(c);  m = b2*m + (1-b2)*g.
    hp = [wd_lr, lr, b1, 1-b1, b2, 1-b2]; sign(0) = 0 and a NaN c gives a NaN w (as
    torch.sign); m is flushed to 0 below TINY (see sgd.py)."""
    wd_lr, lr, b1, c1, b2, c2 = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        gi = g[i]
        mi = m[i]
        c = mi * b1 + gi * c1
        if c > 0:
            wi -= lr
        elif c < 0:
            wi += lr
        else:   # 0, or NaN (propagated)
            wi -= lr * c
        mi = mi * b2 + gi * c2
        if abs(mi) < TINY:
            mi -= mi
        m[i] = mi
        w[i] = wi


@registry.register("lion")
class Lion(Optimizer):
    """Lion, as Keras 3 (g = the clipped gradient, lr = learning rate):

        w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    ``beta_1`` in (0, 1] (Keras refuses 0: the optimizer would be signSGD), ``beta_2`` in
    [0, 1]. With ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every
    optimizer). Slot, starting at 0: "momentum" (m).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, *, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.beta_1 = _checks.in_range("Lion", "beta_1", beta_1, 0.0, 1.0, lo_open=True)
        self.beta_2 = _checks.rate("Lion", "beta_2", beta_2)

    def _slot_specs(self):
        return (("momentum", 0.0),)

    def _hyper(self, lr, t):
        return (lr, self.beta_1, 1.0 - self.beta_1, self.beta_2, 1.0 - self.beta_2)

    def _update(self, w, g, slots, hp):
        _lion_update(w, g, slots[0], hp)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2)
        return config
