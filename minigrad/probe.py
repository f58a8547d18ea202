"""Probes: how fused ops report tensors they never materialise (e.g. the delta at a fused
Linear's pre-activation). ``probe`` is a no-op unless a listener is registered."""

_listeners = []


def probe(tag, kind, array):
    """Send ``(tag, kind, array)`` to every listener; costs one list test when none listen."""
    if _listeners:
        for fn in tuple(_listeners):
            fn(tag, kind, array)


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
