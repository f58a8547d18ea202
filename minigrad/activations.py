"""Activation functions by name (Keras 3's ``keras.activations``), and the ONE registry entry
per activation that everything else reads.

An ``Entry`` carries all that the rest of minigrad asks about an activation: its Keras name(s)
(what ``get`` resolves and what a saved config holds), its function on Tensors (Keras's
defaults), whether and how ``linear`` fuses it (an ``Epilogue`` from ``ops.activation``:
its kernels and whether backward reads the output y or the saved pre-activation z) and its
saturation rule for the diagnostics (API §8's families, else the fraction of units with
|f'(z)| < 0.01). Dense, ``linear``, the diagnostics rows, the gradients command and saving
read the entry; adding an activation is its op plus one ``_register`` line here.
"""
import inspect
from collections.abc import Hashable
from typing import NamedTuple

import numpy as np

from ._checks import callable_name
from ._registry import CUSTOM, Registry, deserialize_with, resolve_custom
from .ops import activation as _act
from .ops import unary as _unary
from .ops.softmax import log_softmax as _log_softmax
from .ops.softmax import softmax as _softmax

registry = Registry("activation")


# ---- saturation rules ---------------------------------------------------------------------------
class Saturation(NamedTuple):
    """How the diagnostics count saturated units. ``mode`` (read by the rows kernel): 0
    undefined (NaN: linear, row operations such as softmax), 1 sigmoid (y < 0.01 or y > 0.99),
    2 tanh (|y| > 0.99), 3 ReLU family (y <= 0), 4 |f'(z)| < 0.01 from the pre-activation z,
    with ``derivative(z)`` giving f'(z) elementwise."""

    mode: int
    derivative: object = None

    @property
    def needs_preactivation(self):
        return self.mode == 4


UNDEFINED = Saturation(0)
SIGMOID_FAMILY = Saturation(1)
TANH_FAMILY = Saturation(2)
RELU_FAMILY = Saturation(3)


def by_derivative(op, **config):
    """The |f'(z)| < 0.01 rule of an elementwise op: f'(z) is its own VJP of a cotangent of
    ones (so the rule cannot drift from the gradient the network trains with)."""
    def derivative(z):
        fn = op()
        fn.needs_input_grad = (True,)
        fn.forward(z, **config)
        return fn.backward(np.ones_like(z))
    return Saturation(4, derivative)


# ---- the entry ----------------------------------------------------------------------------------
class Entry(NamedTuple):
    """Everything minigrad knows about one activation (see the module docstring). ``fused``
    is None when ``linear`` cannot fuse it (Dense applies ``fn`` after ``linear``)."""

    name: str
    fn: object
    aliases: tuple = ()
    fused: object = None
    saturation: Saturation = UNDEFINED
    output_shape: object = None        # shape -> shape when it is not the input's (glu)

    def get_config(self):
        """What a saved model holds for it: its Keras name."""
        return self.name

    def shape_of(self, shape):
        """The output shape for an input of ``shape`` (None for an unknown dimension)."""
        return tuple(shape) if self.output_shape is None else self.output_shape(tuple(shape))

    @property
    def takes_defaults(self):
        """True when ``fn(x)`` runs: every argument after x has a default (not threshold's)."""
        params = list(inspect.signature(self.fn).parameters.values())[1:]
        return all(p.default is not p.empty or p.kind is p.VAR_KEYWORD for p in params)


_ENTRIES = {}        # function -> Entry (function objects hash by identity)


def _register(fn, name, *aliases, fused=None, saturation=UNDEFINED, output_shape=None):
    entry = Entry(name, fn, aliases, fused, saturation, output_shape)
    registry.register(name, *aliases)(fn)
    _ENTRIES[fn] = entry
    return entry


def linear(x):
    """Identity: y = x (no graph node)."""
    return x


# the lecture's activations first (their order is the order of the error messages)
LINEAR = _register(linear, "linear", fused=_act.IDENTITY_EPILOGUE)
RELU = _register(_act.relu, "relu", fused=_act.RELU_EPILOGUE, saturation=RELU_FAMILY)
LEAKY_RELU = _register(_act.leaky_relu, "leaky_relu", fused=_act.LEAKY_RELU_EPILOGUE,
                       saturation=RELU_FAMILY)
ELU = _register(_act.elu, "elu", fused=_act.ELU_EPILOGUE, saturation=RELU_FAMILY)
SELU = _register(_act.selu, "selu", fused=_act.SELU_EPILOGUE, saturation=RELU_FAMILY)
SIGMOID = _register(_act.sigmoid, "sigmoid", fused=_act.SIGMOID_EPILOGUE,
                    saturation=SIGMOID_FAMILY)
TANH = _register(_act.tanh, "tanh", fused=_act.TANH_EPILOGUE, saturation=TANH_FAMILY)
SOFTMAX = _register(_softmax, "softmax")
# Keras 3's others, alphabetically
CELU = _register(_act.celu, "celu", saturation=RELU_FAMILY)
EXPONENTIAL = _register(_unary.exp, "exponential", saturation=by_derivative(_unary.Exp))
GELU = _register(_act.gelu, "gelu", fused=_act.GELU_EPILOGUE,
                 saturation=by_derivative(_act.Gelu))
