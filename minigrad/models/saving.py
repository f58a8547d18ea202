"""Saving and loading: one zip file of JSON + ``.npy`` arrays, never pickle.

Layout of a model file (any extension)::

    model.json            {"format": "minigrad.model", "format_version": 1, "model": {
                           "class_name": "Sequential", "config": ...}, "compile": {...} | null,
                           "weights": [{"name", "shape", "dtype"}, ...], "optimizer_state": n}
    weights/00000.npy     one array per weight, in ``model.weights`` order
    optimizer/00000.npy   ``optimizer.variables`` ([iterations, *slots]) when it has state
    constants/00000.npy   constant arrays passed to op nodes of a functional model
                          (``model.json`` names them by index; "constants": their count)

Arrays are written with ``np.save(allow_pickle=False)`` and read with ``np.load(...,
allow_pickle=False)``, so loading can never run code: an object array is refused. Writes are
atomic: a temporary file in the target directory, flushed and fsync'ed, then ``os.replace``;
an interrupted save leaves the previous file intact. Loading reads and checks everything
(format, version, every array) before building the model, so a bad file raises and yields no
half-loaded model. Custom callables (activation, loss, initializer functions, layer classes)
are stored by name and resolved on load through ``custom_objects``.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from .. import _checks
from .._registry import CUSTOM, lookup_custom, registered_name, resolve_config

FORMAT_VERSION = 1
MODEL_FORMAT = "minigrad.model"
WEIGHTS_FORMAT = "minigrad.weights"
_CUSTOM = CUSTOM   # JSON marker for a callable saved by name (see _registry)


# ---- writing ----------------------------------------------------------------------------
def save_model(model, filepath):
    """Write ``model`` (architecture, weights, compile config, optimizer state)."""
    from ..layers.op_node import constant_store
    with constant_store() as store:    # op nodes' constant arrays, kept beside the weights
        spec = model_spec(model)
    doc = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION,
           "model": spec, "compile": _compile_config(model)}
    constants = [(f"constants/{i:05d}.npy", a) for i, a in enumerate(store.arrays)]
    if constants:
        doc["constants"] = len(constants)
    _atomic_write(filepath, doc, _weight_arrays(model, doc) + _optimizer_arrays(model, doc)
                  + constants)


def model_spec(model):
    """{"class_name", "config", "build_config"}: the architecture as JSON-able data (a
    subclassed model's ``get_config`` plus the input shape it was built for)."""
    spec = {"class_name": registered_name(model),
            "config": _jsonable(model.get_config(), "model config")}
    if model.built and model._build_shape is not None:
        spec["build_config"] = {"input_shape": _jsonable(model._build_shape, "input shape")}
    return spec


def save_weights(model, filepath):
    """Write only the weights of ``model`` (same zip layout, no architecture)."""
    doc = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION}
    _atomic_write(filepath, doc, _weight_arrays(model, doc))


def save_training_state(model, filepath, state):
    """Weights, optimizer state and the JSON dict ``state`` in one atomic weights file (a
    ``load_weights`` reads it too); ``load_training_state`` puts them back. Used by
    ``BackupAndRestore``."""
    doc = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
           "training_state": _jsonable(state, "training state")}
    _atomic_write(filepath, doc, _weight_arrays(model, doc) + _optimizer_arrays(model, doc))


def _weight_arrays(model, doc):
    if not model.built:
        raise ValueError(f"save: the model {model.name!r} is not built, so it has no weights "
                         f"yet; build it (input_shape=, Input, or call it on data) first")
    weights = model.weights
    doc["weights"] = [{"name": w.name, "shape": list(w.shape), "dtype": w.dtype.name}
                      for w in weights]
    return [(f"weights/{i:05d}.npy", w.data) for i, w in enumerate(weights)]


def _optimizer_arrays(model, doc):
    """The members ``optimizer/NNNNN.npy``: ``optimizer.variables`` ([iterations, *slots]);
    none for an optimizer that has neither stepped nor built slots (loading then starts it
    fresh, as saved). Their count goes into ``doc["optimizer_state"]``."""
    opt = getattr(model, "optimizer", None)
    arrays = [] if opt is None else [np.asarray(getattr(v, "data", v)) for v in opt.variables]
    if len(arrays) <= 1 and (opt is None or opt.iterations == 0):
        arrays = []
    doc["optimizer_state"] = len(arrays)
    return [(f"optimizer/{i:05d}.npy", a) for i, a in enumerate(arrays)]


