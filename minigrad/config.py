"""Global settings: the default float dtype (Keras's ``floatx``) and the fuzz factor."""
import numpy as np

_FLOATX = "float32"
_VALID = ("float32", "float64")


def floatx():
    """The default float dtype name for new tensors and layers ("float32" unless changed)."""
    return _FLOATX


def set_floatx(value):
    """Set the default float dtype: "float32" or "float64"."""
    global _FLOATX
    name = np.dtype(value).name if not isinstance(value, str) else value
    if name not in _VALID:
        raise ValueError(f"set_floatx: unknown float type {value!r}; expected one of {_VALID}")
    _FLOATX = name


def epsilon():
    """The fuzz factor used by the losses' probability clipping (Keras: 1e-7)."""
    return 1e-7
