"""minigrad.layers: Keras-style layers, the Input spec, and the layer registry.

``deserialize({"class_name": "Dense", "config": {...}})`` rebuilds a layer (and builds it when
the dict carries a ``build_config``); ``serialize(layer)`` is its inverse. User layer classes
and custom callables named in a config resolve through ``custom_objects``.
"""
from .._registry import CUSTOM, resolve_custom
from .activation import ELU, LeakyReLU, PReLU, ReLU, RReLU, Softmax
from .augmentation import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from .base import LAYERS, InputSpec, Layer
from .core import Activation, Dense, Flatten, Input
from .dropout import Dropout
from .noise import ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise
from .normalization import BatchNormalization, LayerNormalization, UnitNormalization
from .preprocessing import Normalization, Rescaling

__all__ = [
    "ELU", "Activation", "ActivityRegularization", "AlphaDropout", "BatchNormalization",
    "Dense", "Dropout", "Flatten", "GaussianDropout", "GaussianNoise", "Input", "InputSpec",
    "Layer", "LayerNormalization", "LeakyReLU", "Normalization", "PReLU", "RReLU",
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "ReLU", "Rescaling",
    "Softmax", "UnitNormalization", "deserialize", "get", "serialize",
]


def serialize(layer):
    """{"class_name", "config"} (plus "build_config" with the input shape once built)."""
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize: expected a Layer, got {type(layer).__name__}")
    out = {"class_name": type(layer).__name__, "config": layer.get_config()}
    if layer.built:
        out["build_config"] = {"input_shape": list(layer._build_shape)}
    return out


def deserialize(config, custom_objects=None):
    """A layer from ``serialize``'s dict. ``custom_objects`` ({name: class or callable})
    resolves user layer classes and, inside the config, names of custom callables
    (activations, initializers, ...) and {"class_name": ...} dicts of custom classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize: expected a dict with 'class_name' and 'config', "
                         f"got {config!r}")
    custom = dict(custom_objects or {})
    name = config["class_name"]
    cls = custom[name] if name in custom else LAYERS.lookup(name)
    cfg = {k: _resolve(v, custom) for k, v in dict(config.get("config", {})).items()}
    layer = cls.from_config(cfg)
    build = config.get("build_config")
    if build and build.get("input_shape") is not None and not layer.built:
        layer.build(tuple(build["input_shape"]))
    return layer


def _resolve(value, custom):
    """Replace a config value naming a custom object by the object itself."""
    if isinstance(value, str) and value in custom:
        return custom[value]
    if isinstance(value, dict) and CUSTOM in value:
        return resolve_custom("custom object", value, custom)
    if isinstance(value, dict) and value.get("class_name") in custom:
        obj = custom[value["class_name"]]
        cfg = value.get("config") or {}
        return obj.from_config(cfg) if hasattr(obj, "from_config") else obj(**cfg)
    return value


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
