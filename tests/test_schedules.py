"""minigrad.optimizers.schedules: Keras 3 learning-rate schedules, their configs and bad input.
References: hand-computed values and independent step-by-step loops (restart periods walked
one by one, never through the closed form's logarithm)."""
import json
import math

import numpy as np
import pytest
from keras_oracle import run_keras

from minigrad.optimizers import schedules as S

# ----------------------------------------------------------------------------- hand-computed
R5 = 0.1 / 1.25992104989487   # 0.1 * 0.5**(1/3)
HAND = [  # (id, schedule, {step: value})
    # 0.1 * 0.5^(1/3) = 0.0793700526; 0.1 * 0.5^1 = 0.05
    ("exponential", S.ExponentialDecay(0.1, 3, 0.5), {0: 0.1, 1: R5, 3: 0.05}),
    ("exponential_staircase", S.ExponentialDecay(0.1, 3, 0.5, staircase=True),
     {2: 0.1, 3: 0.05, 5: 0.05, 6: 0.025}),
    # 0.1 / (1 + 0.5 * 1/2) = 0.08
    ("inverse_time", S.InverseTimeDecay(0.1, 2, 0.5), {1: 0.08, 2: 0.1 / 1.5}),
    ("inverse_time_staircase", S.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
     {1: 0.1, 2: 0.1 / 1.5}),
    ("piecewise", S.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]),
     {0: 0.1, 2: 0.1, 3: 0.05, 5: 0.05, 6: 0.01, 100: 0.01}),
    # 0.1 * 0.5 * (1 + cos(pi*2/4)) = 0.05; at and past decay_steps: 0
    ("cosine", S.CosineDecay(0.1, 4), {0: 0.1, 2: 0.05, 4: 0.0, 10: 0.0}),
    # alpha = 0.2: 0.1 * (0.8 * 0.5 + 0.2) = 0.06 halfway, 0.1 * 0.2 = 0.02 at the end
    ("cosine_alpha", S.CosineDecay(0.1, 4, alpha=0.2), {2: 0.06, 4: 0.02, 9: 0.02}),
    # warm-up 0 -> 0.1 over 2 steps, then cosine from 0.1 over 4 steps
    ("cosine_warmup", S.CosineDecay(0.0, 4, warmup_target=0.1, warmup_steps=2),
     {0: 0.0, 1: 0.05, 2: 0.1, 4: 0.05, 6: 0.0, 100: 0.0}),
    # warm-up from 0.02 to 0.1 over 4 steps (0.02 + 0.08 * 3/4 = 0.08), then the decay with
    # alpha = 0.5 from the target: 0.1 * (0.5 * 0.5 + 0.5) = 0.075 halfway, 0.05 at the end
    ("cosine_warmup_alpha", S.CosineDecay(0.02, 4, alpha=0.5, warmup_target=0.1,
                                          warmup_steps=4),
     {0: 0.02, 3: 0.08, 4: 0.1, 6: 0.075, 8: 0.05, 50: 0.05}),
    # warmup_target with 0 warm-up steps: the decay starts from the target at once
    ("cosine_warmup_zero_steps", S.CosineDecay(1.0, 2, warmup_target=0.1), {0: 0.1, 1: 0.05}),
    # (0.1 - 0.01) * (1 - s/10) + 0.01: 0.055 at 5, 0.01 from 10 on
    ("polynomial", S.PolynomialDecay(0.1, 10, 0.01), {0: 0.1, 5: 0.055, 10: 0.01, 30: 0.01}),
    # power 2: 0.09 * 0.25 + 0.01 = 0.0325 at 5
    ("polynomial_power", S.PolynomialDecay(0.1, 10, 0.01, power=2.0), {5: 0.0325}),
    # cycle: D = 10*ceil(s/10): s=11 -> D=20, 0.09 * (9/20)^2 + 0.01 = 0.028225; s=20 -> 0.01;
    # s=25 -> D=30: 0.09 * (1/6)^2 + 0.01 = 0.0125; s=0 -> D=10: 0.1
    ("polynomial_cycle", S.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True),
     {0: 0.1, 10: 0.01, 11: 0.028225, 20: 0.01, 25: 0.0125}),
    # periods [0,10) [10,30) [30,70) starting at 1, 0.5, 0.25 (m_mul = 0.5), alpha = 0.1:
    # s=5: 0.9*0.5*(1+cos(pi/2)) + 0.1 = 0.55; s=10 restart: 0.9*0.5 + 0.1 = 0.55;
    # s=20: 0.9*0.25 + 0.1 = 0.325; s=30: 0.9*0.25 + 0.1 = 0.325; s=70: 0.9*0.125 + 0.1
    ("restarts", S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5, alpha=0.1),
     {0: 1.0, 5: 0.55, 10: 0.55, 20: 0.325, 30: 0.325, 50: 0.2125, 70: 0.2125}),
    # t_mul = 1: every period 4 steps long, the same height
    ("restarts_t1", S.CosineDecayRestarts(0.2, 4, t_mul=1.0), {0: 0.2, 2: 0.1, 4: 0.2, 10: 0.1}),
    # t_mul = 3 puts restarts at 10, 40, 130 where log(1 + 2f)/log(3) rounds near integers
    ("restarts_t3", S.CosineDecayRestarts(1.0, 10, t_mul=3.0),
     {10: 1.0, 40: 1.0, 130: 1.0, 25: 0.5, 85: 0.5}),
    # t_mul = 1.5: periods [0,10) [10,25): step 25 is a restart (Keras's float32 log says
    # 0.0, the end of the previous period; see docs/keras_semantics.md), step 24 is x = 14/15
    ("restarts_t1.5", S.CosineDecayRestarts(1.0, 10, t_mul=1.5),
     {25: 1.0, 24: 0.5 * (1 + math.cos(math.pi * 14 / 15))}),
]


