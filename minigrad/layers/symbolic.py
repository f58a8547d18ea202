"""Symbolic tensors: what ``Input`` returns and what a layer returns when called on one.

A ``KerasTensor`` holds a shape (``None`` for the batch axis and any unknown size), a dtype
and its history: the layer call (``Node``) that produced it. Calling a layer on symbolic
tensors (one, or a list/tuple/dict of them) runs no computation on data: it builds the layer,
infers the output shape and records a ``Node``; ``Model(inputs, outputs)`` walks these nodes
back from the outputs.

Output shapes: a layer that overrides ``compute_output_shape`` is asked; any other layer is
run once on zeros (``spec_call``: inference mode, no gradient graph, no probes, no activity
losses recorded), as Keras's ``compute_output_spec`` traces ``call``, so a custom layer that
changes the width never gets its input shape assumed for its output. An unknown size (None)
is found by running twice with different stand-in sizes: the output axes that change are
unknown too.
"""
import numpy as np

from ..grad_mode import no_grad

# > 0 while a stand-in call runs: layers skip probes and activity losses, assigns are skipped
from ..probe import STATELESS as _symbolic  # noqa: E402


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch axis None), ``dtype``, ``name`` and the ``Node``
    that made it (``node``; ``index`` is its position among that node's outputs)."""

    __slots__ = ("shape", "dtype", "name", "node", "index")

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype).name
        self.name = name
        self.node, self.index = node, index

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __bool__(self):
        raise TypeError("a symbolic tensor (from Input) has no value: it can only be passed "
                        "to layers and to Model(inputs, outputs)")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic (it comes from Input): call layers or "
                        f"minigrad.ops functions on it to build a model, then call the model "
                        f"on data")

    # numpy defers to the reflected operator (``array @ t`` -> ``t.__rmatmul__(array)``)
    __array_ufunc__ = None

    def __iter__(self):
        raise TypeError(f"{self!r} is symbolic: it cannot be iterated (index it, or use "
                        f"minigrad.ops.split / unstack-style ops)")

    # Keras 3's KerasTensor methods: each records an op node of the functional graph (the
    # binary operators are installed below, from one table)
    def __neg__(self):
        return _op("negative", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _op("absolute", self)

    def __invert__(self):
        return _op("logical_not", self)

    def __getitem__(self, key):
        return _op("get_item", self, key)

    def __round__(self, ndigits=None):
        return _op("round", self, decimals=ndigits or 0)

    def reshape(self, newshape):
        return _op("reshape", self, newshape)

    def squeeze(self, axis=None):
        return _op("squeeze", self, axis)


class Node:
    """One call of ``layer`` on symbolic ``inputs`` (a structure of KerasTensors) giving
    ``outputs``; ``training`` is the value passed explicitly at that call (None: inherit)."""

    __slots__ = ("layer", "inputs", "outputs", "flat_inputs", "flat_outputs", "training")

    def __init__(self, layer, inputs, outputs, training=None):
        self.layer, self.inputs, self.outputs, self.training = layer, inputs, outputs, training
        self.flat_inputs = flatten(inputs)
        self.flat_outputs = flatten(outputs)

    @property
    def parents(self):
        return [t.node for t in self.flat_inputs if t.node is not None]


# ---- nested structures (a tensor, a list/tuple, a dict) ----------------------------------
def flatten(structure):
    """The leaves of a tensor, list/tuple or dict (dicts in key order as given)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for s in structure for leaf in flatten(s)]
    if isinstance(structure, dict):
        return [leaf for s in structure.values() for leaf in flatten(s)]
    return [structure]


def map_structure(fn, structure):
    """The same structure with ``fn`` applied to every leaf."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def is_symbolic(x):
    """True for a KerasTensor or a list/tuple/dict holding one."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple, dict)):
        return any(isinstance(t, KerasTensor) for t in flatten(x))
    return False


def shape_structure(x):
    """The per-call input shape: ``x.shape`` for one tensor, a list/dict of shapes for many."""
    return map_structure(lambda t: tuple(t.shape), x)


# ---- a layer called on symbolic tensors -------------------------------------------------------
def symbolic_call(layer, inputs, training=None):
    """Build ``layer`` for ``inputs``' shapes, infer its outputs and record the ``Node``."""
    for t in flatten(inputs):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"layer {layer.name!r} ({type(layer).__name__}): mixes symbolic "
                            f"tensors with {type(t).__name__}; every input must come from "
                            f"Input or another layer's symbolic output")
    shapes = shape_structure(inputs)
    try:
        if not layer.built:
            layer.build(shapes)
        elif layer.input_spec is not None and isinstance(inputs, KerasTensor):
            layer.input_spec.check(layer, inputs.shape)
        out_shapes = layer.compute_output_shape(shapes)
    except (ValueError, TypeError) as e:
        raise type(e)(f"cannot call layer {layer.name!r} ({type(layer).__name__}) on "
                      f"{_describe(inputs)}: {e}") from None
    dtype = getattr(layer, "dtype", None) or flatten(inputs)[0].dtype
    multi = isinstance(out_shapes, (list, tuple)) and out_shapes and \
        isinstance(out_shapes[0], (list, tuple))
    node = Node(layer, inputs, None, training)
    if multi:
        outputs = [KerasTensor(s, dtype, f"{layer.name}_{i}", node, i)
                   for i, s in enumerate(out_shapes)]
    else:
        outputs = KerasTensor(out_shapes, dtype, layer.name, node, 0)
    node.outputs, node.flat_outputs = outputs, flatten(outputs)
    layer._inbound_nodes.append(node)
    return outputs


