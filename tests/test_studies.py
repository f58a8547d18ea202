"""minigrad.experiments.studies: ``reproduce`` and its five studies.

The quick run of every study (``--quick``: the studies' nets, fewer seeds, epochs and samples)
runs once for the module; the tests then check the files it writes, that its numbers have the
published sign and order, and the conventions against numpy float64 references and closed
forms (Nielsen's cost and L2 mapping, the ReLU and tanh variance recursions, batch-norm probe
statistics)."""
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from minigrad import experiments as ex
from minigrad.__main__ import main
from minigrad.experiments import trial
from minigrad.experiments.config import canonical
from minigrad.experiments.run import SerialExecutor
from minigrad.experiments.studies import (
    get,
    glorot2010,
    he2015,
    ioffe2015,
    lecture,
    nielsen,
    resolve_dataset,
)

NAMES = ["lecture", "nielsen", "glorot2010", "he2015", "ioffe2015"]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """``{name: (Results, numbers)}`` of every study's quick run, files in ``out``."""
    out = tmp_path_factory.mktemp("reproductions")
    runs = {}
    for name in NAMES:
        results = ex.reproduce(name, quick=True, out=out, dataset="digits",
                               executor=SerialExecutor())
        runs[name] = (results, get(name).measure(results))
    return out, runs


@pytest.fixture
def no_mnist(monkeypatch, tmp_path):
    """MNIST's search path points at an empty directory."""
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "home")
    return tmp_path / "data" / "mnist"


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _dense_weights(model):
    return [(layer.kernel.data.astype(np.float64), layer.bias.data.astype(np.float64))
            for layer in model.layers if type(layer).__name__ == "Dense"]


def _nielsen_model(depth, **keys):
    config = canonical(dict(nielsen.Nielsen().configs([0], False, "digits")[depth - 1],
                            seed=0, **keys))
    (xa, ya), _ = trial.load_data("digits")
    from minigrad import random
    random.seed(0)
    model, _ = trial.build_model(config, xa.shape[1], 10)
    trial.compile_model(model, config)
    return config, model, xa, np.eye(10)[ya]


def _nielsen_backprop(weights, x, y):
    """Nielsen's network2 backward pass in float64: cross-entropy summed over the output
    units (delta_L = a - y), averaged over the batch; ``[(dC/dW, dC/db)]`` per layer."""
    acts, zs = [x.astype(np.float64)], []
    for w, b in weights:
        zs.append(acts[-1] @ w + b)
        acts.append(_sigmoid(zs[-1]))
    delta = acts[-1] - y
    grads = []
    for i in range(len(weights) - 1, -1, -1):
        grads.append((acts[i].T @ delta / len(x), delta.mean(axis=0)))
        if i:
            s = _sigmoid(zs[i - 1])
            delta = (delta @ weights[i][0].T) * s * (1 - s)
    return grads[::-1]


# ---- registry, files -------------------------------------------------------------------------
def test_the_registry_lists_the_five_studies():
    assert ex.studies() == NAMES
    for name in NAMES:
        assert get(name).name == name


def test_every_quick_study_writes_its_records_table_and_figure(quick):
    out, runs = quick
    for name, (results, _) in runs.items():
        lines = (out / f"{name}.jsonl").read_text().splitlines()
        assert [json.loads(line)["config"] for line in lines] == [r["config"] for r in results]
        assert all(r["error"] is None for r in results), name
        assert all(r["config"]["case"] for r in results)
        md = (out / f"{name}.md").read_text()
        for needle in ("**Citation.**", f"reproduce {name}", "--quick", "## Setup",
                       "## Findings", "median [10th, 90th percentile", "|---|"):
            assert needle in md, (name, needle)
        assert "**agrees**" in md and "**differs**" not in md.split("## Findings")[0]
        if name != "lecture":
            assert "What differs from" in md
            assert "Data: the 8x8 UCI digits" in md
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000


def test_quick_keeps_each_studys_architecture_and_cuts_seeds_epochs_and_data():
    for name in NAMES:
        study = get(name)
        full = [canonical(dict(c, seed=0)) for c in study.configs([0, 1, 2], False, "digits")]
        fast = [canonical(dict(c, seed=0)) for c in study.configs([0], True, "digits")]
        assert len(full) == len(fast)
        for f, q in zip(full, fast):
            for key in ("depth", "width", "activation", "initializer", "bias_initializer",
                        "batch_norm", "residual", "output", "case"):
                assert f[key] == q[key], (name, key)
            assert q["epochs"] <= f["epochs"] and q["train_samples"] and not f["train_samples"]
        assert study.quick_seeds <= 3


