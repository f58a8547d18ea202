"""Several inputs or outputs: the checks of lists and dicts of arrays, and their shapes.

fit/evaluate/predict pass a model's several inputs (or targets) as a plain list (or dict) of
arrays; ``data_adapters`` slices every array of the structure alike, and the model receives
the structure as given.
"""
import numpy as np

from ..layers.symbolic import map_structure


def batch_shape(x):
    """The build shape of prepared data: (None, *per-sample), or a list/dict of them."""
    return map_structure(lambda a: (None,) + a.shape[1:], x)


def as_list(value, names, what, owner):
    """``value`` (one per name) as a list in ``names`` order: a list/tuple of that length, a
    dict keyed by those names, or (for a single name) the value itself."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{owner}: {what} names {unknown}, which are not outputs of the "
                             f"model; its outputs are {list(names)}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"{owner}: {what} has {len(value)} entries, but the model has "
                             f"{len(names)} outputs ({list(names)}); give one per output or a "
                             f"dict keyed by output name")
        return list(value)
    if len(names) == 1:
        return [value]
    return [value] * len(names)


def prepare_many(model, data, names, shapes, where, what, prepare_one):
    """Each array of a list/dict given for the model's several inputs (or outputs) checked by
    ``prepare_one(array, shape, label)``, as a list in ``names`` order; all must hold the same
    number of samples."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"{where}: {what} is missing {missing}; the model's {what}s are "
                             f"{list(names)} (got keys {sorted(data)})")
        arrays = [data[n] for n in names]
    elif isinstance(data, (list, tuple)):
        if len(data) != len(names):
            raise ValueError(f"{where}: the model has {len(names)} {what}s ({list(names)}), "
                             f"but {len(data)} arrays were given for {what}")
        arrays = list(data)
    else:
        raise TypeError(f"{where}: the model has {len(names)} {what}s ({list(names)}); pass a "
                         f"list or a dict of {len(names)} arrays, got one "
                         f"{type(data).__name__}")
    out = [prepare_one(a, s, f"{what} {n!r}") for a, s, n in zip(arrays, shapes, names)]
    sizes = {len(a) for a in out}
    if len(sizes) > 1:
        raise ValueError(f"{where}: the {what} arrays differ in their number of samples "
                         f"({[len(a) for a in out]}); all must have the same")
    return out


def concat_outputs(batches):
    """predict's batches (arrays, or lists of arrays for several outputs) joined."""
    first = batches[0]
    if isinstance(first, dict):
        return {k: np.concatenate([b[k] for b in batches]) for k in first}
    if isinstance(first, list):
        return [np.concatenate([b[i] for b in batches]) for i in range(len(first))]
    return first if len(batches) == 1 else np.concatenate(batches)
