"""Shared fixtures: every test starts and ends with the default global state."""
import pytest

from minigrad import config, grad_mode
from minigrad.probe import _listeners, probe_listeners


@pytest.fixture(autouse=True)
def _restore_globals():
    """A test that changes floatx, grad mode or the probe listeners cannot leak it into
    the next test (which would then pass or fail depending on the order)."""
    floatx = config.floatx()
    enabled = grad_mode.is_grad_enabled()
    listeners = probe_listeners()
    yield
    config.set_floatx(floatx)
    grad_mode._state["enabled"] = enabled
    _listeners[:] = listeners


@pytest.fixture
def float64_default():
    """Run the test with ``set_floatx("float64")``; restored afterwards."""
    config.set_floatx("float64")
    yield
