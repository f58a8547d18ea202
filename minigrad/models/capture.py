"""The captured training step (``compile(jit_compile=...)``, API §4).

The first ``train_on_batch`` / fit step of a signature runs eagerly; the step is then
recorded as a plan: for each layer the kernels the eager ops run (the GEMM, the activation's
epilogue, the fused softmax cross-entropy, the epilogue's backward, the dW / dX GEMMs) with
their buffers preallocated for the signature's shapes. Later steps of the same signature
replay the plan: the same kernels in the same order on the same inputs, with no Tensors, no
graph and no walk. The gradients land in the optimizer's flat gradient views
(``minigrad._flat``) and the step ends with the optimizer's own ``apply_gradients`` (so
clipping, schedules, weight decay and constraints are the eager code itself) and the metrics'
own updates. The result is the eager step's, bit for bit (tests/test_capture.py: every
optimizer, every layer kind and loss of the proven set, 200 steps, float32 and float64).

Signature: the batch's structure, shapes and dtypes, the model's layers, the optimizer, the
loss and the metrics objects, and whether a probe listener waits. Another batch shape (the
last partial batch) is another signature, captured anew (a kernel plan at once, a tape after
two recorded steps; at most ``MAX_SIGNATURES`` are kept); an edit (``config.EDITS``: a layer
made untrainable, a loss or regularizer changed, a new optimizer) captures anew. Before each
replay the plan checks that every weight still lives in its recorded array (set_weights
copies into it; a replaced ``.data`` makes a new plan) and has no gradient hook, that no probe
listener (an attached GradientMonitor) waits, and that no gradient view is held elsewhere.
A step with a listener is never a kernel plan (it sends no probes): it has its own signature
and the op tape.

The kernel plan serves the Dense family: a ``Sequential`` of an optional leading ``Flatten``
and ``Dense`` layers without regularizers, the hidden ones with a fused activation (any
epilogue of the activation registry, or none), the last one with ``softmax``; loss
``sparse_categorical_crossentropy`` or ``categorical_crossentropy`` (from probabilities, no
label smoothing, the default reduction, loss weight 1, no sample or class weights); any
optimizer built on flat buffers. Every other model is captured one level up, at the ops
(``tape.py``): recorded on two eager steps, replayed from the third. Under "auto" a model
with a layer of the user's own class (its ``call`` may have Python side effects a replay
would skip) runs eagerly; ``jit_compile=True`` captures it too, or raises naming what cannot
be captured.
"""
import numpy as np

from .. import config
from .._flat import pack_of, view_free
from ..ops.linear import input_grad
from ..ops.softmax import _clip_bounds, _softmax_rows, sce_rows
from ..probe import _listeners
from . import tape

VALID = (True, False, "auto")


def check_flag(value):
    """``jit_compile`` as given to compile: True, False or "auto" (ValueError otherwise)."""
    if not any(value is v or (isinstance(v, str) and value == v) for v in VALID):
        raise ValueError(f"compile: jit_compile must be True, False or 'auto', got {value!r}")
    return value


