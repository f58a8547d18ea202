"""minigrad.experiments: grids, trials, records, executors (serial, local pool, threads,
a real Dask LocalCluster), streaming and resume, failures, summary, plot, save/load."""
import concurrent.futures as cf
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from minigrad import experiments as ex
from minigrad.datasets import lecture
from minigrad.experiments import run as run_module
from minigrad.experiments import trial
from minigrad.experiments.config import DEFAULTS, make_initializer

ROOT = Path(__file__).resolve().parents[1]
# tiny trials: a few hundred ms each on the shipped digits
TINY = dict(depth=3, width=8, epochs=1, batch_size=64)


def _same(a, b):
    """Records equal apart from timings (NaN == NaN through JSON)."""
    def strip(r):
        return json.dumps({k: v for k, v in r.items() if k != "seconds"}, sort_keys=True)
    return [strip(r) for r in a] == [strip(r) for r in b]


@pytest.fixture(scope="module")
def tiny_grid():
    return ex.Grid(activation=["sigmoid", "relu"], seed=[0, 1], **TINY)


@pytest.fixture(scope="module")
def serial_records(tiny_grid):
    return ex.run_grid(tiny_grid, executor=ex.SerialExecutor(), progress=False)


# ---- grids and configs ----------------------------------------------------------------------
def test_grid_is_every_combination_of_the_lists_with_canonical_configs():
    grid = ex.Grid(depth=[2, 3], activation=["sigmoid", "ReLU"], initializer="GlorotUniform",
                   seed=range(3), clipnorm=0, trace=["activation_std", "test_accuracy"])
    configs = grid.configs()
    assert len(grid) == 12 and grid.varying() == ["depth", "activation", "seed"]
    assert configs[0] == dict(DEFAULTS, depth=2, activation="sigmoid", seed=0,
                              initializer="glorot_uniform", clipnorm=None,
                              trace=["test_accuracy", "activation_std"])
    assert [(c["depth"], c["activation"], c["seed"]) for c in configs[:4]] == [
        (2, "sigmoid", 0), (2, "sigmoid", 1), (2, "sigmoid", 2), (2, "relu", 0)]
    # a dict of lists and a list of config dicts are grids too
    same = ex.run_grid.__globals__["as_grid"]({"depth": [2, 3], "seed": 0})
    assert [c["depth"] for c in same.configs()] == [2, 3]
    listed = ex.Grid.from_configs([{"case": "a", "seed": [0, 1]}, {"case": "b", "depth": 4}])
    assert [(c["case"], c["seed"], c["depth"]) for c in listed.configs()] == [
        ("a", 0, 10), ("a", 1, 10), ("b", 0, 4)]
    # trace: a list of names is one value, a list of lists an axis
    assert len(ex.Grid(trace=[["test_accuracy"], []])) == 2
    assert ex.Grid(learning_rate=1, clipnorm=2).configs()[0]["learning_rate"] == 1.0


@pytest.mark.parametrize("axes, error, needles", [
    ({"depht": [2]}, ValueError, ["unknown config key 'depht'", "valid keys: dataset, depth"]),
    ({"activation": ["relu", "relu7"]}, ValueError, ["unknown activation 'relu7'",
                                                     "sigmoid", "softsign"]),
    ({"activation": "threshold"}, ValueError, ["'threshold' has no defaults"]),
    ({"initializer": "glorot_wide"}, ValueError, ["glorot_uniform", "scaled_normal:S"]),
    ({"initializer": "scaled_normal:x"}, ValueError, ["scaled_normal:NUMBER"]),
    ({"initializer": "cauchy:1"}, ValueError, ["unknown form 'cauchy'"]),
    ({"dataset": "cifar"}, ValueError, ["valid: digits, digits28, mnist, fashion_mnist"]),
    ({"output": "linear"}, ValueError, ["valid: softmax, sigmoid"]),
    ({"optimizer": "madgrad"}, ValueError, ["unknown optimizer 'madgrad'", "adam"]),
    ({"trace": ["loss"]}, ValueError, ["unknown trace 'loss'", "preactivation_percentiles"]),
    ({"depth": 0}, ValueError, ["depth must be an integer in [1, inf], got 0"]),
    ({"epochs": -1}, ValueError, ["epochs"]),
    ({"dropout": 1.0}, ValueError, ["dropout"]),
    ({"depth": 2.5}, TypeError, ["depth must be an integer"]),
    ({"batch_norm": "yes"}, TypeError, ["batch_norm must be True or False"]),
    ({"seed": []}, ValueError, ["axis 'seed' is empty"]),
    ({"seed": [1, 1]}, ValueError, ["same config"]),
])
def test_bad_grids_raise_before_any_trial_naming_the_valid_ones(axes, error, needles):
    with pytest.raises(error) as info:
        ex.Grid(**axes)
    for needle in needles:
        assert needle in str(info.value), str(info.value)