GLU = _register(_act.glu, "glu", output_shape=lambda s: s[:-1] + (
    None if s[-1] is None else s[-1] // 2,))
HARD_SHRINK = _register(_act.hard_shrink, "hard_shrink",
                        saturation=by_derivative(_act.Shrink, threshold=0.5))
HARD_SIGMOID = _register(_act.hard_sigmoid, "hard_sigmoid",
                         saturation=by_derivative(_act.HardSigmoid))
HARD_SILU = _register(_act.hard_silu, "hard_silu", "hard_swish",
                      saturation=by_derivative(_act.HardSilu))
HARD_TANH = _register(_act.hard_tanh, "hard_tanh", saturation=by_derivative(_act.HardTanh))
LOG_SIGMOID = _register(_act.log_sigmoid, "log_sigmoid",
                        saturation=by_derivative(_act.LogSigmoid))
LOG_SOFTMAX = _register(_log_softmax, "log_softmax")
MISH = _register(_act.mish, "mish", fused=_act.MISH_EPILOGUE,
                 saturation=by_derivative(_act.Mish))
RELU6 = _register(_act.relu6, "relu6", fused=_act.RELU6_EPILOGUE,
                  saturation=by_derivative(_act.Relu6))
SILU = _register(_act.silu, "silu", "swish", fused=_act.SILU_EPILOGUE,
                 saturation=by_derivative(_act.Silu))
SOFT_SHRINK = _register(_act.soft_shrink, "soft_shrink",
                        saturation=by_derivative(_act.Shrink, threshold=0.5, soft=True))
SOFTPLUS = _register(_act.softplus, "softplus", fused=_act.SOFTPLUS_EPILOGUE,
                     saturation=by_derivative(_act.Softplus))
SOFTSIGN = _register(_act.softsign, "softsign", saturation=by_derivative(_act.Softsign))
SPARSE_PLUS = _register(_act.sparse_plus, "sparse_plus",
                        saturation=by_derivative(_act.SparsePlus))
SPARSE_SIGMOID = _register(_act.sparse_sigmoid, "sparse_sigmoid",
                           saturation=by_derivative(_act.SparseSigmoid))
SPARSEMAX = _register(_act.sparsemax, "sparsemax")
SQUAREPLUS = _register(_act.squareplus, "squareplus",
                       saturation=by_derivative(_act.Squareplus, b=4.0))
TANH_SHRINK = _register(_act.tanh_shrink, "tanh_shrink",
                        saturation=by_derivative(_act.TanhShrink))
# no defaults (as Keras): by name it resolves, and calling it with x alone raises TypeError
THRESHOLD = _register(_act.threshold, "threshold")

# activation layers without a Keras activation function of their own (not resolvable by name)
PRELU = Entry("prelu", _act.prelu, saturation=RELU_FAMILY)
RRELU = Entry("rrelu", _act.rrelu, saturation=RELU_FAMILY)

# the Keras activation functions under their own names, as ``keras.activations`` has them
relu, leaky_relu, elu, selu = _act.relu, _act.leaky_relu, _act.elu, _act.selu
sigmoid, tanh, softmax, log_softmax = _act.sigmoid, _act.tanh, _softmax, \
    _log_softmax
celu, exponential, gelu, glu = _act.celu, _unary.exp, _act.gelu, _act.glu
hard_shrink, hard_sigmoid, hard_silu, hard_tanh = (_act.hard_shrink, _act.hard_sigmoid,
                                                   _act.hard_silu, _act.hard_tanh)
hard_swish = hard_silu
log_sigmoid, mish, relu6, silu, swish = (_act.log_sigmoid, _act.mish, _act.relu6, _act.silu,
                                         _act.silu)
soft_shrink, softplus, softsign = _act.soft_shrink, _act.softplus, _act.softsign
sparse_plus, sparse_sigmoid, sparsemax = _act.sparse_plus, _act.sparse_sigmoid, _act.sparsemax
squareplus, tanh_shrink, threshold = _act.squareplus, _act.tanh_shrink, _act.threshold


def entry_of(fn):
    """The registry entry of a built-in activation function (by identity), None for a user's
    callable (even one named like a built-in) or None itself."""
    if fn is None:
        return LINEAR
    # an unhashable callable object cannot be a built-in function
    return _ENTRIES.get(fn) if isinstance(fn, Hashable) else None


def entry(name):
    """The entry for a Keras name ("relu", "swish", ...); ValueError listing the valid names."""
    return _ENTRIES[registry.lookup(name)]


def entries():
    """Every registered entry, in registration order."""
    return list(_ENTRIES.values())


def names():
    """Every name ``get`` resolves (aliases included), in registration order."""
    return registry.names()


def get(identifier):
    """The activation function for a name ("relu", ...), or a callable as is; None ->
    ``linear``. An unknown name raises ValueError listing the valid names."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return registry.lookup(identifier)
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict) and CUSTOM in identifier:
        return resolve_custom("activation", identifier, None)   # raises, naming it
    raise TypeError(f"Could not interpret activation {identifier!r}: expected a name "
                    f"({', '.join(registry.names())}) or a callable")


def serialize(activation):
    """What to save: a built-in's entry name (``swish`` saves as "silu", as in Keras); a custom
    function as ``{CUSTOM: its __name__}`` (resolved on load through ``custom_objects`` only,
    never mistaken for a built-in of the same name); a lambda raises ValueError."""
    if activation is None:
        return LINEAR.get_config()
    if isinstance(activation, str):
        return entry(activation).get_config()
    found = entry_of(activation)
    if found is not None:
        return found.get_config()
    return {CUSTOM: callable_name("activations.serialize", activation, "activation")}


def deserialize(name, custom_objects=None):
    """The function saved as ``name`` (a name or a ``{CUSTOM: name}`` marker): looked up in
    ``custom_objects`` and the registered custom objects first, then here (the shared
    ``_registry.deserialize_with``); anything else goes through ``get``."""
    if isinstance(name, str) or (isinstance(name, dict) and CUSTOM in name):
        return deserialize_with(registry, name, custom_objects)
    return get(name)