def _describe(inputs):
    parts = []
    for t in flatten(inputs):
        origin = t.node.layer.name if t.node is not None else "?"
        parts.append(f"the output of {origin!r} with shape {t.shape}")
    return ", ".join(parts)


def spec_call(layer, input_shape):
    """The output shape (or list of shapes) of ``layer.call`` on inputs of ``input_shape``,
    found by running it on zeros in inference mode without recording anything."""
    first = _run_on_zeros(layer, input_shape, 2)
    if not any(d is None for s in _shape_leaves(input_shape) for d in s[1:]):
        return _with_batch(first)
    second = _run_on_zeros(layer, input_shape, 3)
    return _merge_unknown(first, second)


def _shape_leaves(shape):
    if isinstance(shape, dict):
        return [s for v in shape.values() for s in _shape_leaves(v)]
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [s for v in shape for s in _shape_leaves(v)]
    return [tuple(shape)]


def _zeros(shape, size, dtype):
    if isinstance(shape, dict):
        return {k: _zeros(v, size, dtype) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_zeros(s, size, dtype) for s in shape]
    from ..tensor import Tensor
    return Tensor._make(np.zeros(tuple(size if d is None else d for d in shape), dtype), None)


def _run_on_zeros(layer, input_shape, size):
    from .base import _training_stack
    x = _zeros(input_shape, size, layer.dtype)
    _symbolic[0] += 1
    _training_stack.append(False)
    try:
        with no_grad(), np.errstate(all="ignore"):
            y = layer.call(x, training=False) if layer._call_takes_training else layer.call(x)
    finally:
        _training_stack.pop()
        _symbolic[0] -= 1
    if isinstance(y, dict):
        return {k: tuple(np.shape(getattr(t, "data", t))) for k, t in y.items()}
    if isinstance(y, (list, tuple)):
        return [tuple(np.shape(getattr(t, "data", t))) for t in y]
    return tuple(np.shape(getattr(y, "data", y)))


def _with_batch(shapes):
    if isinstance(shapes, dict):
        return {k: _with_batch(s) for k, s in shapes.items()}
    if isinstance(shapes, list):
        return [_with_batch(s) for s in shapes]
    return (None,) + tuple(shapes[1:]) if shapes else ()


def _merge_unknown(a, b):
    if isinstance(a, dict):
        return {k: _merge_unknown(a[k], b[k]) for k in a}
    if isinstance(a, list):
        return [_merge_unknown(x, y) for x, y in zip(a, b)]
    if not a:
        return ()
    return (None,) + tuple(p if p == q else None for p, q in zip(a[1:], b[1:]))


# ---- operators on symbolic tensors (Keras 3: each records an op node) ----------------------
def _op(name, *args, **kwargs):
    from .op_node import symbolic_op
    return symbolic_op(name, args, kwargs)


def _binary(name):
    def forward(self, other):
        return _op(name, self, other)

    def reflected(self, other):
        return _op(name, other, self)
    return forward, reflected


def _install_operators():
    table = {"add": "add", "sub": "subtract", "mul": "multiply", "matmul": "matmul",
             "truediv": "true_divide", "pow": "power", "floordiv": "floor_divide",
             "mod": "mod", "and": "logical_and", "or": "logical_or", "xor": "logical_xor"}
    for dunder, name in table.items():
        forward, reflected = _binary(name)
        forward.__name__, reflected.__name__ = f"__{dunder}__", f"__r{dunder}__"
        forward.__doc__ = reflected.__doc__ = f"An op node ``minigrad.ops.{name}``."
        setattr(KerasTensor, f"__{dunder}__", forward)
        setattr(KerasTensor, f"__r{dunder}__", reflected)
    # comparisons as Keras's KerasTensor: no symbolic ``==`` (``__eq__`` and ``__hash__`` stay
    # identity, which dicts keyed by tensors rely on)
    for dunder, name in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                         ("ge", "greater_equal"), ("ne", "not_equal")):
        forward, _ = _binary(name)
        forward.__name__ = f"__{dunder}__"
        setattr(KerasTensor, f"__{dunder}__", forward)


_install_operators()


def _register_with_ops():
    """minigrad.ops's dispatch recognises this class (whichever module is imported first)."""
    import sys
    ops = sys.modules.get("minigrad.ops")
    if ops is not None:
        ops._KerasTensor = KerasTensor


_register_with_ops()
