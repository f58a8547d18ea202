"""Op nodes: a ``minigrad.ops`` function (or a tensor operator) applied to symbolic tensors.

Keras 3 records every ``keras.ops`` call on a ``KerasTensor`` as an ``Operation`` node of the
functional graph (``Operation.symbolic_call``); the model runs the op at call time. Here an
``Operation`` is one such call: the public name of the op in ``minigrad.ops`` (``"add"``,
``"concatenate"``, ``"get_item"`` for ``x[...]``, ...), the call's arguments with each symbolic
tensor replaced by a placeholder, and the ``Node`` linking it into the graph. At run time the
placeholders take the values of this call and the op runs as an ordinary graph op on Tensors,
so gradients flow through it.

The output shape and dtype are found as for a layer (``symbolic.spec_call``): the op runs on
zeros standing in for its symbolic inputs (without gradient, in inference mode); an unknown
size (None) is found by running twice with different stand-in sizes, and the output axes that
change are unknown. Nothing about the output shape is assumed.

Saving: an op node is written as ``{"class_name": "Operation", "config": {"name", "op"}}``
with its constant arguments in ``inbound_nodes`` (numbers, strings, None, tuples, slices,
Ellipsis, dtypes). A constant ndarray argument goes into the model file's ``constants/``
arrays (``model.save``; ``clone_model`` too); ``to_json`` refuses it, naming the op. A
callable argument is never serialised.
"""
import builtins
import contextlib

import numpy as np

from ..grad_mode import no_grad
from .symbolic import KerasTensor, Node, _symbolic

TENSOR_KEY = "__keras_tensor__"


# ---- runtime functions of the operators that minigrad.ops has no public name for ------------
def _ops():
    from .. import ops
    return ops


def get_item(x, key):
    """``x[key]`` (basic indexing: ints, slices, None, Ellipsis)."""
    for k in key if isinstance(key, tuple) else (key,):
        d = getattr(getattr(k, "data", k), "dtype", None)
        if d is not None and np.dtype(d).kind == "b":
            # a mask's result has a size that depends on the data: no static shape
            raise TypeError("get_item: a boolean mask is not supported on a symbolic tensor "
                            "(its result's size depends on the data); use ops.where")
    return x[key]


def _int_result(y, x1, x2):
    """``y`` cast back to the integer dtype of integer operands (Keras: int // int is int)."""
    # Python numbers are weak (NEP 50): int32 // 2 stays int32
    dtypes = [np.dtype(getattr(v, "data", v).dtype) for v in (x1, x2)
              if hasattr(getattr(v, "data", v), "dtype")]
    if all(isinstance(v, (int, bool, np.integer, np.bool_)) or
           np.dtype(getattr(getattr(v, "data", v), "dtype", "f")).kind in "iub"
           for v in (x1, x2)) and dtypes:
        return _ops().cast(y, np.result_type(*dtypes))
    return y


def floor_divide(x1, x2):
    """floor(x1 / x2): a constant (its gradient is 0 almost everywhere), as Keras's; integer
    operands give an integer result."""
    ops = _ops()
    return _int_result(ops.floor(ops.divide(x1, x2)), x1, x2)


def mod(x1, x2):
    """x1 - floor(x1 / x2) * x2 (Python's sign rule); d/dx1 = 1, d/dx2 = -floor(x1 / x2);
    integer operands give an integer result."""
    ops = _ops()
    return _int_result(ops.subtract(x1, ops.multiply(ops.floor(ops.divide(x1, x2)), x2)),
                       x1, x2)


_EXTRA = {"get_item": get_item, "floor_divide": floor_divide, "mod": mod}


def op_function(name):
    """The function an op node of ``name`` runs: ``minigrad.ops.<name>`` (unwrapped from the
    symbolic dispatch), or one of the operator functions above."""
    if name in _EXTRA:
        return _EXTRA[name]
    ops = _ops()
    public = set(ops.__all__) | set(ops._ACTIVATIONS)
    fn = getattr(ops, name, None) if isinstance(name, str) and name in public else None
    if fn is None or not callable(fn):
        raise ValueError(f"op node: {name!r} is not a public function of minigrad.ops")
    return getattr(fn, "__wrapped__", fn)