def test_an_empty_list_of_configs_is_an_empty_grid():
    with pytest.raises(ValueError, match="the grid is empty"):
        ex.run_grid([], executor=ex.SerialExecutor())


def test_initializer_grammar_draws_the_documented_distributions():
    from minigrad import random
    random.seed(0)
    n_in = 400
    w = make_initializer("scaled_normal:2.0")((n_in, 500))
    assert w.std() == pytest.approx(math.sqrt(2.0 / n_in), rel=0.01)
    w = make_initializer("scaled_uniform:3.0")((n_in, 500))
    limit = math.sqrt(3.0 / n_in)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.999 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.01)
    w = make_initializer("uniform:0.5")((n_in, 500))
    assert np.abs(w).max() <= 0.5 and w.var() == pytest.approx(0.25 / 3, rel=0.01)
    w = make_initializer("normal:0.2")((n_in, 500))
    assert w.std() == pytest.approx(0.2, rel=0.01)


# ---- one trial ------------------------------------------------------------------------------
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_epochs_0_measures_at_initialisation_against_a_numpy_forward():
    config = ex.Grid(depth=2, width=6, epochs=0, seed=5,
                     trace=["test_accuracy", "activation_mean", "activation_std",
                            "preactivation_percentiles"]).configs()[0]
    record = ex.run_trial(config)
    assert record["error"] is None and record["grad_final"] is None and record["history"] == {}
    assert list(record["grad_init"]) == ["hidden_1", "hidden_2", "output"]
    assert math.isnan(record["grad_init"]["output"]["saturation"])      # linear output
    # the same weights again, and an independent float64 forward
    from minigrad import random
    (xa, _), (xb, yb) = trial.load_data("digits")
    random.seed(5)
    model, _ = trial.build_model(config, 64, 10)
    (w1, b1), (w2, b2), (w3, b3) = [(layer.kernel.data.astype(np.float64),
                                     layer.bias.data.astype(np.float64))
                                    for layer in model.layers if hasattr(layer, "kernel")]
    x = xa[:512].astype(np.float64)
    h1 = _sigmoid(x @ w1 + b1)
    z2 = h1 @ w2 + b2
    t = record["trace"]
    assert t["step"] == [0]
    np.testing.assert_allclose(t["activation_mean"]["hidden_1"], [h1.mean()], rtol=1e-5)
    np.testing.assert_allclose(t["activation_std"]["hidden_2"], [_sigmoid(z2).std()], rtol=1e-5)
    np.testing.assert_allclose([t["p15"][0], t["p50"][0], t["p85"][0]],
                               np.percentile(z2[:, 0], [15, 50, 85]), rtol=1e-4, atol=1e-6)
    logits = _sigmoid(_sigmoid(xb @ w1 + b1) @ w2 + b2) @ w3 + b3
    expected = float(np.mean(np.argmax(logits, 1) == yb))
    assert t["test_accuracy"] == [pytest.approx(expected)]
    assert record["test_accuracy"] == pytest.approx(expected)


