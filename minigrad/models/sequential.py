"""Sequential: a Model whose layers run in order.

Building: a model whose per-sample input shape is known (an ``Input`` first, or
``input_shape=`` on the first layer) builds every layer at once by walking the shapes:
``layer.build(shape); shape = layer.compute_output_shape(shape)`` (a layer without
``compute_output_shape`` is run once on zeros, so a custom layer that changes the width gets
the right shapes after it). Otherwise the first call (or ``fit``) builds it from the data, as
Keras does. Models nest: ``Sequential([encoder, Dense(10)])``.
"""
from .. import config
from ..layers.base import Layer, unique_name
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor
from . import saving
from .model import Model, _unbuilt_message


class Sequential(Model):
    """``Sequential(layers=None, name=None)``: ``model(x)`` = ``layers[-1](...layers[0](x))``."""

    _wrap_build = False

    def __init__(self, layers=None, name=None, trainable=True, dtype=None):
        self._per_sample = None       # per-sample input shape, batch axis excluded
        Model.__init__(self, name=name or unique_name("sequential"), trainable=trainable,
                       dtype=dtype)
        for layer in layers or ():
            self.add(layer)

    # ---- structure --------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (or, first, an ``Input``); builds it now if the input shape is
        known. Layer names must be unique within the model."""
        if isinstance(layer, KerasTensor) and isinstance(getattr(layer.node, "layer", None),
                                                         InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._layer_list or self._per_sample is not None:
                raise ValueError(f"Sequential {self.name!r}: an Input can only be the first "
                                 f"element of the model")
            self._per_sample = tuple(layer.shape)
            object.__setattr__(self, "_input_layer", layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential {self.name!r}: add() expects a minigrad layer or an "
                            f"Input, got {type(layer).__name__}: {layer!r}")
        for other in self._layer_list:
            if other.name == layer.name:
                what = "this layer is already in" if other is layer else "a layer named so is in"
                raise ValueError(f"Sequential {self.name!r}: duplicate layer name "
                                 f"{layer.name!r} ({what} the model); all layer names in a "
                                 f"model must be unique: pass name= to tell them apart")
        if not self._layer_list and self._per_sample is None:
            self._per_sample = layer._input_shape_arg
            if isinstance(layer, Model) and layer.built:   # a built model first: its input
                self._per_sample = layer._input_shape
        self._layer_list.append(layer)
        object.__setattr__(self, "_symbolic_graph", None)
        if self._per_sample is not None:
            self._build_layers()

    def pop(self):
        """Remove and return the last layer."""
        if not self._layer_list:
            raise ValueError(f"Sequential {self.name!r}: pop() on a model with no layers")
        object.__setattr__(self, "_symbolic_graph", None)
        return self._layer_list.pop()

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch axis included, as Keras);
        ``None`` uses the shape given by ``Input`` or ``input_shape=``."""
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if self._per_sample is not None and tuple(input_shape[1:]) != self._per_sample:
                raise ValueError(f"Sequential {self.name!r}: build({input_shape}) conflicts "
                                 f"with the input shape {(None,) + self._per_sample}")
            self._per_sample = tuple(input_shape[1:])
        if self._per_sample is None:
            raise ValueError(_unbuilt_message(self, "build"))
        if not self._layer_list:
            raise ValueError(f"Sequential {self.name!r} has no layers: add() some first")
        self._build_layers()

    def _outputs_pending(self):
        return False     # one output, built or not

    def _build_layers(self):
        """Walk the shapes through the layers, building each one not yet built."""
        shape = (None,) + tuple(self._per_sample)
        self._build_shape = shape
        for layer in self._layer_list:
            layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))
        self.built = bool(self._layer_list)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layer_list:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    @property
    def _input_shape(self):
        return self._per_sample

    # ---- the graph of a built model, for feature extraction (Keras 3 builds it too) -------
    @property
    def inputs(self):
        """``[Input]`` of a model whose input shape is known; reading it runs the layers once
        on it symbolically, so ``layer.output`` is defined: ``Model(inputs=seq.inputs,
        outputs=seq.get_layer("h").output)``."""
        return [self._graph()[0]]

    @property
    def outputs(self):
        return [self._graph()[1]]

    @property
    def input(self):
        return self._graph()[0]

    @property
    def output(self):
        return self._graph()[1]

    def _graph(self):
        graph = self.__dict__.get("_symbolic_graph")
        if graph is None:
            from ..layers.input_layer import Input
            if not self.built:
                raise AttributeError(_unbuilt_message(self, "inputs/outputs"))
            given = self.__dict__.get("_input_layer")
            x = inp = given.output if given is not None else Input(self._per_sample,
                                                                   dtype=self.dtype)
            for layer in self._layer_list:
                x = layer(x)
            graph = (inp, x)
            object.__setattr__(self, "_symbolic_graph", graph)
        return graph

    @property
    def input_shape(self):
        """The input shape with the batch axis (None, ...), once known."""
        if self._per_sample is None:
            raise AttributeError(_unbuilt_message(self, "input_shape"))
        return (None,) + tuple(self._per_sample)

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(_unbuilt_message(self, "output_shape"))
        return self._layer_list[-1].output_shape

    @property
    def dtype(self):
        """The compute dtype: the first layer's (floatx for an empty model)."""
        if self._layer_list:
            return self._layer_list[0].dtype
        return self.__dict__.get("_dtype") or config.floatx()

    @dtype.setter
    def dtype(self, value):
        self._dtype = value

    # ---- forward ----------------------------------------------------------------------
    def call(self, x, training=False):
        for layer in self._layer_list:
            x = layer(x, training=training)
        return x

    # ---- configuration ----------------------------------------------------------------
    def get_config(self):
        """``{"name", "trainable", "input_shape", "layers": [{"class_name", "config"}]}``."""
        from ..layers import serialize
        return {
            "name": self.name,
            "trainable": self._trainable,
            "input_shape": None if self._per_sample is None else list(self._per_sample),
            "layers": [serialize(layer) for layer in self._layer_list],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the architecture (fresh weights) from ``get_config()``'s output."""
        return saving.model_from_config(config, custom_objects, cls)

    def __repr__(self):
        return (f"<Sequential name={self.name!r} layers={len(self._layer_list)} "
                f"built={self.built}>")
