"""Data inputs of fit / evaluate / predict, as Keras 3.15's ``trainers/data_adapters`` and
``trainers/epoch_iterator.py``.

An *adapter* turns what the user passed into batches ``(x, y, sample_weight)``:
- ``ArrayAdapter``: arrays, or lists/dicts of arrays (several inputs or outputs: every leaf is
  sliced alike and the structure reaches the model unchanged). Converted and checked once;
  shuffled with a fresh permutation from ``minigrad.random`` at each pass; the last partial
  batch is kept.
- ``GeneratorAdapter``: a Python generator or iterator yielding ``(x, y)`` or
  ``(x, y, sample_weight)`` (``x`` alone for predict). One-shot: its batches are consumed
  once, across epochs.
- ``PyDatasetAdapter``: a ``minigrad.utils.PyDataset`` (``__len__``, ``__getitem__``,
  ``on_epoch_end``); ``workers > 1`` prefetches batches on threads, in order; with
  ``shuffle`` the batch order is permuted (from ``minigrad.random``) at each epoch.
``class_weight`` becomes per-sample weights (Keras's ``class_weight_to_sample_weights``:
the class is argmax of one-hot rows, else round(y); one output only).

Every batch, from any source, is converted by the model's hooks ``_prepare_x`` /
``_prepare_y`` (rules here: ``prepare_x``, ``prepare_y``; a functional model with several
inputs checks them by name and shape, ``structure.prepare_many``): several targets become a
list in the order of the model's outputs. ``sample_weight`` is one array for every output or,
as a list or a dict by output name, one per output (Keras's ``CompileLoss``).

``EpochIterator`` runs one epoch at a time, as Keras's: without ``steps`` an epoch is one pass
over the data; with ``steps`` it takes that many batches, continuing where the previous epoch
stopped and starting a new pass when the data is used up. When the data runs out before
``steps`` batches (or a one-shot generator has nothing left for a new epoch) it warns "Your
input ran out of data" and sets ``ran_out``: a generator cannot restart, so fit stops there.
"""
import itertools
import math
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import random as mgrandom
from ..layers.symbolic import flatten, map_structure
from ..tensor import Tensor
from .compile_utils import output_names
from .structure import prepare_many


def num_samples(x):
    """Length of the first leaf (the batch size of a structure)."""
    return len(flatten(x)[0])


def _describe(obj):
    if isinstance(obj, (list, tuple)):
        items = ", ".join(_describe(v) for v in obj[:4])
        return f"a {type(obj).__name__} of {len(obj)} items ({items})"
    if isinstance(obj, dict):
        return f"a dict with keys {list(obj)}"
    if hasattr(obj, "shape"):
        return f"{type(obj).__name__} of shape {tuple(obj.shape)}"
    return type(obj).__name__


# ---- conversion and checks ------------------------------------------------------------------
# arrays already checked in this fit call (validation_split's parts of the checked data): the
# next check of the same object is skipped, once (weak: an entry dies with its array)
_checked = weakref.WeakValueDictionary()


