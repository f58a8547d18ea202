"""minigrad: a small, fast, readable deep-learning framework on NumPy and Numba.

``import minigrad as keras`` runs Keras-style code; ``minigrad.keras`` is this module, so
``import minigrad as tf; tf.keras.layers.Dense`` works too. Numba is imported on the first
kernel call, never here, and the Keras-shaped subpackages (layers, models, optimizers, ...)
are imported on first attribute access, so ``import minigrad`` stays cheap.
"""
import importlib as _importlib
import sys as _sys

from . import config, random
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .ops.arith import add, div, mul, neg, sub
from .ops.matmul import matmul
from .ops.reduce import max, mean, min, sum, var
from .ops.shape import cast, concatenate, flatten, reshape, stack, transpose, where
from .ops.unary import abs, clip, exp, log, sqrt
from .probe import add_probe_listener, probe, remove_probe_listener
from .random import manual_seed
from .tensor import Parameter, Tensor

__version__ = "0.1.0"

__all__ = [
    "config", "random", "Tensor", "Parameter", "no_grad", "enable_grad", "is_grad_enabled",
    "probe", "add_probe_listener", "remove_probe_listener", "gradcheck", "GradcheckError",
    "manual_seed", "add", "sub", "mul", "div", "neg", "exp", "log", "sqrt", "abs", "clip",
    "sum", "mean", "max", "min", "var", "reshape", "flatten", "transpose", "concatenate",
    "stack", "where", "cast", "matmul", "keras",
]

keras = _sys.modules[__name__]


class _KerasAlias:
    """Import hook making ``minigrad.keras.X`` the very module ``minigrad.X`` (so that
    ``from minigrad.keras.callbacks import EarlyStopping`` works and yields the same class
    objects as ``minigrad.callbacks``)."""

    prefix = __name__ + ".keras."

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(self.prefix):
            from importlib.machinery import ModuleSpec
            return ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        return _importlib.import_module(__name__ + "." + spec.name[len(self.prefix):])

    def exec_module(self, module):
        pass


_sys.modules[__name__ + ".keras"] = keras
if not any(isinstance(f, _KerasAlias) for f in _sys.meta_path):
    _sys.meta_path.insert(0, _KerasAlias())   # before the path finder, which would load a copy

# submodules loaded on first use: name -> module path
_LAZY = {
    "functional": ".functional", "F": ".functional",
    "layers": ".layers", "models": ".models", "optimizers": ".optimizers",
    "initializers": ".initializers", "regularizers": ".regularizers",
    "constraints": ".constraints", "activations": ".activations", "losses": ".losses",
    "metrics": ".metrics", "callbacks": ".callbacks", "datasets": ".datasets",
    "diagnostics": ".diagnostics", "saving": ".saving", "backend": ".backend",
    "utils": ".utils",
}
# names re-exported from a submodule: name -> (module path, attribute)
_LAZY_ATTRS = {
    "Input": (".layers", "Input"),
    "Sequential": (".models", "Sequential"),
    "Model": (".models", "Model"),
    "Variable": (".variables", "Variable"),
    "relu": (".ops.activation", "relu"),
    "sigmoid": (".ops.activation", "sigmoid"),
    "tanh": (".ops.activation", "tanh"),
    "softmax": (".ops.softmax", "softmax"),
    "log_softmax": (".ops.softmax", "log_softmax"),
}


def __getattr__(name):
    if name in _LAZY:
        module = _importlib.import_module(_LAZY[name], __name__)
        globals()[name] = module
        return module
    if name in _LAZY_ATTRS:
        path, attr = _LAZY_ATTRS[name]
        value = getattr(_importlib.import_module(path, __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_ATTRS))
