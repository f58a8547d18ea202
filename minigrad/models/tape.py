"""The captured step for every model: the eager step's op list, recorded and replayed.

``capture.py``'s kernel plan serves the Dense family; every other model (functional and
subclassed models, BatchNormalization, Dropout and noise, RReLU/PReLU, regularizers, any
loss, sample and class weights) is captured here, one level up: at the ops.

Recording: an eager step runs with ``function.TAPE`` set, so every ``Function.apply`` appends
``(op class, input Tensors, config, output Tensor, needs_input_grad)``. Two consecutive steps
of the signature are recorded and compared; each input of each op must then be one of

- an earlier op's output (the same position in both lists);
- a persistent Tensor (the same object in both: a weight, a moving statistic, a Tensor a
  subclassed model keeps), read live at replay;
- a batch array (x, y or sample weights) or its cast and reshape (``_recipe``), equal in
  both recordings to that batch's array;
- a constant: a Tensor made afresh with the same value in both steps (a Python scalar).

An input that is none of these was computed outside the ops and changes from step to step
(a mask drawn by numpy in a layer's ``call``, labels rearranged in numpy): such a step is
not captured, and ``jit_compile=True`` raises naming the op. The config of each op must be
the same in both recordings, or a batch array as above (integer labels passed as config).

Replay: the batch arrays are put where the recording found them, then each op's ``forward``
runs on a fresh instance of its class, as ``Function.apply`` would, writing into the
recorded output Tensors (so the graph's links stay, and the walk needs no sort: the order
kept from the recording is reused); then the eager walk (``tensor._run_backward``), the
optimizer's ``apply_gradients`` and the metrics, as in the eager step. Random draws happen
inside ops (Dropout, RReLU, the noise layers), so the replay draws the same numbers in the
same order as eager. The result is eager's bit for bit (tests/test_tape.py).

Probes (the diagnostics' listeners, e.g. an attached GradientMonitor): a step recorded while
a listener waits has its own signature; the probes sent outside the ops (a layer's "output")
join the recording and are sent again after the same op at replay, with that op's new array;
those sent inside an op's forward or backward (a Linear's "delta") are sent by the op itself.

What the comparison cannot see: Python that takes another branch only later, or reads state
it keeps elsewhere (a step counter, a global a callback changes). minigrad's own layers,
losses and regularizers keep no such state; the user's may, so under "auto" a step that runs
the user's code (``user_code``) stays eager, and only ``jit_compile=True`` captures it. Public
attribute changes of any layer, loss or regularizer (``layer.rate = 0.3``, ``layer.trainable
= False``, a new optimizer) and the ``config`` setters bump ``config.EDITS`` and the step is
recorded anew. Batch arrays are found by memory, then by value, before anything may count as
a constant; a value two recordings cannot place (``Ambiguous``) sends the pair back.
"""
import numpy as np

from .. import config, function, grad_mode
from ..layers.symbolic import flatten
from ..probe import ProbeEvent, StateChange, _listeners, probe
from ..tensor import CHANGES, Tensor, _run_backward, _toposort


class NotCapturable(Exception):
    """Why a step cannot be replayed (the message names the op and its input)."""


def feeds(x, y, sample_weight):
    """The batch's arrays in a fixed order, and a key of their structure, shapes and dtypes."""
    if type(x) is np.ndarray and type(y) is np.ndarray and sample_weight is None:
        # the common case, the key the loop below would build
        return [x, y], ("ndarray", (x.shape, x.dtype.str), "ndarray", (y.shape, y.dtype.str),
                        "NoneType")
    arrays = []
    key = []
    for part in (x, y, sample_weight):
        leaves = [] if part is None else flatten(part)
        key.append(_structure(part))
        for a in leaves:
            if not isinstance(a, np.ndarray):
                a = np.asarray(getattr(a, "data", a))
            arrays.append(a)
            key.append((a.shape, a.dtype.str))
    return arrays, tuple(key)


