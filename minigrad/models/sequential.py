"""Sequential: a list of layers called in order, plus Keras's model surface.

The container part lives here (``add``, ``layers``, ``weights``, ``losses``, ``summary``,
``get_weights``/``set_weights``, ``get_config``/``from_config``); training (``compile``,
``fit``, ...) comes from ``training.Trainer`` and saving from ``saving``.

Building: a model whose per-sample input shape is known (an ``Input`` first, or
``input_shape=`` on the first layer) builds every layer at once by walking the shapes:
``layer.build(shape); shape = layer.compute_output_shape(shape)``. Otherwise the first call
(or ``fit``) builds it from the data, as Keras does.
"""
import numpy as np

from .. import config
from ..layers.base import Layer, current_training, unique_name
from ..layers.core import Input
from . import saving
from .training import Trainer


class Sequential(Trainer):
    """``Sequential(layers=None, name=None)``: ``model(x)`` = ``layers[-1](...layers[0](x))``."""

    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name or unique_name("sequential")
        self._layers = []
        self._input_shape = None      # per-sample shape, batch axis excluded
        self._input_name = None
        self.built = False
        self._trainable = bool(trainable)
        self._init_training_state()
        for layer in layers or ():
            self.add(layer)

    # ---- structure --------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (or, first, an ``Input`` spec); builds it now if the input shape
        is known. Layer names must be unique within the model."""
        if isinstance(layer, Input):
            if self._layers or self._input_shape is not None:
                raise ValueError(f"Sequential {self.name!r}: an Input can only be the first "
                                 f"element of the model")
            self._input_shape, self._input_name = tuple(layer.shape), layer.name
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential {self.name!r}: add() expects a minigrad layer or an "
                            f"Input, got {type(layer).__name__}: {layer!r}")
        for other in self._layers:
            if other.name == layer.name:
                what = "this layer is already in" if other is layer else "a layer named so is in"
                raise ValueError(f"Sequential {self.name!r}: duplicate layer name "
                                 f"{layer.name!r} ({what} the model); all layer names in a "
                                 f"model must be unique: pass name= to tell them apart")
        if not self._layers and self._input_shape is None:
            self._input_shape = layer._input_shape_arg
        self._layers.append(layer)
        if self._input_shape is not None:
            self._build_layers()

    def pop(self):
        """Remove and return the last layer."""
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r}: pop() on a model with no layers")
        return self._layers.pop()

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch axis included, as Keras);
        ``None`` uses the shape given by ``Input`` or ``input_shape=``."""
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if self._input_shape is not None and tuple(input_shape[1:]) != self._input_shape:
                raise ValueError(f"Sequential {self.name!r}: build({input_shape}) conflicts "
                                 f"with the input shape {(None,) + self._input_shape}")
            self._input_shape = tuple(input_shape[1:])
        if self._input_shape is None:
            raise ValueError(_unbuilt_message(self, "build"))
        self._build_layers()

    def _build_layers(self):
        """Walk the shapes through the layers, building each one not yet built."""
        shape = (None,) + tuple(self._input_shape)
        for layer in self._layers:
            layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))
        self.built = bool(self._layers)

    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        """The input shape with the batch axis (None, ...), once known."""
        if self._input_shape is None:
            raise AttributeError(_unbuilt_message(self, "input_shape"))
        return (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(_unbuilt_message(self, "output_shape"))
        return self._layers[-1].output_shape

    @property
    def dtype(self):
        """The compute dtype: the first layer's (floatx for an empty model)."""
        return self._layers[0].dtype if self._layers else config.floatx()

    # ---- forward ----------------------------------------------------------------------
    def __call__(self, x, training=None):
        """Run the layers in order; ``training`` is forwarded (None: the enclosing call's,
        False at top level)."""
        if training is None:
            training = current_training()
        if not self.built:
            return self._first_call(x, bool(training))
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def _first_call(self, x, training):
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers: add() some first")
        shape = np.shape(x.data if hasattr(x, "data") else x)
        if len(shape) < 1:
            raise ValueError(f"Sequential {self.name!r}: expected a batch of inputs (an array "
                             f"with a leading batch axis), got shape {shape}")
        for layer in self._layers:
            x = layer(x, training=training)
        self._input_shape = tuple(shape[1:])
        self.built = True
        return x

    # ---- weights and losses -----------------------------------------------------------
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    @property
    def weights(self):
        """Every weight, layer by layer, each layer in its ``add_weight`` order."""
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self.weights
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    @property
    def losses(self):
        """The regularization terms (graph tensors on the current weights) of every layer,
        then their activity losses from the last call."""
        return [t for layer in self._layers for t in layer.losses]

    def get_weights(self):
        """Copies of all weight values, in ``weights`` order."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy arrays (in ``weights`` order) into the model; everything is checked first."""
        params = self.weights
        arrays = [np.asarray(getattr(w, "data", w)) for w in weights]
        if len(arrays) != len(params):
            hint = "" if self.built else " (the model is not built yet)"
            raise ValueError(f"Sequential {self.name!r}: set_weights got {len(arrays)} arrays, "
                             f"expected {len(params)}{hint}")
        for i, (p, a) in enumerate(zip(params, arrays)):
            if a.shape != p.shape:
                raise ValueError(f"Sequential {self.name!r}: set_weights array {i} ({p.name}) "
                                 f"has shape {a.shape}, expected {p.shape}")
        for p, a in zip(params, arrays):
            p.assign(a)

    def count_params(self):
        if not self.built:
            raise ValueError(_unbuilt_message(self, "count_params"))
        return int(sum(w.size for w in self.weights))

    # ---- summary ----------------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None):
        """Print Keras's table: Layer (type) | Output Shape | Param #, then the totals."""
        if not self.built:
            raise ValueError(_unbuilt_message(self, "summary"))
        (print_fn or print)(summary_text(self, line_length))

    # ---- configuration and saving -----------------------------------------------------
    def get_config(self):
        """``{"name", "trainable", "input_shape", "layers": [{"class_name", "config"}]}``."""
        return {
            "name": self.name,
            "trainable": self._trainable,
            "input_shape": None if self._input_shape is None else list(self._input_shape),
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                       for layer in self._layers],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the architecture (fresh weights) from ``get_config()``'s output."""
        return saving.model_from_config(config, custom_objects, cls)

    def save(self, filepath):
        """Write architecture, weights, compile config and optimizer state to one file."""
        saving.save_model(self, filepath)

    def save_weights(self, filepath):
        """Write only the weights (same zip format)."""
        saving.save_weights(self, filepath)

    def load_weights(self, filepath):
        """Read weights written by ``save_weights`` or ``save`` into this model."""
        saving.load_weights(self, filepath)

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self._layers)} built={self.built}>"


