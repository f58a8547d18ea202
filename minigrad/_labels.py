"""The one check of integer class labels, shared by the sparse losses, the sparse metrics and
the fused softmax cross-entropy (``ops/softmax.py``)."""
import numpy as np


def class_ids(owner, labels, k):
    """``labels`` (int, uint, bool, or floats holding whole numbers) as int64 class ids of the
    same shape; every id must lie in [0, k). Raises ValueError naming ``owner``, the bad
    values and the range."""
    lab = np.asarray(labels)
    if lab.dtype.kind == "f":
        bad = ~np.isfinite(lab) | (lab != np.round(lab))
        if bad.any():
            raise ValueError(f"{owner}: sparse labels of shape {lab.shape} must be integer "
                             f"class ids; got non-integer values such as {lab[bad][:3]}")
    elif lab.dtype.kind not in "iub":
        raise ValueError(f"{owner}: sparse labels must be integer class ids, got dtype "
                         f"{lab.dtype}")
    ids = lab.astype(np.int64, copy=False)
    # one reduction finds both kinds of bad id: negative ones wrap to huge unsigned values
    if ids.size and np.maximum.reduce(ids.view(np.uint64), axis=None) >= k:
        bad = np.unique(ids[(ids < 0) | (ids >= k)])[:5].tolist()
        what = f"label {bad[0]} is" if len(bad) == 1 else f"labels {bad} are"
        raise ValueError(f"{owner}: {what} outside [0, {k}): the predictions have {k} "
                         f"classes")
    return ids