def _structure(part):
    if isinstance(part, dict):
        return ("dict", tuple(sorted(part)))
    if isinstance(part, (list, tuple)):
        return ("list", len(part))
    return type(part).__name__


def _origin(fn):
    """The module a callable comes from (a function's, or an object's class's)."""
    module = getattr(fn, "__module__", None) if callable(fn) and not hasattr(
        type(fn), "get_config") else None
    return module or type(fn).__module__ or ""


def _ours(fn):
    return _origin(fn).startswith("minigrad.")


def user_code(model):
    """What of the user's own code the training step would run, or None: a layer or model
    class with its own ``call``, a Lambda's function, an activation, a regularizer or a loss
    that is not minigrad's. Such code may keep Python state a replay would not see (a
    counter, a branch on the data, a global read in a loss), so "auto" runs the model
    eagerly and only ``jit_compile=True`` captures it."""
    for layer in model._flatten_layers():
        call = getattr(type(layer), "call", None)
        if call is not None and not _ours(call):
            return f"layer {layer.name!r} of the user's class {type(layer).__name__}"
        for name, value in vars(layer).items():
            if value is None or not (name in ("function", "activation")
                                     or name.endswith("regularizer")):
                continue
            if callable(value) and not _ours(value):
                return f"layer {layer.name!r}: the user's {name} {value!r}"
    for fn in getattr(model._loss_fn, "fns", ()):
        if fn is None:
            continue
        inner = getattr(fn, "fn", fn)
        if not _ours(inner):
            return f"the user's loss {getattr(fn, 'name', fn)!r}"
    return None


def record(model, xb, yb, sample_weight, variables):
    """One eager training step with the op list kept; returns ``(loss, Recording)``."""
    tape = []
    start = config.EDITS[0]
    function.TAPE[0] = tape
    try:
        loss_t, y_pred = model._forward_loss(xb, yb, sample_weight)
    finally:
        function.TAPE[0] = None
    rec = Recording(tape, loss_t, y_pred, feeds(xb, yb, sample_weight)[0], model)
    rec.n_x = len(flatten(xb))
    loss = model._backward_step(loss_t, y_pred, yb, sample_weight, variables)
    # edits made by the step itself (a layer of the user's setting an attribute in call)
    # are part of every recording; one between two recordings restarts the pair
    rec.edits = (start, config.EDITS[0])
    return loss, rec


def same_inputs(first, second):
    """True when the two recordings saw the same x (their comparison would prove nothing
    about values computed from it)."""
    return all(a is b or _equal(a, b)
               for a, b in zip(first.arrays[:first.n_x], second.arrays[:second.n_x]))


class Recording:
    """The ops of one eager step, before the comparison with a second one."""

    def __init__(self, tape, loss, y_pred, arrays, model):
        self.tape = tape
        self.loss = loss
        self.y_pred = y_pred
        self.arrays = arrays
        self.tracked = _tracked(model)
        self.order = _toposort(loss) if loss.requires_grad else None
        self.edits = None                  # (count before, count after) the recorded step
        self.tries = 0                     # pairs compared before this one (Ambiguous)


def _tracked(model):
    fn = model._loss_fn
    return list(getattr(fn, "last_values", ())) if getattr(fn, "tracked", False) else []


def _split(tape):
    """(the ops of a recording, its probes as (ops before them - 1, tag, kind, array))."""
    ops, probes = [], []
    for entry in tape:
        if entry[0] is StateChange:
            names = ", ".join(repr(getattr(t, "name", None) or f"a tensor of shape {t.shape}")
                              for t in entry[1])
            raise NotCapturable(f"{names} changed in place (assign) outside the ops: a replay "
                                f"would skip it")
        if entry[0] is ProbeEvent:
            probes.append((len(ops) - 1, entry[1], entry[2], entry[3]))
        else:
            ops.append(entry)
    return ops, probes


class Ambiguous(Exception):
    """The two recordings cannot tell where a value comes from (the batch arrays it could be
    made of were equal in both steps, or equal to each other): record another pair."""


