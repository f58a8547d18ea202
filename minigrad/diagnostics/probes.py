"""What the diagnostics read from a forward and backward pass, for any kind of model.

``PassRecorder.record`` is a probe listener (``minigrad.add_probe_listener``): it keeps the
"output" and "delta" arrays sent under each tag (a layer's name). A layer called twice in one
pass (shared by two branches) sends twice; the arrays are joined, so its activation and delta
statistics cover both calls, as its kernel gradient (accumulated by the engine) does.

``layers_in_order(model)`` lists the leaf layers of a Sequential, functional, nested or
subclassed model in the order a forward pass runs them, each once, keyed by name
(``<model>/<layer>`` inside a nested model).
"""
import numpy as np

from ..probe import ProbeRecorder


class PassRecorder(ProbeRecorder):
    """``probe.ProbeRecorder`` for one forward and backward pass of a model: an array sent
    again under the same tag (a shared layer's second call) is joined to the first,
    flattened, instead of replacing it."""

    def record(self, tag, kind, array):
        store = self._by_kind.get(kind)
        if store is None:
            return
        prev = store.get(tag)
        store[tag] = array if prev is None else np.concatenate(
            (prev.reshape(-1), np.asarray(array, dtype=prev.dtype).reshape(-1)))


def layers_in_order(model):
    """[(key, layer)] for the leaf layers of ``model`` in execution order."""
    order = getattr(model, "execution_order", None)
    if order is not None:
        return order()
    return [(layer.name, layer) for layer in getattr(model, "layers", ())]