def test_a_trained_trial_records_history_trace_and_final_gradients():
    config = ex.Grid(depth=2, width=16, activation="relu", initializer="he_normal", epochs=2,
                     batch_size=50, trace=["test_accuracy", "activation_mean"],
                     trace_every=10, target=0.5, learning_rate=0.2).configs()[0]
    record = ex.run_trial(config)
    assert record["error"] is None and not record["diverged"]
    hist = record["history"]
    assert set(hist) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(hist["val_accuracy"]) == 2
    assert record["test_accuracy"] == pytest.approx(hist["val_accuracy"][-1])
    reached = next(i + 1 for i, a in enumerate(hist["val_accuracy"]) if a >= 0.5)
    assert record["epochs_to_target"] == reached
    steps = 2 * 1500 // 50
    assert record["trace"]["step"] == list(range(0, steps + 1, 10))
    assert len(record["trace"]["activation_mean"]["hidden_2"]) == len(record["trace"]["step"])
    assert record["trace"]["test_accuracy"][-1] == pytest.approx(record["test_accuracy"])
    assert list(record["grad_final"]) == ["hidden_1", "hidden_2", "output"]
    assert record["grad_final"] != record["grad_init"]


def test_every_config_key_builds_and_l2_adds_its_gradient():
    base = dict(depth=2, width=8, epochs=0, seed=3, dataset="moons", output="sigmoid",
                bias_initializer="normal:0.1", optimizer="adam", learning_rate=0.01)
    plain, penalised = ex.run_grid([dict(base), dict(base, l2=5.0)],
                                   executor=ex.SerialExecutor(), progress=False)
    assert plain["error"] is None and penalised["error"] is None
    # d/dW of l2*sum(W^2) is 2*l2*W: | |g_data + 2 l2 W| - |2 l2 W| | <= |g_data|
    from minigrad import random
    random.seed(3)
    model, _ = trial.build_model(penalised["config"], 2, 2)
    w_out = model.layers[-1].kernel.data.astype(np.float64)     # "output"
    g = penalised["grad_init"]["output"]["kernel_grad_norm"]
    g_data = plain["grad_init"]["output"]["kernel_grad_norm"]
    assert abs(g - 2 * 5.0 * np.linalg.norm(w_out)) <= g_data * (1 + 1e-5)
    assert g > 2 * g_data
    assert penalised["grad_init"]["output"]["saturation"] >= 0       # sigmoid output
    full = dict(depth=2, width=8, epochs=1, batch_norm=True, dropout=0.2, clipnorm=1.0,
                dataset="spirals", initializer="scaled_uniform:6", batch_size=100,
                trace=["activation_std", "preactivation_percentiles"], trace_every=5)
    record = ex.run_trial(ex.Grid(**full).configs()[0])
    assert record["error"] is None, record["error"]
    assert len(record["trace"]["p50"]) == len(record["trace"]["step"]) == 3


def test_a_trial_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    out = tmp_path / "r.jsonl"
    grid = [dict(TINY, dataset="mnist"), dict(TINY, dataset="digits")]
    results = ex.run_grid(grid, out=str(out), workers=2, progress=False)
    assert results[0]["error"].startswith("FileNotFoundError") and "mnist" in results[0]["error"]
    assert results[0]["grad_init"] is None
    assert results[1]["error"] is None and results[1]["grad_init"]
    assert [r["config"]["dataset"] for r in ex.load(out)] in (["mnist", "digits"],
                                                             ["digits", "mnist"])
    assert results.summary()[0]["failed"] == 1


# ---- executors: the records do not depend on where they ran ------------------------------------
def test_local_pool_and_threads_give_the_serial_records(tiny_grid, serial_records):
    pool = ex.run_grid(tiny_grid, workers=2, progress=False)
    assert _same(pool, serial_records)
    # four threads in one process: the per-process lock runs the trials one at a time
    with cf.ThreadPoolExecutor(max_workers=4) as threads:
        threaded = ex.run_grid(tiny_grid, executor=threads, progress=False)
    assert _same(threaded, serial_records)


def _kill_seed_1(config):
    """A trial whose worker process dies (run in the pool's worker)."""
    if config["seed"] == 1 and config["activation"] == "relu":
        os._exit(13)
    return trial.run_trial(config)