def _same_memory(a, f):
    """True when ``a`` is ``f`` or a reshape of it (the same memory, dtype and size)."""
    return a is f or (a.dtype == f.dtype and a.size == f.size and a.size > 0 and
                      a.__array_interface__["data"][0] == f.__array_interface__["data"][0])


def _casts_of(a, arrays):
    """The indices of the batch arrays that ``a`` equals cast and reshaped."""
    out = set()
    for k, f in enumerate(arrays):
        if f.size == a.size:
            try:
                if _equal(a, _recipe(f, a.dtype, a.shape)):
                    out.add(k)
            except ValueError:      # floats that are not class ids: not this one
                continue
    return out


def _feed_of(va, vb, first, second):
    """The index of the batch array that ``vb`` (``va`` in the first recording) is made of,
    or None. By memory first (the array itself or a reshape of it: no doubt), then by value:
    one batch array must match in both steps, and it must have changed between them (else
    the value could as well be a constant): ``Ambiguous`` otherwise."""
    for k, (fa, fb) in enumerate(zip(first.arrays, second.arrays)):
        if _same_memory(vb, fb) and _same_memory(va, fa):
            return k
    common = _casts_of(va, first.arrays) & _casts_of(vb, second.arrays)
    if not common:
        return None
    if len(common) == 1:
        k = common.pop()
        if not _equal(first.arrays[k], second.arrays[k]):
            return k
    raise Ambiguous(f"a value equal to a batch array in two steps whose batch arrays were "
                    f"equal (arrays {sorted(common)})")


def _recipe(f, dtype, shape):
    """The batch array ``f`` as the recording found it: cast to ``dtype``, reshaped. Float
    data cast to integers (class ids) must hold whole numbers, as the eager checks demand."""
    a = f if f.dtype == dtype else f.astype(dtype)
    if a is not f and dtype.kind in "iu" and f.dtype.kind == "f" and \
            not np.array_equal(a, f, equal_nan=False):
        raise ValueError(f"integer class ids expected: the batch's labels of dtype {f.dtype} "
                         f"hold values that are not whole numbers (or out of range for "
                         f"{dtype})")
    return np.ascontiguousarray(a.reshape(shape))


def _equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _same_config(a, b):
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _equal(a, b)
    if type(a) is not type(b):
        return False
    if hasattr(a, "__self__") and hasattr(a, "__func__"):   # a bound method, made per access
        return a.__self__ is b.__self__ and a.__func__ is b.__func__
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(map(_same_config, a, b))
    if isinstance(a, (int, float, str, bool, complex, np.generic, type(None), np.dtype,
                      slice, range, type(Ellipsis))):
        return bool(a == b) or (a != a and b != b)
    return False            # another object made afresh each step: its state is unknown


def _binding(va, vb, first, second, made_first, made):
    """Where the config value ``vb`` (``va`` in the first recording) comes from at replay:
    None when it is the same in both steps, ("out", position) for an earlier op's output
    array, ("feed", k, dtype, shape) for a batch array, ("tuple", items) for a tuple of
    these and constants ("const", value); False when it is none of them. An array (also
    inside a tuple) is looked up as an op's output and as a batch array before it may count
    as a constant: equal labels in two steps are still the batch's labels."""
    if isinstance(va, np.ndarray) and isinstance(vb, np.ndarray):
        pos = made.get(id(vb))
        if pos is not None and made_first.get(id(va)) == pos:
            return ("out", pos)
        k = _feed_of(va, vb, first, second)
        if k is not None:
            return ("feed", k, vb.dtype, vb.shape)
        return None if _same_config(va, vb) else False
    if isinstance(va, tuple) and type(va) is type(vb) and len(va) == len(vb):
        items = []
        for a, b in zip(va, vb):
            bind = _binding(a, b, first, second, made_first, made)
            if bind is False:
                return False
            items.append(("const", b) if bind is None else bind)
        if all(item[0] == "const" for item in items):
            return None
        return ("tuple", items)
    return None if _same_config(va, vb) else False


