"""Model: a Layer that trains (``Trainer``) and saves; the base of all three kinds.

- ``Model(inputs, outputs)`` returns a functional model (``functional.Functional``).
- ``Sequential(layers)`` (``sequential.py``) runs its layers in order.
- A subclass defines ``__init__`` (layers assigned as attributes, tracked in assignment order
  by ``Layer``) and ``call(inputs, training=None)``; it builds on its first call or on
  ``build(input_shape)``, which runs ``call`` once on zeros so that every sub-layer creates
  its weights (and records the order the layers run in, for the diagnostics).

The container API (``weights``, ``trainable``, ``get_weights``/``set_weights``, ``losses``,
``count_params``) is ``Layer``'s, once.
"""
from ..layers.base import Layer, _call_trace, to_snake_case, unique_name
from ..layers.symbolic import spec_call
from . import saving
from .structure import batch_shape
from .training import Trainer


class Model(Trainer, Layer):
    """``Model(inputs, outputs, name=None)`` (functional) or a subclass with ``call``."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: inputs/outputs are for functional models, "
                            f"built with Model(inputs, outputs); a subclass of Model defines "
                            f"call() instead")
        name = name or unique_name(to_snake_case(type(self).__name__))
        Layer.__init__(self, name=name, dtype=dtype, trainable=trainable, **kwargs)
        self._init_training_state()
        self._execution_order = None   # the layers in the order a call ran them

    # ---- forward ----------------------------------------------------------------------
    def call(self, inputs, training=None):
        raise NotImplementedError(
            f"model {self.name!r} ({type(self).__name__}) has no call(): a subclassed Model "
            f"must define call(self, inputs, training=None) returning its outputs")

    def build(self, input_shape):
        """Build every sub-layer by running ``call`` once on zeros of ``input_shape`` (batch
        axis included, None allowed); a subclass may override it to create weights itself."""
        if type(self).call is Model.call:
            self.call(None)
        _call_trace.append([])
        try:
            out = spec_call(self, input_shape)
        finally:   # past the attribute tracking: a record, not sub-layers
            object.__setattr__(self, "_execution_order", _call_trace.pop())
        object.__setattr__(self, "_output_names", _names_of_outputs(out))
        if self.compiled and self._loss_fn is None and self.loss is not None:
            self._compile_outputs()     # compiled before its outputs were known

    @property
    def output_names(self):
        """Several outputs of a subclassed model: the keys of a returned dict, else
        ``output_1``, ``output_2``, ... (tf.keras's names); None for one output."""
        return getattr(self, "_output_names", None)

    def _outputs_pending(self):
        return not self.built

    def _prepare_x(self, x, where):
        x = Trainer._prepare_x(self, x, where)
        if not self.built and self.compiled and self._loss_fn is None and self.loss is not None:
            self.build(batch_shape(x))  # the targets are checked against its outputs
        return x

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return spec_call(self, input_shape)

    # ---- structure --------------------------------------------------------------------
    @property
    def layers(self):
        """The direct sub-layers (a nested model is one entry)."""
        return list(self._layers)

    @property
    def _input_shape(self):
        """The per-sample input shape fit checks data against (None: not known)."""
        shape = self._build_shape
        return tuple(shape[1:]) if isinstance(shape, tuple) else None

    def get_layer(self, name=None, index=None):
        """The sub-layer called ``name``, or at position ``index`` of ``layers``."""
        if (name is None) == (index is None):
            raise ValueError(f"model {self.name!r}: get_layer takes exactly one of name= or "
                             f"index=, got name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"model {self.name!r}: get_layer index must be an int, got "
                                f"{index!r}")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"model {self.name!r}: get_layer index {index} is out of "
                                 f"range: the model has {len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"model {self.name!r}: no layer named {name!r}; its layers are "
                         f"{[layer.name for layer in layers]}")

    def execution_order(self):
        """The leaf layers as (key, layer) pairs in the order a forward pass runs them, each
        once; a layer inside a nested model (or layer) is keyed ``<model>/<layer>``."""
        out, seen = [], {id(self)}
        for child in _children(self):
            _walk(child, "", out, seen)
        return out

    def _ordered_children(self):
        order = self._execution_order
        if not order:
            return self._layers
        children = self._layers
        ids = {id(c) for c in children}
        ranked = [c for c in _unique(order) if id(c) in ids]
        return ranked + [c for c in children if id(c) not in {id(r) for r in ranked}]

    # ---- summary, configuration, saving -------------------------------------------------
    def summary(self, line_length=None, print_fn=None):
        """Print Keras's table (with "Connected to" for functional models)."""
        from .summary import summary_text
        if not self.built:
            raise ValueError(_unbuilt_message(self, "summary"))
        (print_fn or print)(summary_text(self, line_length))

    def get_config(self):
        """A subclass adds its constructor arguments (``from_config`` calls ``cls(**config)``)."""
        return {"name": self.name, "trainable": self._trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """``cls(**config)`` (``Model.from_config`` of a functional config rebuilds the
        functional model); a subclass whose constructor takes other arguments than its
        ``get_config`` returns raises, naming the class and the fix."""
        from .._registry import resolve_config
        if cls is Model and all(k in config for k in ("layers", "input_layers",
                                                      "output_layers")):
            from .functional import Functional  # Keras: a functional config revives one
            return Functional.from_config(config, custom_objects)
        config = resolve_config(config, custom_objects, f"model {cls.__name__}")
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(f"cannot rebuild {cls.__name__} from its config {sorted(config)}: "
                            f"{e}. A subclassed model must return its constructor arguments "
                            f"from get_config() (or override from_config)") from None

    def to_json(self, **kwargs):
        """The architecture as JSON text (``models.model_from_json`` inverts it)."""
        import json
        return json.dumps(saving.model_spec(self), **kwargs)

    def save(self, filepath):
        """Write architecture, weights, compile config and optimizer state to one file."""
        saving.save_model(self, filepath)

    def save_weights(self, filepath):
        saving.save_weights(self, filepath)

    def load_weights(self, filepath):
        saving.load_weights(self, filepath)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _names_of_outputs(shapes):
    """Output names from ``spec_call``'s result: one shape tuple is one output (None)."""
    if isinstance(shapes, dict):
        return list(shapes)
    if isinstance(shapes, list) and len(shapes) > 1 and isinstance(shapes[0], tuple):
        return [f"output_{i + 1}" for i in range(len(shapes))]
    return None


def _unique(layers):
    out, seen = [], set()
    for layer in layers:
        if id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
    return out


def _children(layer):
    return layer._ordered_children() if isinstance(layer, Model) else layer._layers


def _walk(layer, prefix, out, seen):
    if id(layer) in seen:
        return
    seen.add(id(layer))
    children = _children(layer)
    if not children:
        out.append((prefix + layer.name, layer))
        return
    for child in children:
        _walk(child, prefix + layer.name + "/", out, seen)


def _unbuilt_message(model, what):
    return (f"{type(model).__name__} {model.name!r}: {what} needs a built model, and this one "
            f"has not been built yet. Build it by giving the input shape: Input(shape=...) as "
            f"the first element or input_shape=... on the first layer, or call "
            f"model.build((None, ...)), or call the model on data (model(x) or fit)")