def _mark_checked(x):
    if isinstance(x, np.ndarray):
        _checked[id(x)] = x
    elif isinstance(x, dict):
        for v in x.values():
            _mark_checked(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _mark_checked(v)


def check_finite(a, name, where):
    """Raise naming the first rows that hold NaN or inf (float data only)."""
    if a.dtype.kind != "f" or _checked.pop(id(a), None) is a or np.isfinite(a).all():
        return
    rows = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
    first = ", ".join(str(r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
    raise ValueError(f"{where}: {name} contains NaN or inf in {len(rows)} of {len(a)} rows "
                     f"(rows {first}); remove or impute them before training")


def x_leaf(a, dtype, where, label="x", expected=None):
    """One input array: C-contiguous in the model's dtype, numeric, non-empty, finite and, when
    ``expected`` (the per-sample shape, None entries free) is given, of that shape."""
    if a is None:
        raise ValueError(f"{where}: {label} is None; pass the input data as an array")
    a = np.asarray(a.data if isinstance(a, Tensor) else a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {label} must be numeric, got an array of dtype {a.dtype}"
                        + (" (pass a Python generator itself, not an array of objects)"
                           if a.dtype.kind == "O" else ""))
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{where}: {label} is empty (shape {a.shape}); expected at least one "
                         f"sample along the first axis")
    a = np.ascontiguousarray(a, dtype=dtype)
    check_finite(a, label, where)
    if expected is not None and (len(expected) != a.ndim - 1 or any(
            e is not None and e != d for e, d in zip(expected, a.shape[1:]))):
        raise ValueError(
            f"{where}: the model expects inputs of shape {(None,) + tuple(expected)} "
            f"(per sample {tuple(expected)}), got {label} of shape {a.shape}")
    return a


def prepare_x(model, x, where):
    """x as the model takes it (``Trainer._prepare_x``; a functional model with several inputs
    checks them by name and shape instead): one array of the model's per-sample shape (when
    known), or a list/dict structure of arrays with the same number of samples."""
    if x is None:
        raise ValueError(f"{where}: x is None; pass the input data as an array")
    if is_structure(x):
        x = map_structure(lambda a: x_leaf(a, model.dtype, where), x)
        _same_length(x, "x", where)
        return x
    return x_leaf(x, model.dtype, where, "x", getattr(model, "_input_shape", None))


def is_structure(x):
    """A non-empty list/tuple/dict of arrays (a list of numbers is one array)."""
    return isinstance(x, (list, tuple, dict)) and len(x) > 0 and not _is_nested_numbers(x)


def _is_nested_numbers(x):
    """A plain Python list of numbers or of lists of numbers is one array, not a structure."""
    if isinstance(x, dict):
        return False
    first = x[0]
    return isinstance(first, (int, float, np.number)) or (
        isinstance(first, (list, tuple)) and first and not hasattr(first[0], "shape"))


def y_leaf(y, n, dtype, where, label="y"):
    """One target array: floats in the model's dtype, integer labels as int64; ``n`` samples,
    finite."""
    if y is None:
        raise ValueError(f"{where}: {label} is None; pass the targets (labels) as an array")
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.dtype.kind == "f":
        y = np.ascontiguousarray(y, dtype=dtype)
    elif y.dtype.kind in "iub":
        y = np.ascontiguousarray(y, dtype=np.int64 if y.dtype.kind != "b" else y.dtype)
    else:
        raise TypeError(f"{where}: {label} must be numeric, got an array of dtype {y.dtype}")
    if y.ndim == 0 or len(y) != n:
        got = "a scalar" if y.ndim == 0 else f"{len(y)} samples (shape {y.shape})"
        raise ValueError(f"{where}: x and {label} must have the same number of samples: x has "
                         f"{n}, {label} has {got}")
    check_finite(y, label, where)
    return y


def prepare_y(model, y, n, where):
    """The targets, each with ``n`` samples: one array for one output (also given as a dict by
    the output's name or a list of one), else a list in the order of the model's outputs
    (given as a list, or a dict by output name)."""
    names = output_names(model)
    if y is None:
        raise ValueError(f"{where}: y is None; pass the targets (labels) as an array")
    if len(names) > 1:
        return prepare_many(model, y, names, [None] * len(names), where, "output",
                            lambda a, _shape, label: y_leaf(a, n, model.dtype, where,
                                                            f"y for {label}"))
    if isinstance(y, dict):
        if set(y) != set(names):
            raise ValueError(f"{where}: y is a dict with keys {sorted(y)}, but the model's "
                             f"output is named {names}")
        y = y[names[0]]
    elif isinstance(y, (list, tuple)) and len(y) == 1 and is_structure(y):
        y = y[0]
    return y_leaf(y, n, model.dtype, where)


def prepare_sample_weight(model, sample_weight, n, where, name="sample_weight"):
    """Sample weights as float arrays of ``n`` rows (shape (n,) or (n, ...)), finite: one
    array for every output, or (a list, or a dict by output name) one per output, returned
    as a list in output order (None for an output without)."""
    if sample_weight is None:
        return None
    if not is_structure(sample_weight):
        return _weight_leaf(sample_weight, n, where, name)
    names = output_names(model)
    if isinstance(sample_weight, dict):
        unknown = sorted(set(sample_weight) - set(names))
        if unknown:
            raise ValueError(f"{where}: {name} names {unknown}, which are not outputs of the "
                             f"model; its outputs are {names}")
        sample_weight = [sample_weight.get(k) for k in names]
    elif len(sample_weight) != len(names):
        raise ValueError(f"{where}: {name} is a list of {len(sample_weight)} arrays, but the "
                         f"model has {len(names)} outputs ({names}); give one array for all "
                         f"outputs, or one per output")
    return [None if w is None else _weight_leaf(w, n, where, f"{name} for output {k!r}")
            for w, k in zip(sample_weight, names)]


def _weight_leaf(sample_weight, n, where, name):
    w = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must be numeric, got an array of dtype {w.dtype}")
    if w.ndim == 0 or len(w) != n:
        got = "a scalar" if w.ndim == 0 else f"{len(w)} (shape {w.shape})"
        raise ValueError(f"{where}: {name} must have one weight per sample: x has {n} "
                         f"samples, {name} has {got}")
    w = np.ascontiguousarray(w, dtype=np.float64 if w.dtype == np.float64 else np.float32)
    check_finite(w, name, where)
    return w


def _same_length(x, name, where):
    lengths = {len(a) for a in flatten(x)}
    if len(lengths) > 1:
        raise ValueError(f"{where}: every array in {name} must have the same number of "
                         f"samples, got {sorted(lengths)}")


def _classes_of(y):
    """Keras's class_weight_to_sample_weights: argmax of rows wider than 1, else round(y)."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] != 1 else y.reshape(y.shape[:-1])
    return np.round(y).astype(np.int64)


def check_class_weight(class_weight, where):
    """``class_weight`` as {int class: float weight}; TypeError/ValueError otherwise."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"{where}: class_weight must be a dict {{class: weight}}, got "
                        f"{type(class_weight).__name__}")
    out = {}
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"{where}: class_weight keys must be class indices (integers "
                             f">= 0), got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) \
                or not math.isfinite(v):
            raise ValueError(f"{where}: class_weight[{k}] must be a finite number, got {v!r}")
        out[int(k)] = float(v)
    return out


def class_weight_to_sample_weights(y, class_weight, where, dtype=np.float32,
                                   require_all=False):
    """One weight per sample: ``class_weight[class]`` (1.0 for a class it does not name).
    ``require_all``: every class named must occur in y (a deviation from Keras, which ignores
    unknown classes: a typo in a class id is then an error, not a silent no-op)."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError(f"{where}: class_weight is only supported for models with a single "  # noqa: TRY004
                         f"output; pass sample_weight (one array per output) instead")
    classes = _classes_of(y)
    if require_all:
        missing = sorted(set(class_weight) - set(np.unique(classes).tolist()))
        if missing:
            raise ValueError(f"{where}: class_weight names classes {missing} that never occur "
                             f"in y (classes present: {np.unique(classes).tolist()})")
    table = np.ones(max(max(class_weight, default=0), int(classes.max(initial=0))) + 1, dtype)
    for k, v in class_weight.items():
        table[k] = v
    return table[classes.reshape(-1)].reshape(classes.shape[:1])


# ---- adapters -------------------------------------------------------------------------------
class ArrayAdapter:
    """Batches of in-memory arrays (or structures of them), shuffled per pass."""

    one_shot = False

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = num_samples(x)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = -(-self.n // batch_size)

    def first_x(self):
        """Inputs to build an unbuilt model from (their shapes)."""
        return self.x

    def batches(self):
        order = mgrandom.generator().permutation(self.n) if self.shuffle else None
        bs, x, y, w = self.batch_size, self.x, self.y, self.sample_weight
        for start in range(0, self.n, bs):
            if order is None:
                sl = slice(start, start + bs)
            else:
                sl = order[start:start + bs]
            yield _take(x, sl), _take(y, sl), _take(w, sl)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


def _take(x, index):
    """The rows ``index`` of an array, or of every array of a structure (None stays None)."""
    if x is None or isinstance(x, np.ndarray):
        return None if x is None else x[index]
    return map_structure(lambda a: None if a is None else a[index], x)


class _StreamAdapter:
    """Shared by generators and PyDatasets: the per-batch structure check and conversion."""

    def __init__(self, model, where, class_weight=None, predict=False):
        self.model, self.where, self.predict = model, where, predict
        self.class_weight = class_weight
        self.kind = type(self).source_name

    def standardize(self, batch):
        """(x, y, sample_weight) from what the source produced, converted and checked."""
        if isinstance(batch, list):
            batch = tuple(batch)
        if self.predict and not isinstance(batch, tuple):
            batch = (batch,)
        sizes = (1, 2, 3) if self.predict else (2, 3)
        if not isinstance(batch, tuple) or len(batch) not in sizes:
            want = ("x, (x,), (x, y) or (x, y, sample_weight)" if self.predict
                    else "a tuple (x, y) or (x, y, sample_weight)")
            raise ValueError(f"{self.where}: the {self.kind} must yield {want}; it yielded "
                             f"{_describe(batch)}")
        where = f"{self.where} ({self.kind} batch)"
        x = self.model._prepare_x(batch[0], where)
        if self.predict:
            return x, None, None
        n = num_samples(x)
        y = self.model._prepare_y(batch[1], n, where)
        w = batch[2] if len(batch) == 3 else None
        if w is not None and self.class_weight is not None:
            raise ValueError(f"{self.where}: cannot use class_weight and sample_weight at the "
                             f"same time (the {self.kind} yields sample weights)")
        if self.class_weight is not None:
            w = class_weight_to_sample_weights(y, self.class_weight, self.where)
        return x, y, prepare_sample_weight(self.model, w, n, where)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class GeneratorAdapter(_StreamAdapter):
    """A Python generator / iterator: one-shot, so its batches are shared by all epochs."""

    source_name = "generator"
    one_shot = True
    num_batches = None

    def __init__(self, source, model, where, class_weight=None, predict=False):
        super().__init__(model, where, class_weight, predict)
        self.iterator = iter(source)

    def first_x(self):
        """The first batch's inputs (None for an empty source); the batch is put back, as
        Keras's generator adapter peeks at its first batches."""
        try:
            batch = next(self.iterator)
        except StopIteration:
            return None
        self.iterator = itertools.chain([batch], self.iterator)
        return self.standardize(batch)[0]

    def batches(self):
        for batch in self.iterator:
            yield self.standardize(batch)


class PyDatasetAdapter(_StreamAdapter):
    """A ``PyDataset``: batch ``i`` is ``dataset[i]``; ``len`` batches per epoch (None:
    infinite); threads prefetch when ``workers > 1``; ``on_epoch_end`` after each epoch."""

    source_name = "PyDataset"
    one_shot = False

    def __init__(self, dataset, model, where, class_weight=None, predict=False, shuffle=False):
        super().__init__(model, where, class_weight, predict)
        self.dataset = dataset
        self.shuffle = shuffle
        self.num_batches = dataset.num_batches

    def first_x(self):
        """Batch 0's inputs."""
        return self.standardize(self.dataset[0])[0] if self.num_batches != 0 else None

    def _indices(self):
        if self.num_batches is None:
            i = 0
            while True:
                yield i
                i += 1
        order = np.arange(self.num_batches)
        if self.shuffle:
            order = mgrandom.generator().permutation(self.num_batches)
        yield from (int(i) for i in order)

    def batches(self):
        workers = int(getattr(self.dataset, "workers", 1) or 1)
        if workers <= 1:
            for i in self._indices():
                yield self.standardize(self.dataset[i])
            return
        # threads fetch ahead, results are taken in order; at most workers + queue pending
        depth = workers + int(getattr(self.dataset, "max_queue_size", 10) or 0)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending, indices = [], self._indices()
            for i in indices:
                pending.append(pool.submit(self.dataset.__getitem__, i))
                if len(pending) >= depth:
                    break
            while pending:
                batch = pending.pop(0).result()
                nxt = next(indices, None)
                if nxt is not None:
                    pending.append(pool.submit(self.dataset.__getitem__, nxt))
                yield self.standardize(batch)

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def is_stream(x):
    """True for inputs that produce their own batches (a PyDataset, a generator/iterator)."""
    from ..utils import PyDataset
    return isinstance(x, PyDataset) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def get_adapter(model, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                class_weight=None, where="fit", predict=False, all_classes=True):
    """The adapter for ``x`` (and ``y``, ``sample_weight``; arrays only). ``all_classes``:
    every class named in ``class_weight`` must occur in the array y (fit's whole data set;
    not for a single batch)."""
    from ..utils import PyDataset
    class_weight = check_class_weight(class_weight, where)
    if is_stream(x):
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"{where}: {name} must not be given when x is a "
                                 f"{'PyDataset' if isinstance(x, PyDataset) else 'generator'}"
                                 f" (it yields the targets and weights itself)")
        if isinstance(x, PyDataset):
            return PyDatasetAdapter(x, model, where, class_weight, predict, shuffle)
        return GeneratorAdapter(x, model, where, class_weight, predict)
    x = model._prepare_x(x, where)
    n = num_samples(x)
    if predict:
        return ArrayAdapter(x, batch_size=batch_size)
    y = model._prepare_y(y, n, where)
    sample_weight = prepare_sample_weight(model, sample_weight, n, where)
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError(f"{where}: cannot use class_weight and sample_weight at the same "
                             f"time")
        sample_weight = class_weight_to_sample_weights(y, class_weight, where,
                                                       require_all=all_classes)
    return ArrayAdapter(x, y, sample_weight, batch_size, shuffle)