def test_a_trial_whose_worker_dies_is_rerun_once_then_recorded_failed(
        tiny_grid, serial_records, monkeypatch, tmp_path):
    monkeypatch.setattr(run_module, "run_trial", _kill_seed_1)
    results = ex.run_grid(tiny_grid, workers=2, progress=False)
    dead = [r for r in results if r["error"] is not None]
    assert [(r["config"]["activation"], r["config"]["seed"]) for r in dead] == [("relu", 1)]
    assert "worker process died running this trial (2 attempts)" in dead[0]["error"]
    alive = [r for r in results if r["error"] is None]
    assert _same(alive, [r for r in serial_records
                         if (r["config"]["activation"], r["config"]["seed"]) != ("relu", 1)])


class _DyingWorkers(cf.Executor):
    """Runs trials here, except that the worker "dies" (Dask's KilledWorker) the first
    ``deaths[seed]`` times a seed is submitted."""

    _max_workers = 2

    def __init__(self, deaths):
        self.deaths = dict(deaths)
        self.submitted = []

    def submit(self, fn, config):
        from distributed import KilledWorker
        self.submitted.append(config["seed"])
        future = cf.Future()
        if self.deaths.get(config["seed"], 0) > 0:
            self.deaths[config["seed"]] -= 1
            worker = types.SimpleNamespace(address="tcp://10.0.0.9:40000")
            future.set_exception(KilledWorker(f"trial-{config['seed']}", worker, 3))
        else:
            future.set_result(fn(config))
        return future


def test_a_trial_whose_dask_worker_dies_is_submitted_once_more_then_failed():
    pytest.importorskip("distributed")
    grid = ex.Grid(seed=[0, 1, 2], depth=2, width=4, epochs=0)
    executor = _DyingWorkers({1: 1, 2: 5})
    results = ex.run_grid(grid, executor=executor, progress=False)
    assert sorted(executor.submitted) == [0, 1, 1, 2, 2]
    assert results[0]["error"] is None and results[1]["error"] is None
    assert results[2]["error"].startswith("worker process died running this trial "
                                          "(2 attempts): KilledWorker")
    assert _same(results[:2], ex.run_grid(ex.Grid(seed=[0, 1], depth=2, width=4, epochs=0),
                                          executor=ex.SerialExecutor(), progress=False))


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_local_cluster_gives_the_serial_records(tiny_grid, serial_records, dask_client):
    assert len(dask_client.nthreads()) == 2
    assert _same(ex.run_grid(tiny_grid, executor=dask_client, progress=False), serial_records)
    executor = dask_client.get_executor(pure=False)
    assert _same(ex.run_grid(tiny_grid, executor=executor, progress=False), serial_records)