def _camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


# ---- the operation --------------------------------------------------------------------------
class Operation:
    """One call of the op ``op`` on symbolic tensors: ``template`` is the call's (args,
    kwargs) with the i-th symbolic input replaced by ``_Slot(i)``."""

    built = True
    trainable = False

    def __init__(self, op, args, kwargs, name=None):
        from .base import unique_name
        self.op = op
        self.fn = op_function(op)
        self.name = name or unique_name(op)
        inputs = []
        self.template = (_to_slots(args, inputs), _to_slots(kwargs, inputs))
        self.inputs = inputs
        self._inbound_nodes = []

    @property
    def type_name(self):
        """Keras's class name of the op (``add`` -> ``Add``), for ``summary``."""
        return _camel(self.op)

    def __repr__(self):
        return f"<Operation {self.name!r} (minigrad.ops.{self.op})>"

    # Layer-like reading used by summaries and model walks
    weights = trainable_weights = non_trainable_weights = property(lambda self: [])

    def count_params(self):
        return 0

    @property
    def output_shape(self):
        outs = self._inbound_nodes[0].flat_outputs
        shapes = [t.shape for t in outs]
        return shapes[0] if isinstance(self._inbound_nodes[0].outputs, KerasTensor) \
            else shapes

    def run(self, values):
        """The op on ``values`` (one per symbolic input, in order)."""
        args, kwargs = self.template
        return self.fn(*_from_slots(args, values), **_from_slots(kwargs, values))

    # ---- shapes -----------------------------------------------------------------------
    def infer(self):
        """The outputs (KerasTensor or list of them) from running on stand-ins."""
        shapes = [t.shape for t in self.inputs]
        first = self._stand_in(2)
        if not builtins.any(d is None for s in shapes for d in s):
            return first, first
        return first, self._stand_in(3)

    def _stand_in(self, size):
        values = [_zeros(t, size) for t in self.inputs]
        _symbolic[0] += 1
        try:
            with no_grad(), np.errstate(all="ignore"):
                y = self.run(values)
        except (ValueError, TypeError, IndexError) as e:
            kind = type(e) if type(e) in (ValueError, TypeError, IndexError) else ValueError
            raise kind(f"minigrad.ops.{self.op} ({self.name!r}) cannot be applied to "
                          f"{self.describe()} (None: any size; run on stand-in zeros of "
                          f"size {size}): {e}") from None
        finally:
            _symbolic[0] -= 1
        return y

    def describe(self):
        """The shapes of the call's tensor arguments, symbolic and constant, in order."""
        parts = []

        def walk(value):
            if isinstance(value, _Slot):
                parts.append(f"{self.inputs[value.index].shape}")
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif _array_of(value) is not None:
                parts.append(f"{_array_of(value).shape} (a constant)")
        walk(self.template)
        return "shapes " + ", ".join(parts)


def _array_of(value):
    """The ndarray of a constant array argument (an ndarray or a Tensor), else None."""
    from ..tensor import Tensor
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.data
    return None


class _Slot:
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _to_slots(value, inputs):
    if isinstance(value, KerasTensor):
        inputs.append(value)
        return _Slot(len(inputs) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_slots(v, inputs) for v in value)
    if isinstance(value, dict):
        return {k: _to_slots(v, inputs) for k, v in value.items()}
    return value


def _from_slots(value, values):
    if isinstance(value, _Slot):
        return values[value.index]
    if isinstance(value, (list, tuple)):
        return type(value)(_from_slots(v, values) for v in value)
    if isinstance(value, dict):
        return {k: _from_slots(v, values) for k, v in value.items()}
    return value


def _zeros(t, size):
    from ..tensor import Tensor
    return Tensor._make(np.zeros(tuple(size if d is None else d for d in t.shape), t.dtype),
                        None)


def _spec(y, op):
    """(shape, dtype) of one stand-in output."""
    data = getattr(y, "data", y)
    if data is None or callable(data):
        raise TypeError(f"minigrad.ops.{op} returned {type(y).__name__}, not a tensor, so it "
                        f"cannot be a node of a functional model")
    a = np.asarray(data)
    if a.dtype == object:
        raise TypeError(f"minigrad.ops.{op} returned {type(y).__name__}, not a tensor, so it "
                        f"cannot be a node of a functional model")
    return a.shape, a.dtype


