"""Layer: the Keras lifecycle (``__init__`` -> ``build`` once -> ``call``), without magic.

- ``__init__`` stores the configuration and resolves identifiers (initializers, ...).
- ``build(input_shape)`` runs once, on the first call or when ``Sequential`` knows the input
  shape; ``input_shape`` includes the batch axis (``None``). It creates the weights with
  ``add_weight``, which returns a ``Parameter`` and appends it to one ordered list: that order
  is the order of ``weights``, ``get_weights`` and ``set_weights``.
- ``call(x, training)`` is pure graph ops; ``__call__`` casts the input to the layer's dtype,
  builds, checks the input against ``input_spec``, resolves ``training=None`` and records the
  activity regularizer's ``reg(output) / batch_size``.

Names follow Keras: the class name in snake case (``_`` before a capitalised word that
follows any character, and between a lower-case letter and a capital: Dense -> dense,
ReLU -> re_lu, PReLU -> p_re_lu, Conv2D -> conv2d, BatchNormalization ->
batch_normalization) plus a process-wide counter per name (``dense``, ``dense_1``, ...).
Sub-layers: a layer (or model) assigned as an attribute, also inside a list, tuple or dict,
is tracked in assignment order; ``layers`` lists them and ``weights``, ``losses``,
``trainable`` and ``count_params`` include them. That needs ``__setattr__``: it is the only
place an assignment is seen as it happens (a later ``__dict__`` scan loses the order of a
reassigned attribute and cannot tell a layer list from internal state), so it stays a
few type tests and one dict update. Containers are read when the layers are listed, so
``self.blocks = []`` followed by ``self.blocks.append(Dense(4))`` is tracked too.
A ``minigrad.Variable`` assigned as an attribute (or inside a list, tuple or dict assigned as a
public attribute) becomes one of the layer's weights at that moment, as in Keras 3.
"""
import inspect
import re

import numpy as np

from .. import _alloc, config
from .._registry import Registry
from ..ops.shape import cast
from ..probe import _listeners, probe
from ..tensor import Parameter, Tensor
from ..variables import Variable
from .symbolic import _symbolic, is_symbolic, map_structure, symbolic_call

LAYERS = Registry("layer")
_name_uids = {}
_training_stack = []   # the ``training`` value of each enclosing ``__call__``
_call_trace = []       # lists recording the layers called during a stand-in call, in order
_ADDED_LOSSES = [0]    # 1 once any layer has called add_loss (the clearing walk is skipped before)
_SHARED_VARIABLES = [0]   # 1 once a Variable is tracked by two layers (weights deduplicate)


def to_snake_case(name):
    """Keras's rule: "BatchNormalization" -> "batch_normalization", "ReLU" -> "re_lu"."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``, ... (process-wide counters)."""
    n = _name_uids.get(base, 0)
    _name_uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_name_counters():
    """Forget every name counter: the next Dense is ``dense`` again (``clear_session``)."""
    _name_uids.clear()


def current_training():
    """The ``training`` value of the innermost layer call in progress (False outside any)."""
    return _training_stack[-1] if _training_stack else False


def _shape_tuple(shape, what):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{what}: expected a tuple of dimensions, got {shape!r}") from None
    if any(d is not None and d < 0 for d in shape):
        raise ValueError(f"{what}: dimensions must be non-negative, got {shape}")
    return shape


def _shape_structure(shape, what):
    """A shape, or a list/dict of shapes (merge layers), normalised to tuples."""
    if isinstance(shape, dict):
        return {k: _shape_structure(v, what) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_shape_structure(s, what) for s in shape]
    return _shape_tuple(shape, what)


def _data_shapes(x):
    """The build shape of a call's input (batch axis None), for one tensor or a structure."""
    return map_structure(lambda t: (None,) + t.data.shape[1:], x)


def _holds_layers(value):
    if isinstance(value, Layer):
        return True
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return False
    return any(_holds_layers(v) for v in value)