def _unbuilt_message(model, what):
    return (f"Sequential {model.name!r}: {what} needs a built model, and this one has not been "
            f"built yet. Build it by giving the input shape: Input(shape=...) as the first "
            f"element or input_shape=... on the first layer, or call model.build((None, "
            f"...)), or call the model on data (model(x) or fit)")


def _format_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024


def _param_line(label, params):
    count = sum(p.size for p in params)
    size = sum(p.data.nbytes for p in params)
    return f" {label}: {count:,} ({_format_bytes(size)})"


def summary_text(model, line_length=None):
    """The summary table as a string (``summary`` prints it), laid out as Keras 2's: columns
    end at 45 %, 85 % and 100 % of ``line_length`` (None: 65, widened to fit long names)."""
    names = [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    if line_length is None:
        line_length = 65 + max([0] + [len(n) + 2 - int(65 * 0.45) for n in names])
    ends = [int(line_length * 0.45), int(line_length * 0.85), line_length]
    if line_length > 65:   # widened: only the name column grows
        ends = [line_length - 36, line_length - 10, line_length]

    def row(cells):
        text, start = "", 0
        for cell, end in zip(cells, ends):
            cell = (" " + cell)[:end - start - 1] if start == 0 else cell[:end - start - 1]
            text += cell.ljust(end - start)
            start = end
        return text.rstrip()

    lines = [f'Model: "{model.name}"', "_" * line_length,
             row(("Layer (type)", "Output Shape", "Param #")), "=" * line_length]
    for i, (layer, name) in enumerate(zip(model.layers, names)):
        shape = str(tuple(layer.output_shape)).replace(",)", ")")
        lines.append(row((name, shape, str(layer.count_params()))))
        lines.append(("_" if i < len(model.layers) - 1 else "=") * line_length)
    if not model.layers:
        lines.append("=" * line_length)
    lines.append(_param_line("Total params", model.weights))
    lines.append(_param_line("Trainable params", model.trainable_weights))
    lines.append(_param_line("Non-trainable params", model.non_trainable_weights))
    opt = getattr(model, "optimizer", None)
    arrays = [np.asarray(v) for v in opt.variables] if opt is not None else []
    if len(arrays) > 1:      # built: iterations plus the slots (Keras shows them then)
        lines.append(f" Optimizer params: {sum(a.size for a in arrays):,} "
                     f"({_format_bytes(sum(a.nbytes for a in arrays))})")
    return "\n".join(lines)