def _merge(first, second):
    return tuple(p if p == q else None for p, q in zip(first, second))


# ---- the entry point: an op called with symbolic arguments --------------------------------------
_DATA_DEPENDENT = {"where": "where(condition) with neither x1 nor x2 (the nonzero indices: "
                            "their number depends on the data)",
                   "convert_to_numpy": "convert_to_numpy (a symbolic tensor has no value)"}


def symbolic_op(op, args, kwargs=None, name=None):
    """Record ``minigrad.ops.<op>(*args, **kwargs)`` on symbolic tensors as a node and return
    its symbolic output(s), with shape and dtype found by running it on stand-ins."""
    kwargs = kwargs or {}
    if op in _DATA_DEPENDENT and (op != "where" or (len(args) + len(kwargs)) == 1):
        raise TypeError(f"minigrad.ops.{op}: {_DATA_DEPENDENT[op]} cannot be applied to a "
                        f"symbolic tensor; wrap the computation in a Layer to run it on data")
    _check_arguments(op, args, kwargs)
    operation = Operation(op, args, kwargs, name)
    first, second = operation.infer()
    multi = isinstance(first, (list, tuple))
    firsts = list(first) if multi else [first]
    seconds = list(second) if multi else [second]
    node = Node(operation, list(operation.inputs), None)
    outputs = []
    for i, (a, b) in enumerate(zip(firsts, seconds)):
        (s1, dtype), (s2, _) = _spec(a, op), _spec(b, op)
        if len(s1) != len(s2):
            raise ValueError(f"minigrad.ops.{op} ({operation.name!r}): the rank of its "
                             f"output depends on the batch size; it cannot be a node of a "
                             f"functional model")
        outputs.append(KerasTensor(_merge(s1, s2), dtype,
                                   operation.name if not multi else f"{operation.name}_{i}",
                                   node, i))
    node.outputs = outputs if multi else outputs[0]
    node.flat_outputs = outputs
    operation._inbound_nodes.append(node)
    return node.outputs


def _check_arguments(op, args, kwargs):
    def visit(value, where):
        if callable(value) and not isinstance(value, (KerasTensor, type, np.dtype)):
            raise TypeError(f"minigrad.ops.{op}: argument {where} is a callable "
                            f"({getattr(value, '__name__', value)!r}); an op node of a "
                            f"functional model takes tensors and constants only")
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(v, f"{where}[{i}]")
        elif isinstance(value, dict):
            for k, v in value.items():
                visit(v, f"{where}[{k!r}]")
    for i, a in enumerate(args):
        visit(a, f"#{i}")
    for k, v in kwargs.items():
        visit(v, repr(k))


def call_symbolic(name, args, kwargs):
    """``minigrad.ops.<name>`` called with a symbolic argument (its dispatch lands here):
    ``shape`` and ``ndim`` give the static values (None for unknown sizes), as Keras's; any
    other op records an op node."""
    if name in ("shape", "ndim"):
        x = args[0] if args else kwargs.get("x")
        if isinstance(x, KerasTensor):
            return tuple(x.shape) if name == "shape" else x.ndim
    return symbolic_op(name, args, kwargs)


# ---- saving -----------------------------------------------------------------------------------
class _Store:
    def __init__(self, arrays):
        self.arrays = arrays


_stores = []


@contextlib.contextmanager
def constant_store(arrays=None):
    """While open, op nodes' constant ndarray arguments are written to (``get_config``) and
    read from (``from_config``) ``store.arrays`` by index: ``model.save`` keeps them beside
    the weights. Outside one, serialising such a node raises."""
    store = _Store([] if arrays is None else list(arrays))
    _stores.append(store)
    try:
        yield store
    finally:
        _stores.pop()


