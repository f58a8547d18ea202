"""minigrad.models: ``Model`` (functional or subclassed), ``Sequential``, saving and cloning."""
from .functional import Functional
from .model import Model
from .saving import load_model, save_model
from .sequential import Sequential
from .utils import clone_model, model_from_json

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json",
           "save_model"]
