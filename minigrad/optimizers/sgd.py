"""SGD with optional momentum and Nesterov momentum (Keras 3 formulas)."""
from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry

# A slot that decays towards zero (a weight whose input is always 0, e.g. an image border)
# would go subnormal after a few hundred steps, and x86 arithmetic on subnormals is ~50x
# slower: every kernel flushes a decaying slot to 0 once it falls below TINY (float32's
# smallest normal). Its contribution to w at that point is below 1e-30.


@kernel
def _sgd_update(w, g, hp):
    """w -= w*wd_lr;  w -= lr*g.  hp = [wd_lr, lr]."""
    wd_lr, lr = hp[0], hp[1]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        w[i] = wi - lr * g[i]


@kernel
def _sgd_momentum_update(w, g, v, hp):
    """w -= w*wd_lr;  v = momentum*v - lr*g;  w += v.  hp = [wd_lr, lr, momentum]."""
    wd_lr, lr, momentum = hp[0], hp[1], hp[2]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        vi = momentum * v[i] - lr * g[i]
        if abs(vi) < TINY:
            vi -= vi
        v[i] = vi
        w[i] = wi + vi


@kernel
def _sgd_nesterov_update(w, g, v, hp):
    """w -= w*wd_lr;  v = momentum*v - lr*g;  w += momentum*v - lr*g (with the new v).
    hp = [wd_lr, lr, momentum]."""
    wd_lr, lr, momentum = hp[0], hp[1], hp[2]
    for i in range(w.size):
        wi = w[i]
        if wd_lr != 0.0:
            wi -= wi * wd_lr
        step = lr * g[i]
        vi = momentum * v[i] - step
        if abs(vi) < TINY:
            vi -= vi
        v[i] = vi
        w[i] = wi + (momentum * vi - step)


@registry.register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, as Keras 3 (g = the clipped gradient, lr = learning rate).

    - plain (momentum=0): ``w -= lr*g``.
    - momentum: ``v = momentum*v - lr*g; w += v`` (v starts at 0).
    - nesterov: ``v = momentum*v - lr*g; w += momentum*v - lr*g`` with the new v. This is
      Sutskever's reformulation: the gradient is the one at w, not at a look-ahead point
      ``w + momentum*v`` as in the lecture's picture; the trajectories are the same up to the
      change of variable from the look-ahead point to w.

    With ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).
    Slot (only when momentum > 0): "momentum" (v).
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, *, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, lr=None, name=None):
        super().__init__(learning_rate, lr, 0.01, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.momentum = _checks.rate("SGD", "momentum", momentum)
        self.nesterov = _checks.boolean("SGD", "nesterov", nesterov)

    def _slot_specs(self):
        return (("momentum", 0.0),) if self.momentum > 0 else ()

    def _hyper(self, lr, t):
        return (lr, self.momentum)

    def _update(self, w, g, slots, hp):
        if not slots:
            _sgd_update(w, g, hp)
        elif self.nesterov:
            _sgd_nesterov_update(w, g, slots[0], hp)
        else:
            _sgd_momentum_update(w, g, slots[0], hp)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