def encode(value, op_name, ref):
    """A constant argument (or a symbolic one, through ``ref``) as JSON-able data."""
    if isinstance(value, KerasTensor):
        return {"class_name": TENSOR_KEY, "config": {"keras_history": ref(value)}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, slice):
        return {"__slice__": [encode(value.start, op_name, ref), encode(value.stop, op_name, ref),
                              encode(value.step, op_name, ref)]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, op_name, ref) for v in value]}
    if isinstance(value, list):
        return [encode(v, op_name, ref) for v in value]
    if isinstance(value, dict):
        if not builtins.all(isinstance(k, str) for k in value):
            raise TypeError(f"save: op node {op_name}: a dict argument with non-string keys "
                            f"cannot be written as JSON")
        return {"__dict__": {k: encode(v, op_name, ref) for k, v in value.items()}}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.generic):
        return {"__scalar__": value.item(), "dtype": value.dtype.name}
    array = _array_of(value)
    if array is not None:
        if not _stores:
            raise ValueError(f"op node {op_name} has a constant array argument of shape "
                             f"{array.shape} ({array.dtype}), which JSON cannot hold: save "
                             f"the whole model with model.save(path) (the array is stored "
                             f"with the weights), or make it a weight of a layer")
        _stores[-1].arrays.append(np.array(array))
        return {"__ndarray__": len(_stores[-1].arrays) - 1}
    raise TypeError(f"save: op node {op_name} has an argument {value!r} of type "
                    f"{type(value).__name__}, which cannot be serialised")


def decode(value, op_name, tensor):
    """``encode``'s inverse; ``tensor(history)`` gives the symbolic tensor of a reference."""
    if isinstance(value, list):
        return [decode(v, op_name, tensor) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == TENSOR_KEY:
        return tensor(value["config"]["keras_history"])
    if "__ellipsis__" in value:
        return Ellipsis
    if "__slice__" in value:
        return slice(*(decode(v, op_name, tensor) for v in value["__slice__"]))
    if "__tuple__" in value:
        return tuple(decode(v, op_name, tensor) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: decode(v, op_name, tensor) for k, v in value["__dict__"].items()}
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"])
    if "__scalar__" in value:
        return np.dtype(value["dtype"]).type(value["__scalar__"])
    if "__ndarray__" in value:
        i = value["__ndarray__"]
        if not _stores or not isinstance(i, int) or not 0 <= i < len(_stores[-1].arrays):
            raise ValueError(f"load: op node {op_name} needs the constant array #{i}, which "
                             f"the file does not hold")
        return _stores[-1].arrays[i]
    raise ValueError(f"load: op node {op_name}: cannot read the argument {value!r}")


def get_spec(operation, ref):
    """The functional-config entry of ``operation`` (Keras's layer entry of an op)."""
    args, kwargs = operation.template
    where = f"{operation.name!r} (minigrad.ops.{operation.op})"
    node = {"args": encode(list(_from_slots(args, operation.inputs)), where, ref),
            "kwargs": {k: encode(v, where, ref)
                       for k, v in _from_slots(kwargs, operation.inputs).items()}}
    return {"class_name": "Operation", "module": "minigrad.ops",
            "config": {"name": operation.name, "op": operation.op},
            "name": operation.name, "inbound_nodes": [node]}


def is_op_spec(spec):
    return isinstance(spec, dict) and spec.get("class_name") == "Operation"


def replay(spec, node, tensor):
    """The symbolic output of the op node saved as ``spec`` (its one call ``node``)."""
    config = spec.get("config") or {}
    op, name = config.get("op"), config.get("name") or spec.get("name")
    where = f"{name!r} (minigrad.ops.{op})"
    op_function(op)
    args = decode(node.get("args") or [], where, tensor)
    kwargs = {k: decode(v, where, tensor) for k, v in (node.get("kwargs") or {}).items()}
    return symbolic_op(op, args, kwargs, name=name)


def refs_of(node):
    """The [name, node, index] references in a saved op call."""
    out = []

    def walk(v):
        if isinstance(v, list):
            for e in v:
                walk(e)
        elif isinstance(v, dict):
            if v.get("class_name") == TENSOR_KEY:
                out.append(v["config"]["keras_history"])
            else:
                for e in v.values():
                    walk(e)
    walk(node.get("args"))
    walk(node.get("kwargs"))
    return out
