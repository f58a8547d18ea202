"""TensorBoard callback and write_trial (minigrad/callbacks/tensorboard.py): event files
written by short fits are read back with TensorBoard's own reader (event_accumulator) and
compared with History, a GradientMonitor on the same run, the weights, and tensorboard's own
histogram_pb. The tensorboard extra is part of ``dev``: without it this module fails to
import; it never skips."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from callback_fakes import real_model
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.histogram.summary_v2 import histogram_pb
from tensorboard.util import tensor_util

import minigrad as mg
from minigrad.callbacks import Callback, GradientMonitor, LambdaCallback, TensorBoard
from minigrad.callbacks import tensorboard as tbm
from minigrad.probe import probe_listeners

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_run(path):
    """{tag: [(step, ndarray), ...]} of every tensor summary in the run ``path``, and the
    accumulator (for plugin metadata)."""
    acc = event_accumulator.EventAccumulator(os.fspath(path), size_guidance={"tensors": 0})
    acc.Reload()
    out = {tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
           for tag in acc.Tags()["tensors"]}
    return out, acc


def scalars(run, tag):
    return [(step, float(v)) for step, v in run[tag]]


class WeightsAtEpochEnd(Callback):
    def __init__(self):
        super().__init__()
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots.append({f"{layer.name}/{w.name.rsplit('/', 1)[-1]}": w.data.copy()
                               for layer in self.model.layers for w in layer.weights})


def test_epoch_scalars_histograms_and_gradients_match_their_sources(tmp_path):
    model, x, y = real_model()
    monitor = GradientMonitor(every=2)
    weights = WeightsAtEpochEnd()
    grads = []   # the kernel gradients at each monitor record, read when it is taken
    grab = LambdaCallback(on_train_batch_end=lambda batch, logs: grads.append(
        {lay.name: lay.kernel.grad.copy() for lay in model.layers}))
    tb = TensorBoard(tmp_path / "logs", histogram_freq=2, gradient_freq=2)
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[monitor, weights, grab, tb])
    train, acc = read_run(tmp_path / "logs" / "train")
    val, _ = read_run(tmp_path / "logs" / "validation")
    h = history.history
    # epoch scalars: History's values (as float32), at steps 0..3; val_ without the prefix
    for key in ("loss", "accuracy"):
        assert scalars(train, f"epoch_{key}") == [(e, float(np.float32(v)))
                                                   for e, v in enumerate(h[key])]
        assert scalars(val, f"epoch_{key}") == [(e, float(np.float32(v)))
                                                 for e, v in enumerate(h["val_" + key])]
    assert scalars(train, "epoch_learning_rate") == [(e, float(np.float32(0.1)))
                                                      for e in range(4)]
    assert not any(t.startswith("val_") or t.startswith("batch_") for t in train)
    # weight histograms at epochs 0 and 2: every weight counted, tensorboard's own buckets
    hist_tags = {f"{layer.name}/{w}" for layer in model.layers for w in ("kernel", "bias")}
    assert hist_tags <= set(train)
    for tag in hist_tags:
        assert [s for s, _ in train[tag]] == [0, 2]
        for step, buckets in train[tag]:
            w = weights.snapshots[step][tag]
            assert buckets[:, 2].sum() == w.size
            expected = tensor_util.make_ndarray(histogram_pb(tag, w).value[0].tensor)
            np.testing.assert_allclose(buckets, expected, rtol=1e-12, atol=1e-15)
    kernel_tag = f"{model.layers[0].name}/kernel"
    assert acc.summary_metadata[kernel_tag].plugin_data.plugin_name == "histograms"
    assert acc.summary_metadata["epoch_loss"].plugin_data.plugin_name == "scalars"
    # gradient scalars: the monitor's records on the same run, at its step numbers
    steps = monitor.steps
    assert steps[:3] == [0, 2, 4] and len(steps) == 12   # 6 batches x 4 epochs, every 2nd
    for layer, series in monitor.history.items():
        for metric, values in series.items():
            got = scalars(train, f"gradients/{layer}/{metric}")
            want = [(s, float(np.float32(v))) for s, v in zip(steps, values)]
            assert [s for s, _ in got] == steps
            np.testing.assert_array_equal([v for _, v in got], [v for _, v in want])
        # gradient histograms of the kernel, one per record, every element counted
        recorded = [grads[s] for s in steps]   # batch k of the fit is optimizer step k
        for (_step, buckets), g in zip(train[f"gradients/{layer}/kernel"], recorded):
            assert buckets[:, 2].sum() == g[layer].size
            assert buckets[0, 0] == g[layer].min() and buckets[-1, 1] == g[layer].max()


def test_batch_scalars_with_update_freq(tmp_path):
    model, x, y = real_model()
    losses = []
    record = LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    model.fit(x, y, epochs=2, batch_size=40, verbose=0,
              callbacks=[record, TensorBoard(tmp_path, update_freq=2)])
    train, _ = read_run(tmp_path / "train")
    # the global batch count 1..6; every 2nd is written (Keras: step % update_freq == 0)
    assert scalars(train, "batch_loss") == [(k, float(np.float32(losses[k - 1])))
                                            for k in (2, 4, 6)]
    assert [s for s, _ in train["batch_accuracy"]] == [2, 4, 6]
    model.fit(x, y, epochs=1, batch_size=40, verbose=0,
              callbacks=[TensorBoard(tmp_path / "b", update_freq="batch")])
    train_b, _ = read_run(tmp_path / "b" / "train")
    assert [s for s, _ in train_b["batch_loss"]] == [1, 2, 3]


def test_evaluation_vs_iterations_in_the_validation_run(tmp_path):
    model, x, y = real_model()
    history = model.fit(x, y, epochs=2, batch_size=30, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(tmp_path)])
    val, _ = read_run(tmp_path / "validation")
    # Keras: evaluation_<key>_vs_iterations at the optimizer's step after each validation
    assert scalars(val, "evaluation_loss_vs_iterations") == [
        (3, float(np.float32(history.history["val_loss"][0]))),
        (6, float(np.float32(history.history["val_loss"][1])))]


def test_non_finite_values_are_logged_as_such(tmp_path):
    writer = tbm.RunWriter(tmp_path / "run")
    values = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 3.0])
    writer.write(5, {"a": math.nan, "b": math.inf, "c": -math.inf}, {"h": values})
    writer.close()
    run, _ = read_run(tmp_path / "run")
    assert math.isnan(scalars(run, "a")[0][1])
    assert scalars(run, "b") == [(5, math.inf)] and scalars(run, "c") == [(5, -math.inf)]
    (step, buckets), = run["h"]
    assert step == 5 and buckets[:, 2].sum() == 3 and buckets[0, 0] == 1.0
    assert buckets[-1, 1] == 3.0
    assert scalars(run, "h/nonfinite") == [(5, 3.0)]


def test_histogram_buckets_follow_tensorboards_rule():
    rng = np.random.default_rng(0)
    for data in (rng.normal(size=1000), np.arange(7.0), np.full(5, 2.5), np.zeros(0)):
        got, nonfinite = tbm.histogram_buckets(data)
        want = tensor_util.make_ndarray(histogram_pb("t", data).value[0].tensor)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        assert nonfinite == 0


def test_diverging_fit_logs_nan_without_crashing(tmp_path):
    model, x, y = real_model()
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=1e30), loss="mse")
    with np.errstate(all="ignore"):
        history = model.fit(x, np.eye(3, dtype=np.float32)[y], epochs=2, batch_size=40,
                            verbose=0, callbacks=[TensorBoard(tmp_path, histogram_freq=1,
                                                              gradient_freq=1)])
    train, _ = read_run(tmp_path / "train")
    logged = [v for _, v in scalars(train, "epoch_loss")]
    assert len(logged) == 2 and not math.isfinite(logged[-1])
    assert not math.isfinite(history.history["loss"][-1])
    assert any(t.endswith("/nonfinite") for t in train)


def test_interrupted_fit_leaves_a_flushed_readable_file(tmp_path):
    model, x, y = real_model()

    def stop(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    tb = TensorBoard(tmp_path, gradient_freq=1)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, batch_size=40, verbose=0,
                  callbacks=[tb, LambdaCallback(on_epoch_begin=stop)])
    train, _ = read_run(tmp_path / "train")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]
    first = model.layers[0].name
    assert [s for s, _ in train[f"gradients/{first}/kernel_grad_norm"]] == list(range(6))
    assert not probe_listeners()   # the internal monitor let go of the probes


def test_unwritable_log_dir_fails_before_training(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    model, x, y = real_model()
    before = model.get_weights()
    with pytest.raises(OSError, match="TensorBoard: cannot create log_dir"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(blocker / "logs")])
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, error", [
    ({"histogram_freq": -1}, ValueError), ({"gradient_freq": 1.5}, TypeError),
    ({"update_freq": "often"}, ValueError), ({"update_freq": 0}, ValueError),
    ({"write_graph": "yes"}, TypeError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match="TensorBoard"):
        TensorBoard(**kwargs)


def test_missing_extra_names_the_install_command(monkeypatch):
    for name in list(sys.modules):
        if name == "tensorboard" or name.startswith("tensorboard."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r'pip install "minigrad\[tensorboard\]"'):
        TensorBoard("logs")


def test_import_minigrad_never_imports_tensorboard():
    code = ("import sys, minigrad, minigrad.callbacks, minigrad.callbacks.tensorboard; "
            "minigrad.callbacks.TensorBoard; assert 'tensorboard' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_write_graph_writes_the_model_config(tmp_path):
    model, x, y = real_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path, write_graph=True)])
    train, acc = read_run(tmp_path / "train")
    assert acc.summary_metadata["keras"].plugin_data.plugin_name == "graph_keras_model"
    (step, text), = train["keras"]
    assert step == 0 and b'"class_name": "Sequential"' in text.item()


def test_write_trial_writes_one_run_per_record(tmp_path):
    record = {"history": {"loss": [1.0, 0.5, 0.25], "val_accuracy": [0.3, 0.6, math.nan]},
              "grad_init": {"dense": {"kernel_grad_norm": 0.5, "delta_norm": 2.0}},
              "grad_final": {"dense": {"kernel_grad_norm": 0.125, "delta_norm": math.inf}}}
    path = tbm.write_trial(tmp_path, "relu-he_normal-seed0", record)
    assert path == os.path.join(tmp_path, "relu-he_normal-seed0")
    run, _ = read_run(path)
    assert scalars(run, "epoch_loss") == [(0, 1.0), (1, 0.5), (2, 0.25)]
    acc = scalars(run, "epoch_val_accuracy")
    assert acc[:2] == [(0, float(np.float32(0.3))), (1, float(np.float32(0.6)))]
    assert math.isnan(acc[2][1])
    assert scalars(run, "gradients/dense/kernel_grad_norm") == [(0, 0.5), (3, 0.125)]
    assert scalars(run, "gradients/dense/delta_norm") == [(0, 2.0), (3, math.inf)]


def test_standalone_evaluate_is_flushed(tmp_path):
    model, x, y = real_model()
    model.fit(x, y, epochs=1, batch_size=40, verbose=0)
    loss = model.evaluate(x, y, verbose=0, callbacks=[TensorBoard(tmp_path)])[0]
    val, _ = read_run(tmp_path / "validation")
    assert scalars(val, "evaluation_loss_vs_iterations") == [(3, float(np.float32(loss)))]


def test_fast_checksum_equals_tensorboards_own():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 64, 1000, 12_700):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert tbm._masked_crc32c_fast(data) == masked_crc32c(data)
    tbm._tb()
    from tensorboard.summary.writer import record_writer
    assert record_writer.masked_crc32c is tbm._masked_crc32c_fast