@pytest.mark.parametrize("case", HAND, ids=[c[0] for c in HAND])
def test_values_hand_computed(case):
    _, schedule, expected = case
    for step, value in expected.items():
        assert schedule(step) == pytest.approx(value, rel=1e-12, abs=1e-15), step


# ----------------------------------------------------------------------------- step loops
def ref_restarts(step, lr0, first, t_mul, m_mul, alpha):
    """Walk the periods one by one: period i lasts first*t_mul**i steps at height m_mul**i."""
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start, length, i = start + length, length * t_mul, i + 1
    x = (step - start) / length
    return lr0 * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * x)) + alpha)


def ref_polynomial(step, lr0, steps, end, power, cycle):
    span = steps
    if cycle:
        while span < step:          # the first multiple of decay_steps >= step
            span += steps
    else:
        step = min(step, steps)
    return (lr0 - end) * (1 - step / span) ** power + end


@pytest.mark.parametrize("args", [(0.5, 7, 2.0, 0.8, 0.05), (0.1, 3, 1.5, 1.0, 0.0),
                                  (1.0, 5, 1.0, 0.5, 0.2), (0.3, 4, 3.0, 0.9, 0.1)])
def test_restarts_against_a_period_walk(args):
    sched = S.CosineDecayRestarts(*args)
    for step in range(300):
        assert sched(step) == pytest.approx(ref_restarts(step, *args), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("args", [(0.1, 7, 0.001, 1.0, False), (0.1, 7, 0.001, 0.5, True),
                                  (1.0, 3, 0.0, 3.0, True), (0.2, 5, 0.3, 2.0, False)])
def test_polynomial_against_a_cycle_walk(args):
    sched = S.PolynomialDecay(*args)
    for step in range(60):
        assert sched(step) == pytest.approx(ref_polynomial(step, *args), rel=1e-12, abs=1e-15)


def test_restarts_with_shrinking_periods_end_in_nan():
    # t_mul = 0.5: periods 10, 5, 2.5, ... sum to 20; past that Keras gives NaN too
    sched = S.CosineDecayRestarts(1.0, 10, t_mul=0.5)
    assert sched(12) == pytest.approx(ref_restarts(12, 1.0, 10, 0.5, 1.0, 0.0))
    assert math.isnan(sched(20)) and math.isnan(sched(100))


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("case", HAND, ids=[c[0] for c in HAND])
def test_config_round_trip_through_json(case):
    schedule = case[1]
    cfg = json.loads(json.dumps(S.serialize(schedule)))
    assert cfg["class_name"] == type(schedule).__name__
    again = S.deserialize(cfg)
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(k) for k in range(0, 80, 3)] == [schedule(k) for k in range(0, 80, 3)]