# ---- nielsen ---------------------------------------------------------------------------------
def test_nielsen_speeds_grow_towards_the_output_as_published(quick):
    numbers = quick[1]["nielsen"][1]
    for depth, published in nielsen.PUBLISHED_SPEED.items():
        m = numbers[depth]
        assert m["min_ratio"] > 2.0          # every seed: > 2x per layer towards the output
        medians = [s[0] for s in m["speed"]]
        assert medians == sorted(medians)
        for measured, paper in zip(medians, published):
            assert 0.5 < measured / paper < 2.0, (depth, medians, published)
    assert numbers[1]["accuracy"][0] > 0.3       # the shallow net learns in the quick run


def test_nielsen_speed_is_ten_times_bias_grad_norm_by_his_cost():
    config, model, xa, y = _nielsen_model(3, epochs=0)
    record = trial.run_trial(config)
    probe = slice(0, trial.PROBE_BATCH)
    grads = _nielsen_backprop(_dense_weights(model), xa[probe], y[probe])
    hidden = [v["bias_grad_norm"] for k, v in record["grad_init"].items()
              if k.startswith("hidden_")]
    expected = [np.linalg.norm(db) for _, db in grads[:-1]]
    np.testing.assert_allclose(np.multiply(hidden, nielsen.OUTPUTS), expected, rtol=2e-3)


def test_nielsen_step_is_his_update_with_weight_decay():
    """One step of learning_rate 1.0 and l2 = lambda/(20 n) on Keras's mean binary
    cross-entropy is w <- (1 - eta lambda / n) w - eta dC/dw of his cost."""
    config, model, xa, y = _nielsen_model(2, epochs=1)
    n = nielsen.PAPER_N                        # his n: each step is his step
    assert config["l2"] == pytest.approx(nielsen.LAMBDA / (20 * n))
    before = _dense_weights(model)
    x, t = xa[:10], y[:10]
    grads = _nielsen_backprop(before, x, t)
    decay = 1 - nielsen.ETA * nielsen.LAMBDA / n
    model.fit(x, t.astype(np.float32), batch_size=10, epochs=1, shuffle=False, verbose=0)
    for (w0, b0), (dw, db), (w1, b1) in zip(before, grads, _dense_weights(model)):
        np.testing.assert_allclose(w1, decay * w0 - nielsen.ETA * dw, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b1, b0 - nielsen.ETA * db, rtol=1e-4, atol=1e-6)


# ---- glorot2010 ------------------------------------------------------------------------------
def test_glorot_top_sigmoid_layer_saturates_towards_zero_while_the_others_stay(quick):
    results, numbers = quick[1]["glorot2010"]
    sig = [r for r in results if r["config"]["case"] == glorot2010.SIGMOID]
    for r in sig:
        means = r["trace"]["activation_mean"]
        top = means.pop("hidden_4")
        assert top[0] == pytest.approx(0.5, abs=0.03)
        assert min(top) < glorot2010.SATURATED
        for name, values in means.items():
            assert min(values) > 0.4 and max(values) < 0.6, name
        assert max(r["trace"]["test_accuracy"]) < 0.3     # the plateau while saturated
    assert numbers["saturated_seeds"] == numbers["seeds"] == len(sig)


def test_glorot_backpropagated_gradients_standard_vs_normalised_tanh(quick):
    numbers = quick[1]["glorot2010"][1]
    std = numbers[glorot2010.TANH_STANDARD]["log10_top_over_first"][0]
    nrm = numbers[glorot2010.TANH_NORMALISED]["log10_top_over_first"][0]
    # standard U[-1/sqrt(n), 1/sqrt(n)]: Var = 1/(3n), so near 0 (tanh' = 1) the gradient's
    # variance shrinks 3x per layer on the way down: over 4 layers 10^(4 log10 sqrt 3)
    assert std == pytest.approx(4 * math.log10(math.sqrt(3)), abs=0.15)
    assert 0 <= nrm < 0.3
    rel = [s[0] for s in numbers[glorot2010.TANH_STANDARD]["relative"]]
    assert rel == sorted(rel)