def _why_not(model):
    """None when the model and its compile settings are in the proven set, else the reason."""
    from .. import activations
    from ..layers.core import Dense, Flatten
    from ..losses import CategoricalCrossentropy, SparseCategoricalCrossentropy
    from .compile_utils import OutputLosses
    from .sequential import Sequential
    if type(model) is not Sequential:
        return f"the model kind {type(model).__name__} (only Sequential is captured)"
    layers = model.layers
    dense = [layer for layer in layers if type(layer) is Dense]
    if not dense:
        return "a model without Dense layers"
    if len({np.dtype(layer.dtype) for layer in layers}) != 1:
        return "layers of different dtypes"
    for k, layer in enumerate(layers):
        if type(layer) is Flatten:
            if k != 0 or layer.data_format != "channels_last":
                return f"layer {layer.name!r} (Flatten is captured only as the first layer)"
            continue
        if type(layer) is not Dense:
            return f"layer {layer.name!r} of kind {type(layer).__name__}"
        if layer.kernel_regularizer is not None or layer.bias_regularizer is not None or \
                layer.activity_regularizer is not None:
            return f"layer {layer.name!r}: regularizers"
        if not layer.built:
            return f"layer {layer.name!r}: not built"
        last = layer is dense[-1]
        name = layer.activation_name
        if last and layer.activation is not activations.get("softmax"):
            return f"layer {layer.name!r}: the last Dense must use softmax (has {name!r})"
        if not last and layer._epilogue is None:
            return f"layer {layer.name!r}: activation {name!r} is not fused"
    fn = model._loss_fn
    if not isinstance(fn, OutputLosses) or len(fn.fns) != 1 or fn.weights != [1.0]:
        return "a loss with several outputs or loss weights"
    loss = fn.fns[0]
    if type(loss) not in (SparseCategoricalCrossentropy, CategoricalCrossentropy):
        return f"loss {getattr(loss, 'name', loss)!r}"
    if loss.from_logits or getattr(loss, "label_smoothing", 0.0) or \
            loss.reduction != "sum_over_batch_size":
        return f"loss {loss.name!r} with from_logits, label_smoothing or another reduction"
    if not hasattr(model.optimizer, "_packs"):
        return f"optimizer {type(model.optimizer).__name__}"
    return None


class _Layer:
    """One Dense layer of the plan: its weights and their arrays (``ready`` checks that they
    still live there), the epilogue's functions and the preallocated buffers."""
    __slots__ = ("kernel", "bias", "w", "b", "ep", "fwd", "bwd", "alpha", "z", "y", "kept",
                 "dz", "dx", "nodb", "kw", "kb")