def _compile_config(model):
    if not getattr(model, "compiled", False):
        return None
    from .. import losses, metrics
    opt = model.optimizer
    loss = _serialize_ids(losses, model.loss)
    metric_ids = [_serialize_ids(metrics, m) for m in model._metric_ids]
    weighted_ids = [_serialize_ids(metrics, m) for m in model._weighted_metric_ids]
    loss_weights = getattr(model, "loss_weights", None)
    return _jsonable({
        "optimizer": {"class_name": type(opt).__name__, "config": opt.get_config()},
        "loss": loss, "metrics": metric_ids, "loss_weights": loss_weights,
        "weighted_metrics": weighted_ids}, "compile config")


def _serialize_ids(module, identifier):
    """A compile identifier (one, or one per output in a list or dict) as JSON-able data."""
    if identifier is None or isinstance(identifier, str):
        return identifier
    if isinstance(identifier, (list, tuple)):
        return [_serialize_ids(module, i) for i in identifier]
    if isinstance(identifier, dict) and "class_name" not in identifier:
        return {k: _serialize_ids(module, v) for k, v in identifier.items()}
    if isinstance(identifier, dict):
        return identifier
    return module.serialize(identifier)


def _jsonable(obj, where):
    """A JSON-safe copy of a config: tuples -> lists, numpy scalars -> numbers, a named
    callable -> {"__custom_object__": name}; a lambda (no usable name) raises."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, str) and obj.startswith("<"):    # a config holding a callable's repr
        raise ValueError(f"save: {where} is {obj!r}, a callable without a usable name (a "
                         f"lambda?); use a named function (def) and pass it to load via "
                         f"custom_objects")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__,
                "config": _jsonable(obj.get_config(), f"{where}.config")}
    if callable(obj):
        _checks.callable_name(f"save: {where}", obj)
        return {_CUSTOM: registered_name(obj)}
    raise TypeError(f"save: {where} holds {obj!r} of type {type(obj).__name__}, which cannot "
                    f"be written as JSON")


def _atomic_write(filepath, doc, arrays):
    """Write the zip to a temporary file beside ``filepath``, fsync, then rename over it."""
    path = os.path.abspath(os.fspath(filepath))
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr("model.json", json.dumps(doc, indent=1))
                for name, array in arrays:
                    with zf.open(name, "w", force_zip64=True) as member:
                        np.save(member, np.asarray(array, order="C"), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- reading ----------------------------------------------------------------------------
def _read(filepath, expected_formats):
    """(doc, {member name: ndarray}) after checking everything; raises ValueError on a file
    that is truncated, foreign, of a newer format or holding pickled data."""
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load: {path!r} is not a minigrad file: it is not a zip archive "
                         f"(truncated, or written by something else)")
    try:
        with zipfile.ZipFile(path) as zf:
            doc = _read_doc(zf, path, expected_formats)
            arrays = {name: _read_array(zf, name, path)
                      for name in zf.namelist() if name.endswith(".npy")}
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise ValueError(f"load: {path!r} is damaged or truncated ({type(e).__name__}: "
                         f"{e})") from None
    return doc, arrays


def _read_doc(zf, path, expected_formats):
    try:
        raw = zf.read("model.json")
    except KeyError:
        raise ValueError(f"load: {path!r} is a zip archive but not a minigrad file (it has no "
                         f"model.json)") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"load: {path!r}: model.json is not valid JSON ({e})") from None
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt not in (MODEL_FORMAT, WEIGHTS_FORMAT):
        raise ValueError(f"load: {path!r} is a zip archive but not a minigrad file (format "
                         f"{fmt!r}, expected {MODEL_FORMAT!r})")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ValueError(f"load: {path!r} has format version {version!r}, but this minigrad "
                         f"reads versions 1..{FORMAT_VERSION}: it was written by a newer "
                         f"minigrad; upgrade minigrad to load it")
    if fmt not in expected_formats:
        raise ValueError(f"load: {path!r} holds {fmt!r} data, expected {expected_formats[0]!r}"
                         f" (a file from save_weights has no architecture: build the model "
                         f"and call model.load_weights)")
    return doc


def _read_array(zf, name, path):
    try:
        return np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise ValueError(f"load: {path!r}: {name} holds pickled Python objects; minigrad "
                             f"files never contain pickle, so it was refused unread") from None
        raise ValueError(f"load: {path!r}: {name} is not a valid .npy array ({e})") from None


def _weights_from(doc, arrays, path):
    specs = doc.get("weights")
    if not isinstance(specs, list):   # a damaged file, not a wrong argument type
        raise ValueError(f"load: {path!r}: model.json has no weight list")  # noqa: TRY004
    out = []
    for i, spec in enumerate(specs):
        a = arrays.get(f"weights/{i:05d}.npy")
        if a is None:
            raise ValueError(f"load: {path!r} is missing weights/{i:05d}.npy ({spec.get('name')})")
        # float weights, or an integer/bool Variable (a counter, a seed state)
        if list(a.shape) != list(spec.get("shape", a.shape)) or a.dtype.kind not in "fiub":
            raise ValueError(f"load: {path!r}: weight {i} ({spec.get('name')}) has shape "
                             f"{a.shape} and dtype {a.dtype}, expected {spec.get('shape')} "
                             f"and a numeric dtype")
        out.append(a)
    return out


def _optimizer_state_from(doc, arrays, path):
    """The saved ``optimizer.variables`` (empty when none were saved)."""
    n_opt = doc.get("optimizer_state") or 0
    state = [arrays.get(f"optimizer/{i:05d}.npy") for i in range(n_opt)]
    if any(a is None for a in state):
        raise ValueError(f"load: {path!r} is missing optimizer arrays")
    return state


def _restore_optimizer(model, state, path):
    """Build ``model.optimizer``'s slots for ``model.trainable_weights`` (the order they were
    created in) and fill them with the saved ``state``; nothing when none was saved."""
    if not state:
        return
    model.optimizer.build(model.trainable_weights)
    try:
        model.optimizer.set_state(state)
    except ValueError as e:
        raise ValueError(f"load: the saved optimizer state in {path!r} does not fit the "
                         f"model's trainable weights ({e})") from None


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 - Keras's name
    """Rebuild a model saved by ``save``: same architecture and weights, and (``compile``)
    the same optimizer, loss, metrics and optimizer state, so training continues exactly."""
    doc, arrays = _read(filepath, (MODEL_FORMAT,))
    path = os.fspath(filepath)
    weights = _weights_from(doc, arrays, path)
    opt_state = _optimizer_state_from(doc, arrays, path)
    from ..layers.op_node import constant_store
    n_const = doc.get("constants") or 0
    constants = [arrays.get(f"constants/{i:05d}.npy") for i in range(n_const)]
    if any(a is None for a in constants):
        raise ValueError(f"load: {path!r} is missing constants/ arrays of its op nodes")
    with constant_store(constants):
        model = model_from_spec(doc.get("model") or {}, custom_objects, path)
    if not model.built:
        raise ValueError(f"load: {path!r}: the saved architecture has no input shape, so the "
                         f"weights cannot be placed")
    model.set_weights(weights)
    if compile and doc.get("compile"):
        _compile_from(model, doc["compile"], custom_objects)
        _restore_optimizer(model, opt_state, path)
    return model


def load_weights(model, filepath):
    """Copy the weights of a ``save_weights`` (or ``save``) file into ``model``."""
    doc, arrays = _read(filepath, (WEIGHTS_FORMAT, MODEL_FORMAT))
    _set_weights_from(model, doc, arrays, os.fspath(filepath))


def load_training_state(model, filepath):
    """Put the weights and optimizer state of a ``save_training_state`` file back into
    ``model`` (compiled, built) and return its ``state`` dict."""
    path = os.fspath(filepath)
    doc, arrays = _read(filepath, (WEIGHTS_FORMAT,))
    state = doc.get("training_state")
    if not isinstance(state, dict):   # a file's content, not an argument's type
        raise ValueError(f"load: {path!r} is a weights file without a training state (not "  # noqa: TRY004
                         f"written by BackupAndRestore)")
    opt_state = _optimizer_state_from(doc, arrays, path)
    _set_weights_from(model, doc, arrays, path)
    _restore_optimizer(model, opt_state, path)
    return state


def _set_weights_from(model, doc, arrays, path):
    weights = _weights_from(doc, arrays, path)
    if not model.built:
        raise ValueError(f"load_weights: the model {model.name!r} is not built; build it "
                         f"(input_shape=, Input, or call it on data) so that its weights exist")
    params = model.weights
    saved = [spec.get("name") for spec in doc["weights"]]
    if len(weights) != len(params):
        raise ValueError(f"load_weights: {path!r} holds {len(weights)} weights ({saved}), "
                         f"but the model {model.name!r} has {len(params)} "
                         f"({[p.name for p in params]}): a different architecture")
    for i, (a, p) in enumerate(zip(weights, params)):
        if a.shape != p.shape:
            raise ValueError(f"load_weights: weight {i} in {path!r} ({saved[i]}) has shape "
                             f"{a.shape}, but the model's {p.name} has shape {p.shape}")
    model.set_weights(weights)


# ---- configs back to objects ----------------------------------------------------------------
def model_from_spec(spec, custom_objects=None, where="load"):
    """A fresh model from ``model_spec``'s output: the class by name (a minigrad model, or a
    custom class through ``custom_objects`` / ``register_keras_serializable``), rebuilt with
    ``from_config`` and built for the saved input shape."""
    from ..layers.base import LAYERS
    name = spec.get("class_name")
    cls = lookup_custom(name, custom_objects)
    if cls is None:
        try:
            cls = LAYERS.lookup(str(name))
        except ValueError:
            cls = None
    if cls is None:
        short = short_name(name)
        raise ValueError(
            f"{where}: the model class {short!r} is not known: it is a custom (subclassed) "
            f"model, so pass custom_objects={{{short!r}: {short}}} to load_model / "
            f"model_from_json, or decorate the class with "
            f"@minigrad.saving.register_keras_serializable()")
    config = spec.get("config") or {}
    model = cls.from_config(config, custom_objects) if _takes_custom(cls) else \
        cls.from_config(resolve_config(config, custom_objects, f"model {short_name(name)}"))
    build = spec.get("build_config") or {}
    if not model.built and build.get("input_shape") is not None:
        shape = build["input_shape"]
        model.build([tuple(s) for s in shape] if shape and isinstance(shape[0], list)
                    else tuple(shape))
    return model


def short_name(name):
    return str(name).split(">")[-1]


def _takes_custom(cls):
    import inspect
    return "custom_objects" in inspect.signature(cls.from_config).parameters


def model_from_config(config, custom_objects=None, cls=None):
    """A fresh (newly initialised) Sequential model from ``Sequential.get_config()``."""
    from .. import layers
    from ..layers.base import LAYERS
    if cls is None:
        from .sequential import Sequential as cls
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    if config.get("input_shape") is not None:
        model.add(layers.Input(shape=tuple(config["input_shape"])))
    for i, spec in enumerate(config.get("layers", [])):
        class_name = spec.get("class_name")
        if lookup_custom(class_name, custom_objects) is None:
            try:
                LAYERS.lookup(str(class_name))
            except ValueError:
                raise ValueError(f"load: layer {i} is of class {class_name!r}, which is not a "
                                 f"minigrad layer: pass custom_objects={{{class_name!r}: "
                                 f"YourLayerClass}} or register the class with "
                                 f"@minigrad.saving.register_keras_serializable()") from None
        try:
            layer = layers.deserialize(spec, custom_objects)
        except ValueError as e:
            raise ValueError(f"load: could not rebuild layer "
                             f"{spec.get('config', {}).get('name')!r} ({class_name}): {e}. If "
                             f"it names a custom function or class, pass it in "
                             f"custom_objects") from None
        model.add(layer)
    return model


def _compile_from(model, cfg, custom_objects):
    """Compile ``model`` as saved (optimizer, loss, metrics)."""
    from .. import losses, metrics, optimizers
    custom_objects = dict(custom_objects or {})
    try:
        optimizer = optimizers.get(resolve_config(cfg["optimizer"], custom_objects,
                                                  "optimizer config"))
        loss = _from_identifier(losses, cfg.get("loss"), custom_objects)
        metric_ids = [_from_identifier(metrics, m, custom_objects)
                      for m in cfg.get("metrics") or []]
        weighted_ids = [_from_identifier(metrics, m, custom_objects)
                        for m in cfg.get("weighted_metrics") or []]
        model.compile(optimizer=optimizer, loss=loss, metrics=metric_ids,
                      loss_weights=cfg.get("loss_weights"), weighted_metrics=weighted_ids)
    except ValueError as e:
        raise ValueError(f"load: cannot restore the compile configuration: {e}. If it names "
                         f"a custom function or class, pass it in custom_objects (or load "
                         f"with compile=False)") from None


def _from_identifier(module, identifier, custom_objects):
    """A saved loss/metric identifier back to what compile accepts: names stay names (so
    "accuracy" is resolved from the shapes again), custom names and configs are rebuilt."""
    if isinstance(identifier, str):
        return lookup_custom(identifier, custom_objects) or identifier
    if isinstance(identifier, list):        # one per output
        return [_from_identifier(module, i, custom_objects) for i in identifier]
    if isinstance(identifier, dict):
        if set(identifier) == {_CUSTOM}:
            return resolve_config(identifier, custom_objects, f"{module.__name__} identifier")
        if "class_name" not in identifier:  # per output, by name
            return {k: _from_identifier(module, v, custom_objects)
                    for k, v in identifier.items()}
        return module.deserialize(identifier, custom_objects)
    return identifier