# ---- he2015 ----------------------------------------------------------------------------------
def test_he_beats_glorot_at_depth_30_on_the_epoch_budget(quick):
    numbers = quick[1]["he2015"][1]
    g, h = numbers[he2015.case_name(30, "Glorot")], numbers[he2015.case_name(30, "He")]
    assert g["accuracy"][2] < 0.15                         # every seed near chance
    assert h["accuracy"][1] > g["accuracy"][2] + 0.1       # every He seed clearly above
    assert h["loss_last"][2] < g["loss_last"][1] - 0.1


def test_he_signal_shrinks_by_sqrt2_per_relu_layer_with_glorot_and_not_with_he(quick):
    numbers = quick[1]["he2015"][1]
    for depth in he2015.DEPTHS:
        glorot = numbers[he2015.case_name(depth, "Glorot")]["log10_act_last_over_first"][0]
        he = numbers[he2015.case_name(depth, "He")]["log10_act_last_over_first"][0]
        # Var[w] = 1/n halves E[a^2] per ReLU layer; the std follows sqrt(E[a^2])
        assert glorot == pytest.approx((depth - 1) * math.log10(math.sqrt(0.5)), abs=0.5)
        assert abs(he) < 0.5


# ---- ioffe2015 -------------------------------------------------------------------------------
def test_ioffe_batch_norm_narrows_the_drift_and_learns_sooner(quick):
    numbers = quick[1]["ioffe2015"][1]
    plain, bn = numbers[ioffe2015.PLAIN], numbers[ioffe2015.BN]
    assert bn["drift"][2] < plain["drift"][1] / 2          # every seed
    assert bn["p50_change"][0] < plain["p50_change"][0] / 4
    assert bn["accuracy_end"][1] > plain["accuracy_end"][2] + 0.2
    assert bn["reached"] == bn["seeds"]


def test_ioffe_percentiles_match_a_numpy_forward_with_probe_batch_statistics():
    config = canonical(dict(ioffe2015.Ioffe2015().configs([0], True, "digits")[1], seed=0,
                            epochs=0))
    record = trial.run_trial(config)
    (xa, _), _ = trial.load_data("digits")
    from minigrad import random
    random.seed(0)
    model, blocks = trial.build_model(config, xa.shape[1], 10)
    h = xa[:trial.PROBE_BATCH].astype(np.float64)
    for block in blocks:
        dense, bn = block.layers[0], block.layers[1]
        z = h @ dense.kernel.data.astype(np.float64) + dense.bias.data
        zn = (z - z.mean(0)) / np.sqrt(z.var(0) + bn.epsilon) * bn.gamma.data + bn.beta.data
        h = _sigmoid(zn)
    expected = [np.percentile(zn[:, 0], q) for q in (15, 50, 85)]
    got = [record["trace"][p][0] for p in ("p15", "p50", "p85")]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_probe_call_normalises_by_the_batch_and_keeps_the_moving_statistics():
    from minigrad import layers
    from minigrad.tensor import Tensor
    bn = layers.BatchNormalization()
    x = np.random.default_rng(0).normal(3.0, 2.0, (64, 5)).astype(np.float32)
    bn(Tensor(x), training=False)
    moving = [bn.moving_mean.data.copy(), bn.moving_variance.data.copy()]
    out = trial.probe_call(bn, Tensor(x)).data
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + bn.epsilon),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(bn.moving_mean.data, moving[0])
    np.testing.assert_array_equal(bn.moving_variance.data, moving[1])


# ---- lecture ---------------------------------------------------------------------------------
def test_lecture_cases_are_the_compare_cases_and_behave_as_the_lecture_says(quick):
    results, numbers = quick[1]["lecture"]
    assert list(numbers) == [name for name, _ in ex.lecture_cases()]
    for name, m in numbers.items():
        assert m["class"] == lecture.EXPECTED[name], (name, m)
        assert m["seeds"] == 2 and m["failed"] == 0
    assert all(r["grad_final"] for r in results)
    assert numbers["sigmoid + glorot_uniform"]["decades_init"][2] < -3