class Plan:
    """A captured step for one signature (see the module docstring)."""

    def __init__(self, model, xb, yb):
        from ..layers.core import Dense
        from ..losses import SparseCategoricalCrossentropy, sparse_ids
        n = xb.shape[0]
        dtype = np.dtype(model.layers[-1].dtype)
        self.dtype = dtype
        self.flat_input = xb.ndim != 2
        self.layers = []
        self.weights = []          # (variable, its data array, pack, index)
        for layer in model.layers:
            if type(layer) is not Dense:
                continue
            p = _Layer()
            p.kernel, p.bias = layer.kernel, layer.bias
            ep = layer._epilogue
            p.ep = None if ep is None or ep.saves == "none" else ep
            p.alpha = None if ep is None else ep.alpha
            units = layer.units
            p.z = np.empty((n, units), dtype)
            p.y = p.z if p.ep is None or p.ep.saves == "y" else np.empty((n, units), dtype)
            p.dz = np.empty((n, units), dtype) if p.ep is not None else None
            p.dx = np.empty((n, layer.kernel.data.shape[0]), dtype)
            p.w = p.kernel.data
            p.b = None if p.bias is None else p.bias.data
            p.fwd = None if p.ep is None else p.ep.forward
            p.bwd = None if p.ep is None else p.ep.backward
            p.kept = None if p.ep is None else (p.y if p.ep.saves == "y" else p.z)
            p.nodb = np.empty(0, dtype)
            p.kw = p.kb = None
            self.layers.append(p)
        variables = model.trainable_weights
        trainable = {id(w) for w in variables}
        for p in self.layers:
            for t in (p.kernel, p.bias):
                if t is None:
                    continue
                if id(t) not in trainable:
                    raise _NotCapturable(f"weight {t.name!r} is not trainable")
                pack, j = pack_of(t)
                if pack is None or pack not in [pk for pk, _ in model.optimizer._packs] or \
                        t.data is not pack.pviews[j]:
                    raise _NotCapturable(f"weight {t.name!r} is not in the optimizer's flat "
                                         f"buffers")
                self.weights.append((t, t.data, pack, j))
            # (pack, index): the plan must not hold the gradient views, or they never look free
            p.kw = pack_of(p.kernel)
            p.kb = None if p.bias is None else pack_of(p.bias)
        if len(self.weights) != len(variables):
            raise _NotCapturable("trainable weights outside the Dense layers")
        loss = model._loss_fn.fns[0]
        self.loss = loss
        self.sparse = type(loss) is SparseCategoricalCrossentropy
        self.sparse_ids = sparse_ids
        k = self.layers[-1].z.shape[1]
        self.e = np.empty((n, k), dtype)
        self.mx = np.empty(n, dtype)
        self.variables = variables
        self.edits = config.EDITS[0]
        self.backward_order = [(k > 0, p) for k, p in enumerate(self.layers)][::-1]

    def stale(self):
        """True when a layer, loss or setting was edited since the plan was made, or a weight
        given a new array or trainable flag (a new plan is made)."""
        return config.EDITS[0] != self.edits or any(
            t.data is not data or not t.requires_grad for t, data, _, _ in self.weights)

    def ready(self):
        """True when a replay would be the eager step: nothing edited, weights in their
        arrays, no listener, every gradient view free."""
        if _listeners or config.EDITS[0] != self.edits:
            return False
        for t, data, pack, j in self.weights:
            # frozen since: eager; a gradient hook runs in the eager walk
            if t.data is not data or t._hooks or not t.requires_grad:
                return False
            t.grad = None
            if not view_free(pack, j):
                return False
        return True

    def run(self, model, xb, yb):
        """The step; returns the loss on the pre-step weights."""
        n = xb.shape[0]
        h = xb if xb.dtype == self.dtype else xb.astype(self.dtype)   # the first layer's cast
        if self.flat_input:
            h = h.reshape(n, -1)
        xs = []
        for p in self.layers:
            xs.append(h)
            z = p.z
            np.matmul(h, p.w, out=z)
            if p.fwd is not None:
                p.fwd(z, p.b, p.alpha, p.y)
            elif p.b is not None:
                z += p.b
            h = p.y
        logits = h
        # the loss: the fused softmax cross-entropy on the last layer's logits (eager's route
        # through the softmax node), the labels checked as the eager loss checks them
        eps = config.epsilon()
        lo, hi = _clip_bounds(eps, logits.dtype)
        if self.sparse:
            lab = self.sparse_ids(self.loss.name, yb, logits.shape).reshape(-1)
        else:
            lab = np.ascontiguousarray(yb, dtype=logits.dtype).reshape(-1, logits.shape[1])
        total, e = sce_rows(logits, lab, self.sparse, lo, hi, True, self.e, self.mx)
        loss = np.asarray(total / n if n else np.nan, dtype=logits.dtype)
        y_pred = _softmax_rows(logits) if model.compiled_metrics else None
        # backward: the Linear VJPs, last layer first, dW and db into the flat views
        g = e
        for needs_dx, p in self.backward_order:
            kw = p.kw[0].gviews[p.kw[1]]
            kb = None if p.kb is None else p.kb[0].gviews[p.kb[1]]
            if p.bwd is None:
                dz = g
                if kb is not None:
                    np.add.reduce(g, axis=0, out=kb)
            else:
                dz = p.dz
                p.bwd(p.kept, g, p.alpha, dz, p.nodb if kb is None else kb)
            np.matmul(xs.pop().T, dz, out=kw)
            if needs_dx:
                g = input_grad(dz, p.w, p.dx)
            p.kernel.grad = kw
            if kb is not None:
                p.bias.grad = kb
        opt = model.optimizer
        if not opt._apply_captured(self.variables):
            opt.apply_gradients([(w.grad, w) for w in self.variables])
        if y_pred is not None:
            model._update_metrics(yb, y_pred, None)
        return float(loss)


class _NotCapturable(Exception):
    pass


