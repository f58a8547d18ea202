"""``model_from_json`` and ``clone_model``."""
import json

from .saving import model_from_spec, model_spec


def model_from_json(json_string, custom_objects=None):
    """A fresh (newly initialised) model from ``model.to_json()``'s text."""
    try:
        spec = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"model_from_json: the text is not valid JSON ({e})") from None
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ValueError("model_from_json: expected the output of model.to_json() (a JSON "
                         "object with 'class_name' and 'config')")
    return model_from_spec(spec, custom_objects, "model_from_json")


def clone_model(model, custom_objects=None):
    """A new model with the same architecture (config) as ``model`` and fresh weights; no
    layer or weight is shared with ``model``."""
    from .model import Model
    if not isinstance(model, Model):
        raise TypeError(f"clone_model: expected a minigrad Model, got {type(model).__name__}")
    from ..layers.op_node import constant_store
    known = {}
    _classes_in(model, known)
    with constant_store():   # op nodes' constant arrays pass from the config to the clone
        spec = json.loads(json.dumps(model_spec(model)))   # layer names kept, as Keras
        # Keras clones from the objects themselves, so the model's own classes (a
        # subclassed model, custom layers) need no registration
        return model_from_spec(spec, {**known, **(custom_objects or {})}, "clone_model")


def _classes_in(layer, out):
    out.setdefault(type(layer).__name__, type(layer))
    for child in layer._layers:
        _classes_in(child, out)