def _resolve(bind, arrays, entries):
    kind = bind[0]
    if kind == "out":
        return entries[bind[1]][3].data
    if kind == "feed":
        return _recipe(arrays[bind[1]], bind[2], bind[3])
    if kind == "const":
        return bind[1]
    return tuple(_resolve(b, arrays, entries) for b in bind[1])


class Tape:
    """A replayable step (see the module docstring), built from two recordings."""

    def __init__(self, first, second, model, variables):
        (a, probes_a), (b, probes_b) = _split(first.tape), _split(second.tape)
        if len(a) != len(b):
            raise NotCapturable(f"the step ran {len(a)} ops, then {len(b)}")
        if second.order is None:
            raise NotCapturable("the loss does not depend on a trainable weight")
        made = {}                       # id(output Tensor of the second step) -> position
        made_first = {}
        made_data, made_data_first = {}, {}     # the same by id(output array)
        self.entries = []
        self.fed = []                   # (Tensor, batch array index, dtype, shape)
        self.live = []                  # (Tensor, requires_grad) read live at replay
        live_ids = set()
        # a weight's array passed as config (BatchNorm's moving statistics): held by the tape,
        # so a weight given a new array (``w.data = ...``) must send the step back to record
        by_data = {id(w.data): w for w in model.weights}
        self.held = []                  # (weight, the array the config holds)
        for pos, (ea, eb) in enumerate(zip(a, b)):
            cls, ins, cfg, out, needs = eb
            fed_here = False
            name = cls.__name__
            if ea[0] is not cls or len(ea[1]) != len(ins) or ea[4] != needs or \
                    (ea[3]._ctx is None) != (out._ctx is None) or set(ea[2]) != set(cfg):
                raise NotCapturable(f"op {pos} ({name}) differs between two steps")
            for i, (ta, tb) in enumerate(zip(ea[1], ins)):
                if id(tb) in made:
                    if made_first.get(id(ta)) != made[id(tb)]:
                        raise NotCapturable(f"{name} (op {pos}) input {i}: wired to other "
                                            f"ops in two steps")
                    continue
                if ta is tb:
                    if id(tb) not in live_ids:
                        live_ids.add(id(tb))
                        self.live.append((tb, tb.requires_grad))
                    continue
                k = _feed_of(ta.data, tb.data, first, second)
                if k is not None:
                    self.fed.append((tb, k, tb.data.dtype, tb.data.shape))
                    fed_here = True
                    continue
                if tb._ctx is None and not tb.requires_grad and _equal(ta.data, tb.data):
                    continue                # a constant made afresh with the same value
                raise NotCapturable(
                    f"{name} (op {pos}) input {i} of shape {tb.data.shape}: a value computed "
                    f"outside the ops that changes from step to step")
            cfg = dict(cfg)
            binds = []
            for vb in cfg.values():
                w = by_data.get(id(vb)) if isinstance(vb, np.ndarray) else None
                if w is not None:
                    self.held.append((w, vb))
            for key, vb in cfg.items():
                bind = _binding(ea[2][key], vb, first, second, made_data_first, made_data)
                if bind is False:
                    raise NotCapturable(f"{name} (op {pos}): its config {key}= changes from "
                                        f"step to step")
                if bind is not None:
                    binds.append((key, bind))
                    fed_here = True
            if fed_here:
                cfg.update(cls.unchecked)   # the caller's check is skipped at replay
            made[id(out)] = pos
            made_first[id(ea[3])] = pos
            made_data[id(out.data)] = pos
            made_data_first[id(ea[3].data)] = pos
            self.entries.append((cls, ins, cfg, out, needs, out._ctx is not None, binds))
        self.probes = self._probes(probes_a, probes_b, first, second, made_data_first,
                                   made_data)
        self.listening = bool(_listeners)
        self.loss = second.loss
        self.order = second.order
        self.y_pred = second.y_pred
        self.tracked = second.tracked
        self.variables = variables
        self.edits = config.EDITS[0]
        from .training import _values  # (training imports this module)
        self.values = _values
        if not all(isinstance(t, Tensor) for t in flatten(self.y_pred)):
            raise NotCapturable("the model's output is not a Tensor")
        for t in flatten(self.y_pred):
            if id(t) not in made:
                raise NotCapturable("the model's output is not computed by an op")

    @staticmethod
    def _probes(probes_a, probes_b, first, second, made_first, made):
        """{op position: [(tag, kind, where the array comes from)]}: the probes sent outside
        the ops (a layer's "output"), sent again after that op at replay."""
        if len(probes_a) != len(probes_b):
            raise NotCapturable(f"the step sent {len(probes_a)} probes, then {len(probes_b)}")
        out = {}
        for pa, pb in zip(probes_a, probes_b):
            after, tag, kind, array = pb
            if pa[:3] != pb[:3]:
                raise NotCapturable(f"probe {tag!r} ({kind}) differs between two steps")
            # an op's output or a batch array, as a config array is found; a constant (None)
            # is refused: a probe sends this step's values
            bind = _binding(pa[3], array, first, second, made_first, made) if isinstance(
                array, np.ndarray) else False
            if not bind:
                raise NotCapturable(f"probe {tag!r} ({kind}): an array computed outside the "
                                    f"ops")
            out.setdefault(after, []).append((tag, kind, bind))
        return out

    def stale(self):
        """True when the step must be recorded anew: a layer, loss or setting edited since,
        or a weight's trainable flag changed."""
        return config.EDITS[0] != self.edits or any(
            w.requires_grad is not f for w, f in self.live) or any(
            w.data is not a for w, a in self.held)

    def _send(self, k, arrays):
        for tag, kind, bind in self.probes.get(k, ()):
            probe(tag, kind, _resolve(bind, arrays, self.entries))

    def ready(self):
        """True when a replay would be the eager step: no layer edited since, the weights'
        trainable flags as recorded, grad mode on, a probe listener present exactly when one
        was at recording (the probes sent outside the ops are in the tape then), no gradient
        hook."""
        if bool(_listeners) is not self.listening or config.EDITS[0] != self.edits or \
                not grad_mode._state["enabled"]:
            return False
        return all(t.requires_grad is flag and not t._hooks for t, flag in self.live) and \
            all(w.data is a for w, a in self.held)

    def run(self, model, xb, yb, sample_weight):
        """The step: forward by the recorded ops, the eager walk, update, metrics."""
        arrays = feeds(xb, yb, sample_weight)[0]
        for t, k, dtype, shape in self.fed:
            t.data = _recipe(arrays[k], dtype, shape)
        entries, probes = self.entries, self.probes
        if probes:
            self._send(-1, arrays)
        for k, (cls, ins, cfg, out, needs, linked, binds) in enumerate(entries):
            for key, bind in binds:
                cfg[key] = _resolve(bind, arrays, entries)
            fn = cls()
            fn.needs_input_grad = needs
            data = fn.forward(*[t.data for t in ins], **cfg)
            out.data = data if type(data) is np.ndarray else np.asarray(data)
            if linked:
                fn.inputs = ins
                fn.changes = CHANGES[0]
                out._ctx = fn
            if probes and k in probes:
                self._send(k, arrays)
        for i, (value, n) in enumerate(self.tracked):
            if value is not None:
                model._loss_fn.last[i] = (float(value.data), n)
        for w in self.variables:
            w.grad = None
        loss = self.loss
        _run_backward(loss, np.array(1, dtype=loss.data.dtype).reshape(loss.data.shape),
                      False, self.order)
        opt = model.optimizer
        if not getattr(opt, "_packs", None) or not opt._apply_replayed(self.variables):
            opt.apply_gradients([(w.grad, w) for w in self.variables])
        model._update_metrics(yb, self.values(self.y_pred), sample_weight)
        return float(loss.data)
