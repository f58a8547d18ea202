"""Activation functions by name, for ``Dense(activation=...)`` and ``Activation(...)``.

Each is a function on Tensors running one fused op from ``minigrad.ops.activation`` or
``minigrad.ops.softmax``. ``get`` resolves a name or a callable (None -> ``linear``);
``serialize`` turns a function back into its name, so a model saves "relu", not code.
"""
from ._registry import CUSTOM, Registry, resolve_custom
from .ops import activation as _act
from .ops.softmax import softmax as _softmax

registry = Registry("activation")


@registry.register("linear")
def linear(x):
    """Identity: y = x (no graph node)."""
    return x


@registry.register("relu")
def relu(x):
    """y = max(x, 0)."""
    return _act.relu(x)


@registry.register("leaky_relu")
def leaky_relu(x, negative_slope=0.2):
    """y = x if x > 0 else negative_slope * x (0.2: Keras's activation default; the
    LeakyReLU layer's is 0.3)."""
    return _act.leaky_relu(x, negative_slope=negative_slope)


@registry.register("elu")
def elu(x, alpha=1.0):
    """y = x if x > 0 else alpha * (exp(x) - 1)."""
    return _act.elu(x, alpha=alpha)


@registry.register("selu")
def selu(x):
    """y = scale * elu(x, alpha) with torch's constants (alpha 1.6733, scale 1.0507)."""
    return _act.selu(x)


@registry.register("sigmoid")
def sigmoid(x):
    """y = 1 / (1 + exp(-x))."""
    return _act.sigmoid(x)


@registry.register("tanh")
def tanh(x):
    """y = tanh(x)."""
    return _act.tanh(x)


@registry.register("softmax")
def softmax(x, axis=-1):
    """y = exp(x) / sum(exp(x), axis): a Softmax node, whose logits a following
    cross-entropy reads to run its fused kernel."""
    return _softmax(x, axis=axis)


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
    """What to save: a built-in's registered name; a custom function as ``{CUSTOM: its
    __name__}`` (resolved on load through ``custom_objects`` only, never mistaken for a
    built-in of the same name); a lambda raises ValueError."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return registry.lookup(activation).__name__
    name = registry.name_of(activation)
    if name:
        return name
    name = getattr(activation, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(
            f"Cannot serialize the activation {activation!r}: it has no usable name (a "
            f"lambda or a callable object); define it with def and pass it in custom_objects "
            f"when loading")
    return {CUSTOM: name}


def deserialize(name, custom_objects=None):
    """The function saved as ``name``: looked up in ``custom_objects`` first, then here."""
    if isinstance(name, dict) and CUSTOM in name:
        return resolve_custom("activation", name, custom_objects)
    if not isinstance(name, str):
        return get(name)
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    try:
        return registry.lookup(name)
    except ValueError as e:
        raise ValueError(f"{e}; a custom activation must be passed in custom_objects") from None
