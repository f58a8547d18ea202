"""Probes: how fused ops report tensors they never materialise (e.g. the delta at a fused
Linear's pre-activation). ``probe`` is a no-op unless a listener is registered.

Listeners are any ``fn(tag, kind, array)``; ``ProbeRecorder`` is the one the diagnostics use
(the latest "output" and "delta" per tag), also a context manager that listens in its block.
"""

_listeners = []

# the op list of a training step being recorded (models/tape.py), else None; a probe sent
# outside the ops joins it, so that a replayed step sends it too (function.py shares it)
TAPE = [None]


class ProbeEvent:
    """A probe sent during a recorded step: the tape's entry ``(ProbeEvent, tag, kind,
    array)``."""


class StateChange:
    """An in-place change of tensors (``assign``) outside the ops during a recorded step: the
    tape's entry ``(StateChange, tensors)``; a replay would skip it, so the step is refused."""


# > 0 while a layer runs on stand-in zeros to find its output shape (layers/symbolic.py):
# in-place assigns are skipped there, as in Keras's StatelessScope
STATELESS = [0]


def probe(tag, kind, array):
    """Send ``(tag, kind, array)`` to every listener; costs one list test when none listen."""
    if _listeners:
        for fn in tuple(_listeners):
            fn(tag, kind, array)
        if TAPE[0] is not None:
            TAPE[0].append((ProbeEvent, tag, kind, array))


def add_probe_listener(fn):
    """Register ``fn(tag, kind, array)``; returns ``fn`` so it can be removed later."""
    if not callable(fn):
        raise TypeError(f"add_probe_listener: expected a callable, got {fn!r}")
    _listeners.append(fn)
    return fn


def remove_probe_listener(fn):
    """Unregister a listener added by ``add_probe_listener`` (ValueError if absent)."""
    try:
        _listeners.remove(fn)
    except ValueError:
        raise ValueError(f"remove_probe_listener: {fn!r} is not a registered listener") from None


def probe_listeners():
    """The registered listeners (a copy), for checks that nothing is left behind."""
    return list(_listeners)


class ProbeRecorder:
    """A listener keeping the latest "output", "delta" and "preactivation" array per tag
    (``outputs``, ``deltas``, ``preactivations``). It stores references, not copies: probed
    arrays are fresh for every call.
    ``with ProbeRecorder() as rec:`` listens inside the block; ``record`` is the listener
    for ``add_probe_listener`` when the listening window is not a block."""

    def __init__(self):
        self.outputs, self.deltas, self.preactivations = {}, {}, {}
        self._by_kind = {"output": self.outputs, "delta": self.deltas,
                         "preactivation": self.preactivations}

    def record(self, tag, kind, array):
        """The listener: keep ``array`` as the latest of its kind for ``tag``."""
        store = self._by_kind.get(kind)
        if store is not None:
            store[tag] = array

    def clear(self):
        """Forget everything recorded so far."""
        self.outputs.clear()
        self.deltas.clear()
        self.preactivations.clear()

    def __enter__(self):
        add_probe_listener(self.record)
        return self

    def __exit__(self, *exc):
        remove_probe_listener(self.record)
