"""minigrad: a small, fast, readable deep-learning framework on NumPy and Numba.

``import minigrad as keras`` runs Keras-style code; ``minigrad.keras`` is this module, so
``import minigrad as tf; tf.keras.layers.Dense`` works too. Numba is imported on the first
kernel call, never here.
"""
import sys as _sys

from . import config, random
from .tensor import Tensor, Parameter
from .grad_mode import no_grad, enable_grad, is_grad_enabled
from .probe import probe, add_probe_listener, remove_probe_listener
from .gradcheck import gradcheck, GradcheckError
from .random import manual_seed
from .ops.arith import add, sub, mul, div, neg
from .ops.unary import exp, log, sqrt, abs, clip
from .ops.reduce import sum, mean, max, min, var
from .ops.shape import reshape, flatten, transpose, concatenate, stack, where, cast
from .ops.matmul import matmul

__version__ = "0.1.0"

keras = _sys.modules[__name__]