# ---- epochs ---------------------------------------------------------------------------------
RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset "
           "or generator can generate at least `steps_per_epoch * epochs` batches.")


class EpochIterator:
    """Iterate ``for step, (x, y, sample_weight) in epochs:`` one epoch per ``for`` loop
    (Keras 3.15 trainers/epoch_iterator.py)."""

    def __init__(self, adapter, steps=None, where="fit"):
        self.adapter, self.steps, self.where = adapter, steps, where
        self._iterator = None
        self._seen = 0                  # batches taken from the current pass
        self.ran_out = False            # a one-shot source is used up: no further epoch

    @property
    def num_batches(self):
        """Batches per epoch, or None while unknown (a generator without ``steps``)."""
        return self.steps or self.adapter.num_batches

    def __iter__(self):
        adapter, total = self.adapter, self.adapter.num_batches
        if self._iterator is None or self.steps is None:
            self._iterator, self._seen = adapter.batches(), 0
        adapter.on_epoch_begin()
        step = 0
        while self.steps is None or step < self.steps:
            if total is not None and self._seen >= total:
                if self.steps is not None:      # more steps asked than the data has
                    warnings.warn(RAN_OUT, stacklevel=2)
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if self.steps is not None or step == 0:
                    warnings.warn(RAN_OUT, stacklevel=2)
                    self.ran_out = adapter.one_shot
                break
            self._seen += 1
            yield step, batch
            step += 1
        if total is not None and self._seen >= total:
            self._iterator = None               # a new pass next time
        adapter.on_epoch_end()
        self.last_steps = step


