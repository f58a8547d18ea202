"""``python -m minigrad bench``: argument handling, the workloads' arithmetic, and a tiny smoke
run (no timings are asserted)."""
import io

import numpy as np
import pytest

from minigrad.__main__ import build_parser
from minigrad.bench import cli, peers
from minigrad.bench.peers import NotInstalled
from minigrad.bench.workloads import WORKLOADS, initial_weights, minigrad_model


def _parse(*argv):
    return build_parser().parse_args(["bench", *argv])


def test_defaults_are_every_workload_and_peer():
    args = _parse()
    assert args.workloads == ["lecture", "medium", "deep", "large", "fit"]
    assert args.peers == ["numpy", "torch", "keras", "mygrad", "autograd"]
    assert args.rounds == 5 and not args.contention and args.plot is None


def test_lists_are_comma_separated_and_deduplicated():
    args = _parse("--workloads", "deep, lecture,deep", "--peers", "torch")
    assert args.workloads == ["deep", "lecture"] and args.peers == ["torch"]


@pytest.mark.parametrize("flag,value,kind,valid", [
    ("--workloads", "lecture,huge", "workload", "lecture, medium, deep, large, fit"),
    ("--peers", "jax", "peer", "numpy, torch, keras, mygrad, autograd"),
])
def test_unknown_names_are_rejected_with_the_valid_list(flag, value, kind, valid, capsys):
    with pytest.raises(SystemExit) as e:
        _parse(flag, value)
    assert e.value.code == 2
    err = capsys.readouterr().err
    bad = value.split(",")[-1]
    assert f"unknown {kind} {bad!r}" in err and f"valid: {valid}" in err


@pytest.mark.parametrize("argv", [["--rounds", "0"], ["--rounds", "x"], ["--seconds", "-1"],
                                  ["--workloads", ""]])
def test_bad_numbers_and_empty_lists_are_rejected(argv, capsys):
    with pytest.raises(SystemExit):
        _parse(*argv)
    err = capsys.readouterr().err
    assert "expected a positive" in err or "no workload given" in err


def test_workload_arithmetic():
    w = WORKLOADS["lecture"]
    assert w.params() == 784 * 128 + 128 + 128 * 10 + 10
    # forward x@W per layer, x^T dz per layer, dz W^T for the second layer only
    assert w.gemm_flops() == 2 * 32 * (784 * 128 * 2 + 128 * 10 * 3)
    assert w.optimizer_bytes() == 7 * 4 * w.params()
    assert w.elementwise_bytes() == 5 * 4 * 32 * (128 + 10)
    deep = WORKLOADS["deep"]
    assert len(deep.layers) == 21 and deep.layers[0] == (64, 64) and deep.layers[-1] == (64, 10)
    large = WORKLOADS["large"]
    assert abs(large.optimizer_bytes() - 177e6) < 1e6      # the 177 MB of Adam traffic


def test_physical_limit_from_the_rates():
    w = WORKLOADS["lecture"]
    rates = {("gemm", 1): 1e11, "copy": 2e10}
    want = w.gemm_flops() / 1e11 + (w.optimizer_bytes() + w.elementwise_bytes()) / 2e10
    assert cli.physical_limit(w, 1, rates) == pytest.approx(want)
    fit = WORKLOADS["fit"]
    per_step = fit.gemm_flops() / 1e11 + (fit.optimizer_bytes() + fit.elementwise_bytes()) / 2e10
    assert cli.physical_limit(fit, 1, rates) == pytest.approx(per_step * (8192 // 32))


def test_numpy_by_hand_takes_the_same_steps_as_minigrad():
    """The numpy peer is the same computation: after three steps both hold the same weights."""
    w = WORKLOADS["lecture"]
    x, y = w.data()
    model = minigrad_model(w)
    model.set_weights(initial_weights(w))
    params = initial_weights(w)
    step = peers.numpy_stepper(w, params)
    for k in range(3):
        xb, yb = x[32 * k:32 * k + 32], y[32 * k:32 * k + 32]
        model.train_on_batch(xb, yb)
        step(xb, yb)
    for a, b in zip(model.get_weights(), params):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    assert not np.array_equal(params[0], initial_weights(w)[0])


def test_smoke_run_prints_one_table(tmp_path, monkeypatch):
    def missing(w, x, y):
        raise NotInstalled("mygrad")

    def broken(w, x, y):
        raise RuntimeError("no backend")
    monkeypatch.setitem(peers.MAKERS, "mygrad", missing)
    monkeypatch.setitem(peers.MAKERS, "autograd", broken)
    monkeypatch.setitem(cli.MAKERS, "mygrad", missing)
    monkeypatch.setitem(cli.MAKERS, "autograd", broken)
    path = tmp_path / "bench.png"
    args = _parse("--workloads", "lecture", "--peers", "numpy,mygrad,autograd",
                  "--rounds", "1", "--seconds", "0.01", "--plot", str(path))
    out = io.StringIO()
    assert cli.run(args, out) == 0
    text = out.getvalue()
    assert "| workload | minigrad ms |" in text and "numpy ms (ratio)" in text
    row = next(line for line in text.splitlines() if line.startswith("| lecture"))
    assert "not installed" in row and "failed: RuntimeError: no backend" in row
    assert "% of limit" in text and " %" in row
    assert "cores, load" in text and "threads" in text
    assert path.exists() and path.stat().st_size > 1000


def test_capture_costs_are_measured_on_models_that_capture():
    """Both capture routes run on their models (a Plan for lecture, a Tape for lecture with
    BatchNormalization and Dropout: Tape raises if the two recordings do not match)."""
    assert cli.capture_cost() > 0
    record, compare = cli.tape_capture_cost()
    assert record > 0 and compare > 0


def test_profile_splits_the_captured_step_into_kernels_and_python():
    from minigrad.bench import profile
    rows = dict(profile.profile("lecture", repeats=1))
    kernels = {"forward GEMMs x @ W", "dW GEMMs x^T dz", "dX GEMMs dz W^T",
               "epilogues act(z + b)", "epilogue VJPs", "softmax cross-entropy",
               "softmax for the metrics", "Adam update"}
    assert kernels <= set(rows)
    assert all(rows[k] > 0 for k in kernels)
    total = rows["whole train_on_batch"]
    assert rows["the rest: Python, colder caches"] == pytest.approx(
        total - sum(rows[k] for k in kernels))
    with pytest.raises(KeyError):
        profile.profile("no such workload")
