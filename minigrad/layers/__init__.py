"""minigrad.layers: Keras-style layers, the Input spec, and the layer registry.

``deserialize({"class_name": "Dense", "config": {...}})`` rebuilds a layer (and builds it when
the dict carries a ``build_config``); ``serialize(layer)`` is its inverse. User layer classes
and custom callables named in a config resolve through ``custom_objects``.
"""
from .._registry import lookup_custom, registered_name, resolve_config
from .activation import ELU, LeakyReLU, PReLU, ReLU, RReLU, Softmax
from .augmentation import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from .base import LAYERS, InputSpec, Layer
from .core import Activation, Dense, Flatten
from .dropout import Dropout
from .input_layer import Input, InputLayer
from .merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .noise import ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise
from .normalization import BatchNormalization, LayerNormalization, UnitNormalization
from .preprocessing import Normalization, Rescaling
from .structure import Identity, Lambda, Reshape
from .symbolic import KerasTensor

__all__ = [
    "ELU", "Activation", "ActivityRegularization", "Add", "AlphaDropout", "Average",
    "BatchNormalization", "Concatenate", "Dense", "Dot", "Dropout", "Flatten",
    "GaussianDropout", "GaussianNoise", "Identity", "Input", "InputLayer", "InputSpec",
    "KerasTensor", "Lambda", "Layer", "LayerNormalization", "LeakyReLU", "Maximum", "Minimum",
    "Multiply", "Normalization", "PReLU", "RReLU", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "ReLU", "Rescaling", "Reshape", "Softmax", "Subtract",
    "UnitNormalization", "add", "average", "concatenate", "deserialize", "dot", "get",
    "maximum", "minimum", "multiply", "serialize", "subtract",
]


def serialize(layer):
    """{"class_name", "config"} (plus "build_config" with the input shape once built)."""
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize: expected a Layer, got {type(layer).__name__}")
    out = {"class_name": registered_name(layer), "config": layer.get_config()}
    if layer.built:
        shape = layer._build_shape
        out["build_config"] = {"input_shape": [list(s) for s in shape]
                               if shape and isinstance(shape[0], tuple) else list(shape)}
    return out


def deserialize(config, custom_objects=None):
    """A layer from ``serialize``'s dict. ``custom_objects`` ({name: class or callable})
    resolves user layer classes and, inside the config, names of custom callables
    (activations, initializers, ...) and {"class_name": ...} dicts of custom classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize: expected a dict with 'class_name' and 'config', "
                         f"got {config!r}")
    name = config["class_name"]
    cls = lookup_custom(name, custom_objects)
    if cls is None:
        try:
            cls = LAYERS.lookup(name)
        except ValueError as e:
            raise ValueError(f"{e}; a custom layer class must be passed in custom_objects="
                             f"{{{name!r}: ...}} or registered with "
                             f"@minigrad.saving.register_keras_serializable()") from None
    cfg = resolve_config(dict(config.get("config", {})), custom_objects, f"layer {name}")
    layer = cls.from_config(cfg, custom_objects) if _takes_custom(cls) else cls.from_config(cfg)
    build = config.get("build_config")
    if build and build.get("input_shape") is not None and not layer.built:
        layer.build(_shape(build["input_shape"]))
    return layer


def _takes_custom(cls):
    import inspect
    return "custom_objects" in inspect.signature(cls.from_config).parameters


def _shape(saved):
    """A saved build shape back to tuples (a list of shapes for merge layers)."""
    if saved and isinstance(saved[0], list):
        return [tuple(s) for s in saved]
    return tuple(saved)


def get(identifier, custom_objects=None):
    """A layer from a layer instance (itself), a class (instantiated with defaults), a
    registered name (e.g. "Flatten", "relu" style matching ignores case and underscores) or a
    serialized dict."""
    if isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, type) and issubclass(identifier, Layer):
        return identifier()
    if isinstance(identifier, str):
        return LAYERS.lookup(identifier)()
    raise TypeError(f"layers.get: could not interpret layer identifier {identifier!r}: "
                    f"expected a Layer, a layer class, a name ({', '.join(LAYERS.names())}) "
                    f"or a serialized dict")
