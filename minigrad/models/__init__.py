"""minigrad.models: ``Sequential`` (alias ``Model``), ``load_model`` and ``save_model``."""
from .saving import load_model, save_model
from .sequential import Sequential

Model = Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model"]