# ---- validation -----------------------------------------------------------------------------
def unpack_validation(validation_data, where="fit"):
    """(x, y, sample_weight) from a tuple of 2 or 3, or (stream, None, None)."""
    if is_stream(validation_data):
        return validation_data, None, None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        got = type(validation_data).__name__
        if isinstance(validation_data, (tuple, list)):
            got += f" of {len(validation_data)} items"
        raise ValueError(f"{where}: validation_data must be a tuple (x_val, y_val) or "
                         f"(x_val, y_val, val_sample_weight), a generator or a PyDataset, "
                         f"got {got}")
    x, y, *rest = validation_data
    return x, y, (rest[0] if rest else None)


def split_validation(x, y, sample_weight, split):
    """((x, y, w) train, (x, y, w) validation): the LAST ``n - floor(n (1 - split))`` rows,
    before any shuffling (Keras)."""
    n = num_samples(x)
    cut = math.floor(n * (1.0 - split))
    if cut == 0 or cut == n:
        raise ValueError(f"fit: {n} samples are not enough to split into a training and a "
                         f"validation set with validation_split={split} ({cut} would train, "
                         f"{n - cut} validate); provide more data or change validation_split")

    def part(sl):
        out = tuple(None if a is None else _take(a, sl) for a in (x, y, sample_weight))
        _mark_checked(out)   # rows of data checked just before: not scanned a second time
        return out
    return part(slice(0, cut)), part(slice(cut, n))


def should_validate(epoch, validation_freq):
    """Keras's ``_should_eval``: every ``validation_freq``-th epoch (an int), or the 1-based
    epochs listed."""
    if isinstance(validation_freq, bool):
        raise TypeError(f"fit: validation_freq must be an int or a list of epochs, got "
                        f"{validation_freq!r}")
    if isinstance(validation_freq, (int, np.integer)):
        if validation_freq < 1:
            raise ValueError(f"fit: validation_freq must be >= 1, got {validation_freq}")
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple, set, range)):
        return epoch + 1 in validation_freq
    raise TypeError(f"fit: validation_freq must be an int or a list of epochs, got "
                    f"{validation_freq!r}")
