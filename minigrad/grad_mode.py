"""Grad mode: ``no_grad()`` turns graph building off, ``enable_grad()`` back on."""
import functools

_state = {"enabled": True}


def is_grad_enabled():
    """True when ops record the graph for backward."""
    return _state["enabled"]


class _GradMode:
    """Context manager and decorator that sets grad mode for its block."""

    enabled = True

    def __enter__(self):
        self._prev = _state["enabled"]
        _state["enabled"] = self.enabled

    def __exit__(self, *exc):
        _state["enabled"] = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """``with no_grad():`` builds no graph (inference, in-place parameter updates)."""

    enabled = False


class enable_grad(_GradMode):
    """``with enable_grad():`` records the graph again inside a ``no_grad`` block."""

    enabled = True