def test_keras_defaults_and_names():
    assert S.PolynomialDecay(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.0001,
        "power": 1.0, "cycle": False, "name": "PolynomialDecay"}
    assert S.CosineDecayRestarts(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 1.0,
        "alpha": 0.0, "name": "SGDRDecay"}
    assert S.CosineDecay(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.0, "name": "CosineDecay",
        "warmup_target": None, "warmup_steps": 0}
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'Cosine'.*"
                                         "PolynomialDecay.*CosineDecayRestarts"):
        S.deserialize({"class_name": "Cosine", "config": {}})


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, error, match", [
    (lambda: S.ExponentialDecay(0.1, 0, 0.5), ValueError, r"ExponentialDecay.*decay_steps.*0"),
    (lambda: S.InverseTimeDecay(0.1, 0, 0.5), ValueError, r"InverseTimeDecay.*decay_steps"),
    (lambda: S.ExponentialDecay("0.1", 3, 0.5), TypeError,
     r"ExponentialDecay.*initial_learning_rate.*real number"),
    (lambda: S.ExponentialDecay(0.1, 3, 0.5, staircase="yes"), TypeError,
     r"ExponentialDecay.*staircase.*True or False"),
    (lambda: S.CosineDecay(0.1, -3), ValueError, r"CosineDecay.*decay_steps.*-3"),
    (lambda: S.CosineDecay(0.1, 3, warmup_target=0.2, warmup_steps=-1), ValueError,
     r"CosineDecay.*warmup_steps.*-1"),
    (lambda: S.CosineDecay(0.1, 3, warmup_target="high"), TypeError,
     r"CosineDecay.*warmup_target.*real number"),
    (lambda: S.CosineDecay(0.1, 3, alpha=float("nan")), ValueError, r"CosineDecay.*alpha.*finite"),
    (lambda: S.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), ValueError,
     r"PiecewiseConstantDecay.*2 boundaries.*2 values"),
    (lambda: S.PiecewiseConstantDecay([3, 2], [0.1, 0.2, 0.3]), ValueError,
     r"PiecewiseConstantDecay.*increasing"),
    (lambda: S.PiecewiseConstantDecay([1], [0.1, None]), TypeError,
     r"PiecewiseConstantDecay.*values\[1\].*None"),
    (lambda: S.PolynomialDecay(0.1, 0), ValueError, r"PolynomialDecay.*decay_steps.*0"),
    (lambda: S.PolynomialDecay(0.1, 5, power="2"), TypeError, r"PolynomialDecay.*power"),
    (lambda: S.PolynomialDecay(0.1, 5, cycle=None), TypeError, r"PolynomialDecay.*cycle"),
    (lambda: S.CosineDecayRestarts(0.1, 0), ValueError,
     r"CosineDecayRestarts.*first_decay_steps.*0"),
    (lambda: S.CosineDecayRestarts(0.1, 5, t_mul=0.0), ValueError, r"CosineDecayRestarts.*t_mul"),
    (lambda: S.CosineDecayRestarts(0.1, 5, m_mul=float("inf")), ValueError,
     r"CosineDecayRestarts.*m_mul.*finite"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---- optional oracle: Keras 3 on the torch backend -------------------------------------------
# Keras runs in a child process with KERAS_BACKEND=torch (neither the caller's environment nor
# a keras imported earlier decides the backend). It computes in float32.
_KERAS_CHILD = """
assert keras.backend.backend() == "torch", keras.backend.backend()
out = {}
for key, (name, cfg, steps) in json.loads(sys.argv[1]).items():
    sched = getattr(keras.optimizers.schedules, name)(**cfg)
    out[key] = [float(keras.ops.convert_to_numpy(sched(s))) for s in steps]
    out[key + "/config"] = sched.get_config()
print(json.dumps(out))
"""
ORACLE = {  # key: (class name, config, steps)
    "cosine_warmup": ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 20,
                                      "alpha": 0.1, "warmup_target": 0.2, "warmup_steps": 7},
                      list(range(0, 40))),
    "cosine": ("CosineDecay", {"initial_learning_rate": 0.3, "decay_steps": 13, "alpha": 0.2},
               list(range(0, 20))),
    "cosine_warmup_zero": ("CosineDecay", {"initial_learning_rate": 0.5, "decay_steps": 9,
                                           "warmup_target": 0.1}, list(range(0, 12))),
    "polynomial": ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7,
                                       "end_learning_rate": 0.001, "power": 0.5},
                   list(range(0, 12))),
    "polynomial_cycle": ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7,
                                             "power": 2.0, "cycle": True}, list(range(0, 40))),
    # steps away from the restarts, where float32 rounding of Keras's log can pick either side
    "restarts": ("CosineDecayRestarts", {"initial_learning_rate": 0.5, "first_decay_steps": 6,
                                         "t_mul": 1.5, "m_mul": 0.7, "alpha": 0.05},
                 [1, 2, 4, 5, 7, 9, 12, 16, 20, 25, 31, 40, 45]),
    "restarts_t1": ("CosineDecayRestarts", {"initial_learning_rate": 0.5, "first_decay_steps": 5,
                                            "t_mul": 1.0, "m_mul": 0.5}, list(range(0, 23))),
}


@pytest.fixture(scope="module")
def keras_values():
    stdout = run_keras(_KERAS_CHILD, json.dumps(ORACLE))
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("key", list(ORACLE))
def test_keras_oracle_values_and_config(keras_values, key):
    name, cfg, steps = ORACLE[key]
    ours = getattr(S, name)(**cfg)
    np.testing.assert_allclose([ours(s) for s in steps], keras_values[key], rtol=2e-6,
                               atol=1e-8)
    assert ours.get_config() == keras_values[key + "/config"]
