"""Flat buffers owned by an optimizer: the variables it updates are views into one parameter
buffer and one gradient buffer per dtype, so a step is one kernel call over all of them
(multi-tensor apply) instead of one call, with its Python glue, per variable.

A ``Pack`` is built by ``Optimizer.build`` (or its first step) for the variables it adds:
each one's values are copied into the pack's parameter buffer and ``var.data`` becomes a view
of it (``assign``/``set_weights``/loading copy into that view, as they copy in place); its
slots become views of the pack's slot buffers. A variable already in another optimizer's pack
is left where it is (that optimizer updates it per variable). The gradient buffer holds one
disjoint view per variable; the fused dense op writes dW and db straight into a variable's
view when it is free (``grad_dest``: the variable has no pending gradient and nothing but the
pack refers to the view), so the step finds every gradient already in place. A gradient that
arrives elsewhere (another op, clipping) is copied into its view, if the view is free; if
not, or a variable's ``data`` was replaced, or the pack's variables differ in weight decay,
that step updates the pack's variables one by one, as before.
"""
import sys
import weakref

import numpy as np

from . import _alloc

# id(variable) -> the Pack holding it (weak: a pack lives as long as its optimizer)
_packs = weakref.WeakValueDictionary()


def _refs(view_list, j):
    view = view_list[j]
    return sys.getrefcount(view)


def _calibrate():
    views = [np.empty(2)[:1]]
    return _refs(views, 0)


_FREE = _calibrate()   # what _refs sees when only the pack's list holds the view


def pack_of(var):
    """(pack, index in it) of a packed variable, else (None, -1)."""
    pack = _packs.get(id(var))
    if pack is not None:
        j = pack.index.get(id(var), -1)
        if j >= 0 and pack.vars[j] is var:
            return pack, j
    return None, -1


def packable(var):
    """A variable a new pack may take: C-contiguous float data, not in a pack already."""
    d = var.data
    return (type(d) is np.ndarray and d.dtype.kind == "f" and d.flags.c_contiguous
            and d.size > 0 and pack_of(var)[0] is None)


def grad_dest(var):
    """The array an op may write ``var``'s whole gradient into (its free gradient view), or
    None: not packed, a gradient already pending, or the view referred to elsewhere."""
    if var.grad is not None:
        return None
    pack, j = pack_of(var)
    if pack is None or _refs(pack.gviews, j) != _FREE or var.data is not pack.pviews[j]:
        return None
    return pack.gviews[j]


def is_dest(var, g):
    """True when ``g`` is ``var``'s gradient view (the backward walk keeps it, no copy)."""
    pack, j = pack_of(var)
    return pack is not None and pack.gviews[j] is g


def view_free(pack, j):
    return _refs(pack.gviews, j) == _FREE


class Pack:
    """One dtype's flat buffers for ``variables``: ``params`` (their values), ``grads``,
    ``slots`` (one flat buffer per slot kind, holding the values of ``slots``: per variable,
    its flat slot arrays, every variable the same kinds in the same order)."""

    def __init__(self, variables, slots):
        dtype = variables[0].data.dtype
        sizes = [v.data.size for v in variables]
        offsets = np.concatenate(([0], np.cumsum(sizes))).tolist()
        total = offsets[-1]
        self.vars = list(variables)
        self.index = {id(v): j for j, v in enumerate(variables)}
        self.offsets = offsets
        self.params = _alloc.empty(total, dtype)
        self.grads = _alloc.zeros(total, dtype)
        self.slots = [_alloc.empty(total, dtype) for _ in slots[0]]
        self.pviews, self.gviews = [], []
        for v, own, a, b in zip(variables, slots, offsets, offsets[1:]):
            for buf, values in zip(self.slots, own):
                buf[a:b] = values
            shape = v.data.shape
            self.params[a:b] = v.data.reshape(-1)
            v.data = self.params[a:b].reshape(shape)
            self.pviews.append(v.data)
            self.gviews.append(self.grads[a:b].reshape(shape))
            _packs[id(v)] = self

    def slot_views(self, j):
        """Variable j's flat views of every slot buffer."""
        a, b = self.offsets[j], self.offsets[j + 1]
        return [s[a:b] for s in self.slots]
