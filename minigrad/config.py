"""Global settings (Keras's ``keras.config``): the default float dtype ``floatx``, the fuzz
factor ``epsilon`` and the image data format."""
import math
import numbers

import numpy as np

_FLOATX = "float32"
_VALID = ("float32", "float64")
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_FORMATS = ("channels_last", "channels_first")

# changes a captured training step (models/tape.py) must see: the setters here and public
# attribute assignments of layers, losses and regularizers (``Watched``) count them
EDITS = [0]


class Watched:
    """Counts assignments to public attributes in ``EDITS`` (a captured training step read
    the old value and is recorded anew)."""

    __slots__ = ()

    def __setattr__(self, name, value):
        if name[0] != "_":
            EDITS[0] += 1
        object.__setattr__(self, name, value)


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
    EDITS[0] += 1


def epsilon():
    """The fuzz factor used by the losses' probability clipping (Keras: 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """Set the fuzz factor: a finite float in (0, 0.5) (the clipping bounds eps, 1 - eps)."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"set_epsilon: expected a float, got {value!r}")
    if not (math.isfinite(value) and 0.0 < value < 0.5):
        raise ValueError(f"set_epsilon: expected a value in (0, 0.5), got {value!r}")
    _EPSILON = float(value)
    EDITS[0] += 1


def image_data_format():
    """The image layout convention: "channels_last" (Keras's default) or "channels_first"."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Set the image layout convention: "channels_last" or "channels_first"."""
    global _IMAGE_DATA_FORMAT
    if not isinstance(data_format, str):
        raise TypeError(f"set_image_data_format: expected one of {_FORMATS}, got "
                        f"{data_format!r}")
    fmt = data_format.lower()
    if fmt not in _FORMATS:
        raise ValueError(f"set_image_data_format: expected one of {_FORMATS}, got "
                         f"{data_format!r}")
    _IMAGE_DATA_FORMAT = fmt
    EDITS[0] += 1