def test_train_samples_key_cuts_the_training_set():
    assert canonical({"train_samples": 0})["train_samples"] is None
    with pytest.raises(ValueError, match="train_samples"):
        canonical({"train_samples": -1})
    record = trial.run_trial(canonical(dict(depth=1, width=4, epochs=1, batch_size=10,
                                            train_samples=100, trace=["test_accuracy"],
                                            trace_every=1)))
    assert record["trace"]["step"] == list(range(11))      # 100 samples = 10 steps of 10


# ---- bad input, resume, command line ---------------------------------------------------------
def test_an_unknown_study_lists_the_valid_ones(capsys):
    with pytest.raises(ValueError, match="unknown study 'hinton'; valid: " + ", ".join(NAMES)):
        ex.reproduce("hinton")
    assert main(["reproduce", "hinton", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "minigrad reproduce: error: " in err and ", ".join(NAMES) in err
    with pytest.raises(ValueError, match="seeds"):
        ex.reproduce("nielsen", seeds=0)


def test_dataset_mnist_without_its_files_says_where_to_put_them(no_mnist, capsys, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        ex.reproduce("nielsen", dataset="mnist", quick=True, out=tmp_path / "out")
    message = str(info.value)
    assert str(no_mnist) in message and "train-images-idx3-ubyte" in message
    assert "never downloads" in message
    assert not (tmp_path / "out" / "nielsen.jsonl").exists()
    assert main(["reproduce", "nielsen", "--dataset", "mnist", "--quick",
                 "--out", str(tmp_path / "out")]) == 2
    assert str(no_mnist) in capsys.readouterr().err
    with pytest.raises(ValueError, match="valid: auto, digits, digits28, mnist"):
        resolve_dataset("cifar")


def test_auto_is_mnist_when_its_files_are_present_else_digits(no_mnist):
    assert resolve_dataset("auto") == "digits"
    no_mnist.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for stem, n in (("train", 12), ("t10k", 6)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        (no_mnist / f"{stem}-images-idx3-ubyte").write_bytes(
            (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in images.shape)
            + images.tobytes())
        (no_mnist / f"{stem}-labels-idx1-ubyte").write_bytes(
            (2049).to_bytes(4, "big") + n.to_bytes(4, "big") + labels.tobytes())
    assert resolve_dataset("auto") == "mnist"
    assert resolve_dataset("mnist") == "mnist"


class _Counting(SerialExecutor):
    def __init__(self):
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_an_interrupted_study_resumes_with_the_same_out(quick, tmp_path):
    out, runs = quick
    lines = (out / "nielsen.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "nielsen.jsonl").write_bytes(b"".join(lines[:5]) + lines[5][:40])
    counting = _Counting()
    with pytest.warns(UserWarning, match="incomplete"):
        results = ex.reproduce("nielsen", quick=True, out=tmp_path, dataset="digits",
                               executor=counting)
    assert counting.submitted == len(lines) - 5
    done = runs["nielsen"][0]

    def strip(r):
        return json.dumps({k: v for k, v in r.items() if k != "seconds"}, sort_keys=True)
    assert [strip(r) for r in results] == [strip(r) for r in done]
    assert len((tmp_path / "nielsen.jsonl").read_text().splitlines()) == len(done)
    assert (tmp_path / "nielsen.md").exists() and (tmp_path / "nielsen.png").exists()
    again = _Counting()                        # complete: nothing runs, files rewritten
    ex.reproduce("nielsen", quick=True, out=tmp_path, dataset="digits", executor=again)
    assert again.submitted == 0


def test_another_setup_in_the_same_out_is_refused_before_running(quick, tmp_path):
    out, _ = quick
    shutil.copy(out / "he2015.jsonl", tmp_path / "he2015.jsonl")
    counting = _Counting()
    with pytest.raises(ValueError, match="holds records of another setup of he2015"):
        ex.reproduce("he2015", quick=False, out=tmp_path, dataset="digits", executor=counting)
    assert counting.submitted == 0


def test_the_command_prints_the_table_and_names_the_files(quick, capsys):
    out, runs = quick
    before = (out / "ioffe2015.jsonl").read_text()
    assert main(["reproduce", "ioffe2015", "--quick", "--workers", "1", "--dataset",
                 "digits", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# Ioffe & Szegedy (2015)")
    assert "| without batch norm |" in printed and "| with batch norm |" in printed
    assert f"{out}/ioffe2015.png" in printed
    assert (out / "ioffe2015.jsonl").read_text() == before       # resumed: nothing rerun
