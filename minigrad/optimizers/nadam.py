"""Nadam: Adam with Nesterov momentum and Dozat's momentum schedule (Keras 3 formulas)."""
import math

from .. import _checks
from .._checks import TINY
from .._kernel import kernel
from .base import Optimizer, registry


@kernel
def _nadam_update(w, g, m, v, hp):
    """w -= w*wd_lr;  m += (g - m)*(1-b1);  v += (g^2 - v)*(1-b2);
    w -= lr*(cm*m + cg*g) / (sqrt(v*cv) + eps).  hp = [wd_lr, lr, 1-b1, 1-b2, eps, cm, cg,
    cv] with cm = u_{t+1}/(1 - U_{t+1}), cg = (1 - u_t)/(1 - U_t), cv = 1/(1 - b2^t);
    m and v are flushed to 0 below TINY (see sgd.py)."""
    wd_lr, lr, c1, c2, eps = hp[0], hp[1], hp[2], hp[3], hp[4]
    cm, cg, cv = hp[5], hp[6], hp[7]
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
        w[i] = wi - lr * (cm * mi + cg * gi) / (math.sqrt(vi * cv) + eps)


@registry.register("nadam")
class Nadam(Optimizer):
    """Nadam, as Keras 3 (g = the clipped gradient, lr = learning rate, t = iterations + 1):

        u_t = beta_1 * (1 - 0.5 * 0.96^t);   u_{t+1} = beta_1 * (1 - 0.5 * 0.96^(t+1))
        U_t = U_{t-1} * u_t  (the "u_product", U_0 = 1);   U_{t+1} = U_t * u_{t+1}
        m += (g - m) * (1 - beta_1);   v += (g^2 - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - U_{t+1}) + (1 - u_t) * g / (1 - U_t)
        v_hat = v / (1 - beta_2^t)
        w -= lr * m_hat / (sqrt(v_hat) + epsilon)

    Unlike Adam, epsilon is added to the square root of the bias-corrected v_hat. With
    ``weight_decay``, ``w -= w*weight_decay*lr`` first (decoupled, as every optimizer).

    Slots, starting at 0: "momentum" (m), "velocity" (v). ``u_product`` (U_t) is
    optimizer-wide state, the last entry of ``variables`` (a 0-d float64 array), so a
    restored optimizer continues the same momentum schedule.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, *,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 lr=None, name=None):
        super().__init__(learning_rate, lr, 0.001, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name)
        self.beta_1 = _checks.rate("Nadam", "beta_1", beta_1, hi_open=True)
        self.beta_2 = _checks.rate("Nadam", "beta_2", beta_2, hi_open=True)
        self.epsilon = _checks.nonneg("Nadam", "epsilon", epsilon)

    def _slot_specs(self):
        return (("momentum", 0.0), ("velocity", 0.0))

    def _global_specs(self):
        return (("u_product", 1.0),)

    def _hyper(self, lr, t):
        # called once per step: advance U (Keras updates it before the variables' updates)
        u_product = self._globals[0]
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** t)
        u_next = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_prod_t = float(u_product) * u_t
        u_product[...] = u_prod_t
        u_prod_next = u_prod_t * u_next
        return (lr, 1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon,
                u_next / (1.0 - u_prod_next), (1.0 - u_t) / (1.0 - u_prod_t),
                1.0 / (1.0 - self.beta_2 ** t))

    def _update(self, w, g, slots, hp):
        _nadam_update(w, g, slots[0], slots[1], hp)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
