"""Optimizer slots that decay towards zero are flushed instead of going subnormal."""
import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("name,slots", [("adam", 2), ("sgd_momentum", 1), ("rmsprop", 1)])
def test_decayed_slots_are_flushed_instead_of_going_subnormal(name, slots):
    # a weight whose gradient stays 0 (an always-zero input pixel) lets its slots decay into
    # subnormal floats, which are ~50x slower to compute with; they are flushed to 0 instead
    opt = {"adam": lambda: mg.optimizers.Adam(0.01),
           "sgd_momentum": lambda: mg.optimizers.SGD(0.01, momentum=0.9),
           "rmsprop": lambda: mg.optimizers.RMSprop(0.01)}[name]()
    w = mg.Tensor(np.ones(4, np.float32), requires_grad=True)
    opt.apply_gradients([(np.array([1e-3, 0, 0, 0], np.float32), w)])
    tiny = np.finfo(np.float32).tiny
    state = opt.variables          # copies: edit them, then load them back
    for slot in state[1:]:
        slot[1:] = tiny * 1.001     # just above the smallest normal: one decay goes below
    opt.set_state(state)
    for _ in range(5):
        opt.apply_gradients([(np.zeros(4, np.float32), w)])
    for state in opt.variables[1:1 + slots]:
        assert np.all(state[1:] == 0.0), state        # flushed, not subnormal
        assert state[0] == 0.0 or abs(state[0]) >= tiny
