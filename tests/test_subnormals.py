"""Optimizer slots that decay towards zero are flushed instead of going subnormal."""
import pathlib
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import _checks

opts = mg.optimizers
DECAYING = {  # every optimizer configuration whose slots decay towards 0 under zero gradients
    "adam": lambda: opts.Adam(0.01),
    "adam_amsgrad": lambda: opts.Adam(0.01, amsgrad=True),
    "adamw": lambda: opts.AdamW(0.01),
    "sgd_momentum": lambda: opts.SGD(0.01, momentum=0.9),
    "sgd_nesterov": lambda: opts.SGD(0.01, momentum=0.9, nesterov=True),
    "rmsprop": lambda: opts.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: opts.RMSprop(0.01, momentum=0.5, centered=True),
    "nadam": lambda: opts.Nadam(0.01),
    "adamax": lambda: opts.Adamax(0.01),
    "adadelta": lambda: opts.Adadelta(1.0),
    "lion": lambda: opts.Lion(0.01),
}


@pytest.mark.parametrize("name", list(DECAYING))
def test_decayed_slots_are_flushed_instead_of_going_subnormal(name):
    # a weight whose gradient stays 0 (an always-zero input pixel) lets its slots decay into
    # subnormal floats, which are ~50x slower to compute with; they are flushed to 0 instead
    opt = DECAYING[name]()
    w = mg.Tensor(np.ones(4, np.float32), requires_grad=True)
    opt.apply_gradients([(np.array([1e-3, 0, 0, 0], np.float32), w)])
    tiny = np.finfo(np.float32).tiny
    n_slots = len(opt._slot_specs())
    state = opt.variables          # copies: edit them, then load them back
    for slot in state[1:1 + n_slots]:
        slot[1:] = tiny * 1.001     # just above the smallest normal: one decay goes below
    opt.set_state(state)
    for _ in range(5):
        opt.apply_gradients([(np.zeros(4, np.float32), w)])
    for slot in opt.variables[1:1 + n_slots]:
        # amsgrad's vhat keeps its maximum (it never decays): it stays at the normal value
        assert np.all((slot[1:] == 0.0) | (slot[1:] >= tiny)), slot
        assert np.all((slot == 0.0) | (np.abs(slot) >= tiny)), slot   # flushed, not subnormal
    assert np.all(np.isfinite(w.data))


def test_one_tiny_constant():
    # float32's smallest normal, defined once (minigrad/_checks.py) and imported everywhere
    assert float(np.finfo(np.float32).tiny) == _checks.TINY
    root = pathlib.Path(mg.__file__).parent
    copies = [str(p.relative_to(root)) for p in root.rglob("*.py") if p.name != "_checks.py"
              and re.search(r"_TINY\s*=|1\.17549435\d*e-38", p.read_text())]
    assert copies == []
