"""minigrad.probe: probe, the listener functions and ProbeRecorder."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.probe import ProbeRecorder, probe_listeners


def test_probe_is_a_noop_without_listeners_and_listeners_can_be_removed():
    assert mg.probe("layer", "delta", np.ones(2)) is None
    seen = []
    fn = mg.add_probe_listener(lambda *a: seen.append(a))
    arr = np.ones(2)
    mg.probe("dense", "delta", arr)
    assert len(seen) == 1 and seen[0][:2] == ("dense", "delta") and seen[0][2] is arr
    mg.remove_probe_listener(fn)
    mg.probe("dense", "delta", arr)
    assert len(seen) == 1
    with pytest.raises(ValueError, match="remove_probe_listener"):
        mg.remove_probe_listener(fn)
    with pytest.raises(TypeError, match="add_probe_listener"):
        mg.add_probe_listener(3)


def test_probe_recorder_keeps_the_latest_array_per_tag_and_kind_inside_its_block():
    a, b, d = np.ones(2), np.zeros(2), np.full(2, 3.0)
    with ProbeRecorder() as rec:
        assert rec.record in probe_listeners()
        mg.probe("dense", "output", a)
        mg.probe("dense", "output", b)
        mg.probe("dense", "delta", d)
        mg.probe("dense", "other", a)            # kinds it does not keep are ignored
    assert rec.record not in probe_listeners()
    assert rec.outputs == {"dense": b} and rec.outputs["dense"] is b
    assert rec.deltas["dense"] is d and set(rec.deltas) == {"dense"}
    mg.probe("dense", "output", a)               # no longer listening
    assert rec.outputs["dense"] is b
    rec.clear()
    assert rec.outputs == {} and rec.deltas == {}


def test_probe_recorder_stops_listening_when_the_block_raises():
    with pytest.raises(KeyError), ProbeRecorder() as rec:
        raise KeyError("boom")
    assert rec.record not in probe_listeners()