# signatures kept per model: a generator of ever-new batch shapes must not keep every
# recorded graph (and its activations) alive
MAX_SIGNATURES = 8
# pairs of recorded steps tried before a signature whose values stay ambiguous (a constant
# sample weight equal in every batch) is left eager
MAX_PAIRS = 8


def step(model, xb, yb, sample_weight, variables=None):
    """The captured step's loss, or None when this step runs eagerly (the caller runs it).

    The first step of a model runs eagerly (it resolves the metrics and builds the
    optimizer). Then, per signature: the Dense family is recorded as a kernel plan and
    replayed at once; any other model is recorded at the ops (``tape.py``) on two steps with
    different inputs (these two are eager steps, run here) and replayed from the third."""
    flag = model.__dict__.get("_jit_compile", "auto")
    if flag is False or model.compiled_metrics is None:
        return None
    arrays, key = tape.feeds(xb, yb, sample_weight)
    # a listening step (an attached GradientMonitor) has its own tape: the probes sent
    # outside the ops are part of it
    listening = bool(_listeners)
    sig = (key, tuple(map(id, model.layers)), id(model.optimizer), id(model._loss_fn),
           id(model.compiled_metrics), listening)
    cache = model.__dict__.setdefault("_captured", {})
    entry = cache.get(sig)
    if isinstance(entry, (Plan, tape.Tape)):
        if entry.ready():
            return entry.run(model, xb, yb) if type(entry) is Plan else \
                entry.run(model, xb, yb, sample_weight)
        if not entry.stale():
            return None                 # eager (a listener, a hook) ...
        entry = None                    # ... or a layer edited since: record anew
    if isinstance(entry, Refused):
        if entry.edits == config.EDITS[0]:
            return None
        entry = None                    # edited since the refusal: try again
    if entry is None and not listening and sample_weight is None and type(xb) is np.ndarray and \
            type(yb) is np.ndarray and _why_not(model) is None and \
            getattr(model.optimizer, "_packs", None):
        try:
            plan = Plan(model, xb, yb)
        except _NotCapturable:
            plan = None
        if plan is not None:
            _store(cache, sig, plan)
            return plan.run(model, xb, yb) if plan.ready() else None
    if flag == "auto" and entry is None:
        what = tape.user_code(model)
        if what is not None:
            _store(cache, sig, Refused(f"{what} (captured only with jit_compile=True)"))
            return None
    if variables is None:
        variables = model.trainable_weights
    model._build_optimizer(variables)
    loss, rec = tape.record(model, xb, yb, sample_weight, variables)
    if isinstance(entry, tape.Recording) and entry.edits[1] == rec.edits[0] and \
            not tape.same_inputs(entry, rec):
        try:
            _store(cache, sig, tape.Tape(entry, rec, model, variables))
        except tape.Ambiguous as e:
            # the pair cannot tell a batch array from a constant: record another pair,
            # MAX_PAIRS at most
            rec.tries = entry.tries + 1
            _store(cache, sig, rec if rec.tries < MAX_PAIRS else Refused(
                f"{MAX_PAIRS} pairs of recorded steps could not tell where every value comes "
                f"from: {e}"))
        except tape.NotCapturable as e:
            if flag is True:
                raise ValueError(f"jit_compile=True: cannot capture the training step of "
                                 f"model {model.name!r}: {e}") from None
            _store(cache, sig, Refused(str(e)))
    else:
        _store(cache, sig, rec)
    return loss


class Refused:
    """Why a signature is not captured (kept as the cache entry); tried again after an edit
    (``config.EDITS``), which may have removed the reason."""

    __slots__ = ("reason", "edits")

    def __init__(self, reason):
        self.reason = reason
        self.edits = config.EDITS[0]

    def __str__(self):
        return self.reason

    __repr__ = __str__


def _store(cache, sig, entry):
    cache.pop(sig, None)
    cache[sig] = entry
    while len(cache) > MAX_SIGNATURES:
        del cache[next(iter(cache))]
