"""minigrad.saving: ``save_model``, ``load_model``, ``register_keras_serializable`` and
``get_custom_objects`` (Keras 3's ``keras.saving``)."""
from .._registry import GLOBAL_CUSTOM_OBJECTS
from ..models.saving import load_model, save_model

__all__ = ["get_custom_objects", "load_model", "register_keras_serializable", "save_model"]


def register_keras_serializable(package="Custom", name=None):
    """Class or function decorator: register the object as "package>name" (name: its
    ``__name__``) so that loading finds it without ``custom_objects``. A class must define
    ``get_config`` (its constructor arguments) unless the base one suffices."""
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without "
                         f"'>', got {package!r}")

    def decorator(obj):
        key = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: {obj.__name__} has no get_config "
                             f"and cannot be serialized")
        GLOBAL_CUSTOM_OBJECTS[key] = obj
        obj._registered_name = key
        return obj
    return decorator


def get_custom_objects():
    """The global table of registered objects ("package>name" -> object); a name added to it
    directly is found on load too, as in Keras."""
    return GLOBAL_CUSTOM_OBJECTS