def _collect_layers(value, out):
    if isinstance(value, Layer):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_layers(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect_layers(v, out)


def serialize_or_none(module, obj):
    """``module.serialize(obj)`` for a building block (initializer, ...), None for None."""
    return None if obj is None else module.serialize(obj)


def _float_dtype(dtype, who):
    name = config.floatx() if dtype is None else np.dtype(dtype).name
    if name not in ("float32", "float64"):
        raise ValueError(f"{who}: dtype must be float32 or float64, got {dtype!r}")
    return name


class InputSpec:
    """What a built layer accepts: an exact rank (``ndim``), a minimum rank (``min_ndim``) and
    fixed sizes of some axes (``axes``: {axis: size}, negative axes count from the end)."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})
        self.accepted = None   # the last shape that passed (Layer.__call__ skips it)

    def check(self, layer, shape):
        """Raise ValueError naming the layer, the expectation and the input shape."""
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(f"{_where(layer)} is incompatible: expected rank {self.ndim} "
                             f"(input shape {layer._build_shape}), got shape {shape}")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            raise ValueError(f"{_where(layer)} is incompatible: expected rank >= "
                             f"{self.min_ndim}, got shape {shape}")
        for axis, size in self.axes.items():
            if -len(shape) <= axis < len(shape) and shape[axis] != size:
                raise ValueError(
                    f"{_where(layer)} is incompatible: expected axis {axis} of size {size} (the "
                    f"layer was built for input shape {layer._build_shape}), got shape {shape}")
        self.accepted = shape


def _where(layer):
    return f"Input of layer {layer.name!r} ({type(layer).__name__})"


def _build_wrapper(build):
    """Make every ``build`` mark the layer built and remember its input shape, so that
    ``Sequential`` can call ``layer.build(shape)`` directly; a second build only checks."""
    def wrapped(self, input_shape=None):
        shape = None if input_shape is None else _shape_structure(
            input_shape, f"{type(self).__name__}.build")
        if self.built:
            if self.input_spec is not None and isinstance(shape, tuple):
                self.input_spec.check(self, shape)
            return
        build(self, shape)
        self._build_shape = shape
        self.built = True
    wrapped.__name__, wrapped.__doc__ = build.__name__, build.__doc__
    wrapped._wrapped = True
    return wrapped


def _weights_of(layers):
    """The weights of ``layers`` (a ``_walk``), in order. Each is listed once: a weight lives
    in the ``_weights`` of the one layer whose ``add_weight`` made it, and the walk visits
    each layer once (a layer shared by two sub-models too); a Variable tracked by several
    layers (``_SHARED_VARIABLES``) is listed where it is first met."""
    if len(layers) == 1:
        return list(layers[0]._weights)
    out = [w for layer in layers for w in layer._weights]
    if _SHARED_VARIABLES[0]:
        seen = set()
        out = [w for w in out if not (id(w) in seen or seen.add(id(w)))]
    return out


def _variables_in(value):
    """The Variables inside a list, tuple or dict (nested), in order."""
    if isinstance(value, Variable):
        return [value]
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return []
    return [v for e in value for v in _variables_in(e)]


class Layer:
    """Base class of every layer (see the module docstring for the lifecycle)."""

    _call_takes_training = True
    # public attributes of the framework that may hold an empty list, never sub-layers
    _untracked = frozenset({"compiled_metrics"})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_wrapped", False) and \
                cls.__dict__.get("_wrap_build", True):
            cls.build = _build_wrapper(build)
        # as Keras, a ``call(self, x)`` without a ``training`` parameter is called without it
        params = inspect.signature(cls.call).parameters
        cls._call_takes_training = "training" in params or any(
            p.kind is p.VAR_KEYWORD for p in params.values())
        # built-in layers resolve by name; user layers go through custom_objects, as Keras
        if cls.__module__.startswith("minigrad.") and not cls.__name__.startswith("_"):
            LAYERS.register(cls.__name__)(cls)

    def __init__(self, name=None, dtype=None, trainable=True, input_shape=None,
                 activity_regularizer=None, **kwargs):
        cls = type(self).__name__
        input_shape = self._pop_shape_kwargs(kwargs, input_shape)
        if kwargs:
            raise TypeError(f"{cls}: unexpected keyword argument(s) {sorted(kwargs)}")
        if name is None:
            name = unique_name(to_snake_case(cls))
        if not isinstance(name, str):
            raise TypeError(f"{cls}: name must be a string, got {name!r}")
        if not name or "/" in name:
            raise ValueError(f"{cls}: name must be a non-empty string without '/', got {name!r}")
        self.name = name
        self.dtype = _float_dtype(dtype, f"{cls} {name!r}")
        self._trainable = bool(trainable)
        self._input_shape_arg = input_shape   # per-sample shape; Sequential builds from it
        from .. import regularizers
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self.input_spec = None
        self._build_shape = None
        self._weights = []
        self._created_trainable = []
        self._layer_list = []
        self._activity_losses = []
        self._added_losses = []       # add_loss terms of the current outermost call
        self._inbound_nodes = []      # the symbolic calls (functional models) of this layer

    # public attributes that the training loop sets and the computation never reads
    _loop_state = frozenset()

    def __setattr__(self, name, value):
        if name[0] != "_" and name not in self._loop_state:
            config.EDITS[0] += 1    # a captured step is recorded anew (models/tape.py)
        # see the module docstring: assignment order of sub-layers is only visible here
        tracked = self.__dict__.get("_tracked")
        if isinstance(value, (Layer, list, tuple, dict)) and (
                isinstance(value, Layer) or _holds_layers(value)
                or (not value and not name.startswith("_") and not isinstance(value, tuple)
                    and name not in self._untracked)):
            if tracked is None:
                tracked = {}
                object.__setattr__(self, "_tracked", tracked)
            tracked[name] = value
        elif tracked and name in tracked:
            del tracked[name]
        if isinstance(value, Variable):
            self._track_variable(value)
        elif name[0] != "_" and isinstance(value, (list, tuple, dict)) and value:
            for v in _variables_in(value):
                self._track_variable(v)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        tracked = self.__dict__.get("_tracked")
        if tracked and name in tracked:
            del tracked[name]
        value = self.__dict__.get(name)
        if isinstance(value, Variable):
            self._untrack_variable(value)
        object.__delattr__(self, name)

    def _track_variable(self, v):
        """A Variable assigned as an attribute (also inside a list, tuple or dict) becomes one
        of this layer's weights, as in Keras 3: appended to ``weights`` once, frozen with the
        layer when it was created trainable. Reassigning the attribute keeps it tracked (as
        Keras); ``del layer.attr`` untracks it."""
        weights = self.__dict__.get("_weights")
        if weights is None:
            raise RuntimeError(f"{type(self).__name__}: a Variable was assigned before "
                               f"Layer.__init__ ran; call super().__init__() first")
        if any(w is v for w in weights):
            return
        weights.append(v)
        if v.trainable:
            self._created_trainable.append(v)
            if not self._trainable:
                v.trainable = False
        v._owners += 1
        if v._owners > 1:
            _SHARED_VARIABLES[0] = 1     # weights lists deduplicate from now on

    def _untrack_variable(self, v):
        for store in (self._weights, self._created_trainable):
            for i, w in enumerate(store):
                if w is v:
                    del store[i]
                    break
        v._owners -= 1

    @property
    def _layers(self):
        """The direct sub-layers: the explicit list (Sequential, functional models), then the
        tracked attributes in assignment order; each layer once."""
        explicit = self.__dict__.get("_layer_list", ())
        tracked = self.__dict__.get("_tracked")
        if not tracked:
            return explicit
        found = list(explicit)
        for value in tracked.values():
            _collect_layers(value, found)
        out, seen = [], set()
        for layer in found:
            if id(layer) not in seen and layer is not self:
                seen.add(id(layer))
                out.append(layer)
        return out

    @_layers.setter
    def _layers(self, value):
        object.__setattr__(self, "_layer_list", list(value))

    def _pop_shape_kwargs(self, kwargs, input_shape):
        """Keras's other spellings: ``input_dim=n`` and ``batch_input_shape=(b, ...)``."""
        who = f"{type(self).__name__}: input_shape"
        if "input_dim" in kwargs:
            dim = kwargs.pop("input_dim")
            if dim is not None:
                input_shape = (dim,)
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
            if batch_shape is not None:
                input_shape = tuple(batch_shape)[1:]
        return None if input_shape is None else _shape_tuple(input_shape, who)

    # ---- lifecycle ------------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""

    def call(self, x, training=False):
        """The forward computation on a Tensor (pure graph ops)."""
        return x

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis included). Not overridden: found
        by running ``call`` once on zeros (as Keras's ``compute_output_spec``), never by
        assuming it equals the input shape. The layer must be built."""
        from .symbolic import spec_call
        return spec_call(self, input_shape)

    def __call__(self, x, training=None):
        if not (isinstance(x, Tensor) and x.data.dtype == self.dtype):
            if is_symbolic(x):
                return symbolic_call(self, x, training)
            x = self._convert_input(x)
        if not self.built:
            self.build(_data_shapes(x))
        elif self.input_spec is not None and isinstance(x, Tensor) and \
                x.data.shape != self.input_spec.accepted:
            self.input_spec.check(self, x.data.shape)
        training = bool(current_training() if training is None else training)
        if not _training_stack and _ADDED_LOSSES[0] and not _symbolic[0]:
            self._clear_added_losses()      # Keras: the outermost call starts afresh
        _training_stack.append(training)
        try:
            if self._call_takes_training:
                y = self.call(x, training=training)
            else:
                y = self.call(x)
        finally:
            _training_stack.pop()
        if _symbolic[0]:
            # a stand-in call on zeros (output shapes): record nothing but the call order
            if _call_trace:
                _call_trace[-1].append(self)
            return y
        if self.activity_regularizer is not None and isinstance(y, Tensor):
            batch = y.shape[0] if y.ndim else 1
            self._activity_losses = [self.activity_regularizer(y) / max(batch, 1)]
        # the diagnostics read activations through probes; a no-op without a listener
        if _listeners and isinstance(y, Tensor):   # tested first: most steps have none
            probe(self.name, "output", y.data)
        return y

    def _convert_input(self, x):
        """The input as a Tensor of the layer's dtype; a float cast keeps the gradient. A
        dict, or a list/tuple of arrays or tensors, is converted leaf by leaf (merge layers,
        models with several inputs)."""
        if isinstance(x, dict) or (isinstance(x, (list, tuple)) and x and all(
                isinstance(e, (Tensor, np.ndarray)) for e in x)):
            return map_structure(self._convert_input, x)
        if isinstance(x, Tensor):
            if x.data.dtype == self.dtype:
                return x
            if x.requires_grad:
                return cast(x, self.dtype)
            return Tensor._make(x.data.astype(self.dtype), None)
        try:
            return Tensor._make(np.asarray(x, dtype=self.dtype), None)
        except (TypeError, ValueError) as e:
            raise TypeError(f"layer {self.name!r}: cannot convert an input of type "
                            f"{type(x).__name__} to a {self.dtype} tensor: {e}") from None

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"layer {self.name!r} has not been built yet: call it on data "
                                 f"or give the model an input shape")
        return self.compute_output_shape(self._build_shape)

    # ---- weights --------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None):
        """Create a Parameter ``<layer>/<name>`` of ``shape`` from ``initializer`` (an
        identifier of ``minigrad.initializers``; default glorot_uniform, as Keras), append it
        to the layer's weights and return it."""
        from .. import constraints, initializers, regularizers
        shape = _shape_tuple(() if shape is None else shape, f"layer {self.name!r}: add_weight")
        dtype = _float_dtype(dtype or self.dtype, f"layer {self.name!r}: add_weight")
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        value = _alloc.place(np.asarray(init(shape, dtype), dtype=dtype))   # staggered
        if value.shape != shape:
            raise ValueError(f"layer {self.name!r}: initializer {init!r} returned shape "
                             f"{value.shape} for weight {name!r}, expected {shape}")
        param = Parameter(value, name=f"{self.name}/{name or 'variable'}",
                          trainable=bool(trainable) and self._trainable,
                          constraint=constraints.get(constraint),
                          regularizer=regularizers.get(regularizer))
        self._weights.append(param)
        if trainable:
            self._created_trainable.append(param)
        return param

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer freezes every weight it created trainable (and its sub-layers)."""
        self._trainable = bool(value)
        for p in self._created_trainable:
            p.trainable = self._trainable
        for layer in self._layers:
            layer.trainable = value

    @property
    def weights(self):
        """Every weight, in ``add_weight`` order (then the sub-layers', in order); a weight
        reached twice (a layer shared by two sub-models) is listed once."""
        return _weights_of(self._walk())

    @property
    def variables(self):
        """Keras's ``layer.variables``: every weight, as ``weights`` (a SeedGenerator's
        state, which Keras lists here too, is not a weight in minigrad)."""
        return self.weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    def get_weights(self):
        """Copies of the weight values, in ``weights`` order."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy ``weights`` (arrays in ``weights`` order) into the existing Parameters, cast
        to their dtype. Everything is checked before anything is written."""
        params, arrays = self.weights, [np.asarray(w.data if isinstance(w, Tensor) else w)
                                        for w in weights]
        if len(arrays) != len(params):
            hint = "" if self.built else " (the layer is not built yet: call or build it)"
            raise ValueError(
                f"layer {self.name!r}: set_weights got {len(arrays)} arrays, expected "
                f"{len(params)} ({', '.join(p.name for p in params) or 'no weights'}){hint}")
        for i, (p, a) in enumerate(zip(params, arrays)):
            if a.shape != p.shape:
                raise ValueError(f"layer {self.name!r}: set_weights array {i} ({p.name}) has "
                                 f"shape {a.shape}, expected {p.shape}")
        for p, a in zip(params, arrays):
            p.assign(a)

    def count_params(self):
        """The number of scalars in all weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f"layer {self.name!r}: count_params needs a built layer; call it "
                             f"on data or build it first")
        return int(sum(w.size for w in self.weights))

    # ---- symbolic history (functional models) -------------------------------------------
    @property
    def input(self):
        """The symbolic input of this layer's first call on symbolic tensors (Keras)."""
        return self._first_node("input").inputs

    @property
    def output(self):
        """The symbolic output of this layer's first call on symbolic tensors (Keras), e.g.
        for ``Model(inputs=model.inputs, outputs=model.get_layer("h").output)``."""
        return self._first_node("output").outputs

    def _first_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(f"layer {self.name!r} has never been called on a symbolic "
                                 f"input (Input), so it has no {what}; it gets one inside a "
                                 f"functional model, or a Sequential model's once its "
                                 f"`inputs` is read")
        return self._inbound_nodes[0]

    # ---- losses ---------------------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar loss term from inside ``call`` (Keras 3): it joins ``losses`` (so
        fit minimises it) until the next outermost call of the model clears it."""
        terms = list(loss) if isinstance(loss, (list, tuple)) else [loss]
        for t in terms:
            if not isinstance(t, Tensor):
                raise TypeError(f"layer {self.name!r}: add_loss() takes a Tensor computed in "
                                 f"call(), got {type(t).__name__}")
        if _symbolic[0]:     # a stand-in call on zeros (output shapes) adds nothing
            return
        self._added_losses.extend(terms)
        _ADDED_LOSSES[0] = 1

    def _clear_added_losses(self):
        for layer in self._walk():
            layer._added_losses = []

    @property
    def losses(self):
        """Graph terms: each trainable weight's regularizer applied to the current value
        (built afresh on every access), then the activity losses of the last call; over this
        layer and every nested one, each once (a layer shared by two sub-models too)."""
        # fit reads this at every step: one walk serves the weights and the activity losses
        flat = self._walk()
        terms = []
        if self._trainable:
            for layer in flat:          # _weights_of's order, without building its list
                for w in layer._weights:
                    if w.regularizer is not None and w.requires_grad:
                        terms.append(w.regularizer(w))
        for layer in flat:
            if layer._activity_losses:
                terms += layer._activity_losses
            if layer._added_losses:
                terms += layer._added_losses
        return terms

    def _walk(self):
        """``_flatten_layers()``, without building the walk for a layer with no sub-layers."""
        return self._flatten_layers() if self._layers else (self,)

    def _flatten_layers(self):
        """This layer and every nested layer, depth first in tracking order, each once."""
        out, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._layers))
        return out

    # ---- configuration --------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments as JSON-able values (``from_config`` inverts it)."""
        cfg = {"name": self.name, "trainable": self._trainable, "dtype": self.dtype}
        if self._input_shape_arg is not None:
            cfg["input_shape"] = list(self._input_shape_arg)
        if self.activity_regularizer is not None:
            from .. import regularizers
            cfg["activity_regularizer"] = serialize_or_none(regularizers,
                                                            self.activity_regularizer)
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


Layer.build = _build_wrapper(Layer.build)