def test_a_dask_worker_killed_mid_sweep_does_not_lose_the_sweep(dask_client, tmp_path):
    grid = ex.Grid(activation=["sigmoid", "relu"], seed=range(4), depth=4, width=16,
                   epochs=2, batch_size=32)
    out = tmp_path / "r.jsonl"
    found = {}

    def sweep():
        found["results"] = ex.run_grid(grid, executor=dask_client, out=str(out),
                                       progress=False)

    runner = threading.Thread(target=sweep)
    runner.start()
    deadline = time.monotonic() + 120
    while (not out.exists() or not out.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    pids = dask_client.run(os.getpid)
    victim = min(pids.values())
    os.kill(victim, signal.SIGKILL)
    runner.join(timeout=300)
    assert not runner.is_alive()
    results = found["results"]
    assert len(results) == 8 and all(r["error"] is None for r in results), [
        r["error"] for r in results]
    assert victim not in dask_client.run(os.getpid).values()        # it really died
    assert len(ex.load(out)) == 8
    assert _same(results, ex.run_grid(grid, executor=ex.SerialExecutor(), progress=False))


# ---- streaming and resume -------------------------------------------------------------------
GRID_TOML = """
depth = 4
width = 16
epochs = 2
batch_size = 32
activation = ["sigmoid", "relu"]
seed = [0, 1, 2, 3, 4]
"""


def test_resume_after_a_sweep_killed_with_sigkill_completes_without_duplicates(tmp_path):
    grid_file, out = tmp_path / "grid.toml", tmp_path / "r.jsonl"
    grid_file.write_text(GRID_TOML)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "minigrad", "sweep", str(grid_file),
                             "--workers", "2", "--out", str(out), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)        # the sweep and its worker processes
    proc.wait()
    written = out.read_bytes().count(b"\n")
    assert 2 <= written < 10, written          # killed mid-sweep
    from minigrad.experiments.cli import read_grid
    grid = read_grid(grid_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # the kill may have cut a line in half
        results = ex.run_grid(grid, out=str(out), resume=True, workers=2, progress=False)
    lines = out.read_text().splitlines()
    keys = [json.dumps(json.loads(line)["config"], sort_keys=True) for line in lines]
    assert len(lines) == 10 and len(set(keys)) == 10
    assert _same(results, ex.run_grid(grid, executor=ex.SerialExecutor(), progress=False))


def _two_records(tmp_path, tiny_grid, serial_records):
    out = tmp_path / "r.jsonl"
    ex.Results(serial_records[:2]).save(out)
    return out


def test_resume_drops_an_incomplete_last_line_with_a_warning(tmp_path, tiny_grid,
                                                             serial_records):
    out = _two_records(tmp_path, tiny_grid, serial_records)
    third = json.dumps(serial_records[2])
    with open(out, "a") as f:
        f.write(third[: len(third) // 2])
    with pytest.warns(UserWarning, match="line 3 is incomplete"):
        results = ex.run_grid(tiny_grid, out=str(out), resume=True,
                              executor=ex.SerialExecutor(), progress=False)
    assert _same(results, serial_records)
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line) for line in lines)


def test_resume_refuses_a_damaged_file_or_another_grid(tmp_path, tiny_grid, serial_records):
    out = _two_records(tmp_path, tiny_grid, serial_records)
    text = out.read_text().splitlines()
    out.write_text(text[0] + "\n" + "{not json\n" + text[1] + "\n")
    with pytest.raises(ValueError, match="line 2 is damaged"):
        ex.run_grid(tiny_grid, out=str(out), resume=True, executor=ex.SerialExecutor())
    other = ex.Grid(activation=["tanh"], seed=[0], **TINY)
    out = _two_records(tmp_path, tiny_grid, serial_records)
    before = out.read_bytes()
    with pytest.raises(ValueError, match="line 1 was written for another grid"):
        ex.run_grid(other, out=str(out), resume=True, executor=ex.SerialExecutor())
    assert out.read_bytes() == before
    with pytest.raises(FileExistsError, match="resume=True"):
        ex.run_grid(tiny_grid, out=str(out), executor=ex.SerialExecutor())
    with pytest.raises(ValueError, match="resume=True needs out="):
        ex.run_grid(tiny_grid, resume=True)
    with pytest.raises(TypeError, match="executor must be"):
        ex.run_grid(tiny_grid, executor="dask")
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        ex.run_grid(tiny_grid, workers=0)


def test_progress_bar_counts_done_running_failed_with_an_eta():
    import io
    stream = io.StringIO()
    bar = run_module.Progress(4, already=1, stream=stream)
    bar.update(2)
    bar.update(1, failed=True)
    bar.update(0, failed=False)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "trials 1/4 done, 0 running, 0 failed, ETA -"
    assert lines[1].startswith("trials 2/4 done, 1 running, 1 failed, ETA ")
    assert lines[-1].startswith("trials 3/4 done, 0 running, 1 failed, ETA ")


# ---- results ----------------------------------------------------------------------------------
def test_summary_of_ten_seeds_of_sigmoid_glorot_is_finite_and_narrow():
    grid = ex.Grid(activation="sigmoid", initializer="glorot_uniform", seed=range(10),
                   epochs=0)
    results = ex.run_grid(grid, workers=2, progress=False)
    (row,) = results.summary()
    assert row["seeds"] == 10 and row["failed"] == 0
    ratios = [math.log10(r["grad_init"]["hidden_1"]["kernel_grad_norm"]
                         / r["grad_init"]["output"]["kernel_grad_norm"]) for r in results]
    assert row["median"] == pytest.approx(np.median(ratios))
    assert (row["p10"], row["p90"]) == pytest.approx(tuple(np.percentile(ratios, [10, 90])))
    assert math.isfinite(row["p10"]) and math.isfinite(row["p90"])
    assert row["p90"] - row["p10"] < 0.5
    assert row["median"] < -1          # ten sigmoid layers: the first learns > 10x slower


def test_summary_groups_by_the_varying_keys_and_prints_a_table(serial_records):
    summary = serial_records.summary()
    assert [row["case"] for row in summary] == ["activation=sigmoid", "activation=relu"]
    assert all(row["seeds"] == 2 for row in summary)
    table = str(summary)
    assert "activation=relu" in table and "10%" in table and "epochs to 0.80" in table
    by_seed = serial_records.summary(by="seed", metric="test_accuracy")
    accs = [r["test_accuracy"] for r in serial_records if r["config"]["seed"] == 0]
    assert by_seed[0]["case"] == "seed=0"
    assert by_seed[0]["median"] == pytest.approx(np.median(accs))
    with pytest.raises(ValueError, match="unknown metric"):
        serial_records.summary(metric="loss")
    with pytest.raises(ValueError, match="unknown config key"):
        serial_records.summary(by="colour")


def test_save_load_to_frame_and_plot(serial_records, tmp_path):
    path = serial_records.save(tmp_path / "r.jsonl")
    assert _same(ex.load(path), serial_records)
    (tmp_path / "bad.jsonl").write_text(json.dumps(serial_records[0]) + "\n[1, 2\n")
    with pytest.raises(ValueError, match="line 2 is damaged"):
        ex.load(tmp_path / "bad.jsonl")
    pd = pytest.importorskip("pandas")
    frame = serial_records.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 4
    assert {"activation", "seed", "log10_ratio_init", "test_accuracy"} <= set(frame.columns)
    matplotlib = pytest.importorskip("matplotlib")
    fig = serial_records.plot()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    bands = [c for c in ax.collections if isinstance(c, matplotlib.collections.PolyCollection)]
    assert len(bands) == 2                  # one seed band per case
    sig = [r for r in serial_records if r["config"]["activation"] == "sigmoid"]
    med = np.median([[v["kernel_grad_norm"] for v in r["grad_init"].values()] for r in sig], 0)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), med)
    png = serial_records.plot(str(tmp_path / "p.png"), when="final")
    assert Path(png).read_bytes()[:4] == b"\x89PNG"


