"""``minigrad.backend``: Keras 3's ``keras.backend`` functions that user code calls.

``clear_session()`` resets the layer-name counters (the next ``Dense`` is named ``dense``
again, as in Keras); ``floatx``/``set_floatx``, ``epsilon``/``set_epsilon`` and
``image_data_format``/``set_image_data_format`` are the global settings of ``minigrad.config``;
``Variable`` is ``minigrad.Variable`` (Keras's ``keras.backend.Variable``).
"""
import gc

from ..config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from ..variables import Variable

__all__ = ["Variable", "clear_session", "epsilon", "floatx", "image_data_format",
           "set_epsilon", "set_floatx", "set_image_data_format"]


def clear_session(free_memory=True):
    """Reset the state Keras-style code builds up: the layer-name counters. With
    ``free_memory`` (Keras's default) also run Python's garbage collector."""
    from ..layers.base import reset_name_counters
    reset_name_counters()
    if free_memory:
        gc.collect()