def test_band_draws_the_median_and_the_10_90_range_and_skips_what_log_cannot_show():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from minigrad.experiments.plot import band
    fig, ax = plt.subplots()
    values = np.array([[1.0, 4.0, -1.0], [2.0, np.inf, 0.0], [3.0, 6.0, np.nan],
                       [9.0, 5.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the all-gap third column warns nothing
        line = band(ax, np.arange(1, 4), values, "case", "C0", 0, log=True)
    med = line.get_ydata()
    np.testing.assert_allclose(med[:2], [np.median([1, 2, 3, 9]), np.median([4, 6, 5])])
    assert np.isnan(med[2]) and line.get_label() == "case (4 seeds)"
    (poly,) = ax.collections
    lo_hi = np.percentile([1, 2, 3, 9], [10, 90])
    ys = poly.get_paths()[0].vertices[:, 1]
    assert np.isclose(ys, lo_hi[0]).any() and np.isclose(ys, lo_hi[1]).any()
    one = band(ax, [1, 2], [[1.0, 2.0]], "single", "C1", 1)
    assert one.get_label() == "single (1 seed)" and len(ax.collections) == 1   # no band
    assert band(ax, [1, 2], [[0.0, -2.0]], "none", "C2", 2, log=True) is None
    assert band(ax, [1, 2], np.zeros((0, 2)), "empty", "C3", 3) is None
    assert len(ax.get_lines()) == 2
    plt.close(fig)


def test_residual_gradients_match_a_numpy_backward_pass():
    """h1 = s(x W1 + b1); h2 = h1 + s(h1 W2 + b2); logits = h2 W3 + b3; mean cross-entropy:
    the recorded kernel gradient norms against a float64 backward pass written out by hand."""
    config = ex.Grid(depth=2, width=6, residual=True, epochs=0, seed=2,
                     trace=["activation_mean"]).configs()[0]
    record = ex.run_trial(config)
    assert record["error"] is None, record["error"]
    from minigrad import random
    random.seed(2)
    model, _ = trial.build_model(config, 64, 10)
    (w1, b1), (w2, b2), (w3, b3) = [(layer.kernel.data.astype(np.float64),
                                     layer.bias.data.astype(np.float64))
                                    for name in ("hidden_1", "hidden_2", "output")
                                    for layer in model.layers if layer.name == name]
    (xa, ya), _ = trial.load_data("digits")
    x, y = xa[:512].astype(np.float64), ya[:512]
    h1 = _sigmoid(x @ w1 + b1)
    a2 = _sigmoid(h1 @ w2 + b2)
    h2 = h1 + a2
    logits = h2 @ w3 + b3
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dlogits = (p - np.eye(10)[y]) / len(x)
    dh2 = dlogits @ w3.T
    dz2 = dh2 * a2 * (1 - a2)
    dh1 = dh2 + dz2 @ w2.T                      # the skip carries dh2 straight through
    dz1 = dh1 * h1 * (1 - h1)
    want = [np.linalg.norm(x.T @ dz1), np.linalg.norm(h1.T @ dz2), np.linalg.norm(h2.T @ dlogits)]
    got = [record["grad_init"][n]["kernel_grad_norm"] for n in ("hidden_1", "hidden_2", "output")]
    np.testing.assert_allclose(got, want, rtol=1e-4)
    np.testing.assert_allclose(record["trace"]["activation_mean"]["hidden_2"], [a2.mean()],
                               rtol=1e-5)


def test_skips_keep_a_deep_sigmoid_nets_first_layer_learning():
    grid = ex.Grid(depth=10, residual=[False, True], seed=range(3), epochs=0)
    results = ex.run_grid(grid, workers=2, progress=False)
    by_case = {row["case"]: row for row in results.summary()}
    # ten sigmoid layers lose five decades; with skips the first layer loses little
    assert by_case["residual=False"]["median"] < -5
    assert by_case["residual=True"]["median"] - by_case["residual=False"]["median"] > 4

    def hidden_ratio(record):
        rows = record["grad_init"]
        return math.log10(rows["hidden_1"]["kernel_grad_norm"]
                          / rows["hidden_10"]["kernel_grad_norm"])
    by_case = {row["case"]: row for row in results.summary(metric=hidden_ratio)}
    assert by_case["residual=True"]["median"] > -1.0


@pytest.mark.skipif(not lecture.installed(),
                    reason="Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
def test_a_trial_on_the_system_fashion_mnist():
    """dataset="fashion_mnist" (API §11) reads the system copy: 784 inputs, 10 classes."""
    record = ex.run_trial(ex.Grid(dataset="fashion_mnist", depth=2, width=16, epochs=0,
                                  seed=0).configs()[0])
    assert record["error"] is None, record["error"]
    assert list(record["grad_init"]) == ["hidden_1", "hidden_2", "output"]
    assert all(math.isfinite(m["kernel_grad_norm"]) for m in record["grad_init"].values())
    assert record["history"] == {} or all(v == [] for v in record["history"].values())


@pytest.mark.parametrize("first, last, expected", [
    (1e-6, 1.0, -6.0),                  # vanishing towards the input: negative decades
    (100.0, 1.0, 2.0),
    (0.0, 1.0, -math.inf), (1.0, 0.0, math.inf),
    (math.inf, 1.0, math.inf), (1.0, math.inf, -math.inf),
    (math.inf, math.inf, math.nan),     # an exploded net: no ratio, never 0 decades
    (math.nan, 1.0, math.nan), (2.0, 2.0, 0.0),
])
def test_log10_ratio_of_first_and_last_layer(first, last, expected):
    from minigrad.experiments.results import log10_ratio
    rows = {"hidden_1": {"kernel_grad_norm": first}, "hidden_2": {"kernel_grad_norm": 0.5},
            "output": {"kernel_grad_norm": last}}
    got = log10_ratio(rows)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)
