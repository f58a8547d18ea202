"""save / load_model / save_weights / load_weights: one zip of JSON + .npy, never pickle,
written atomically, checked before anything is built."""
import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from minigrad.datasets import digits
from minigrad.models import Sequential, load_model, saving

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    (x, y), _ = digits.load_data()
    return x[:256].reshape(256, -1), y[:256]


def build(seed=0, activation="relu"):
    mg.random.seed(seed)
    model = Sequential([
        layers.Dense(32, activation=activation, input_shape=(64,),
                     kernel_regularizer=mg.regularizers.l2(1e-3)),
        layers.BatchNormalization(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=mg.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


def test_round_trip_predicts_identically_and_continues_bit_identically(tmp_path, data):
    x, y = data
    model = build()
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "model.anything"
    model.save(path)
    loaded = load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert_same_weights(model, loaded)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 16
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    mg.random.seed(123)
    h1 = model.fit(x, y, epochs=2, verbose=0).history
    mg.random.seed(123)
    h2 = loaded.fit(x, y, epochs=2, verbose=0).history
    assert h1 == h2
    assert_same_weights(model, loaded)


def test_file_is_a_zip_of_json_and_plain_npy(tmp_path, data):
    x, y = data
    model = build()
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    path = tmp_path / "m"            # no extension at all
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("model.json"))
        npys = [n for n in zf.namelist() if n.endswith(".npy")]
        arrays = [np.load(io.BytesIO(zf.read(n)), allow_pickle=False) for n in npys]
    assert doc["format_version"] == 1
    assert doc["compile"]["loss"] == "sparse_categorical_crossentropy"
    assert doc["compile"]["metrics"] == ["accuracy"]
    assert [s["shape"] for s in doc["weights"]] == [list(w.shape) for w in model.weights]
    assert len(npys) == len(model.weights) + doc["optimizer_state"]
    assert doc["optimizer_state"] == len(model.optimizer.variables)
    assert all(a.dtype != object for a in arrays)


def test_compile_config_keeps_loss_weights_and_weighted_metrics(tmp_path):
    """loss_weights and weighted_metrics (per output, a custom metric by its config) are in
    the saved compile config; the loaded model logs the same keys and, with sample weights,
    the same values, and trains on identically."""
    mg.random.seed(0)
    inp = mg.Input((4,), name="x")
    model = mg.Model(inp, [layers.Dense(2, name="a")(inp),
                           layers.Dense(3, activation="softmax", name="b")(inp)])
    model.compile(optimizer=mg.optimizers.SGD(0.1),
                  loss={"a": "mse", "b": "sparse_categorical_crossentropy"},
                  loss_weights={"a": 0.25, "b": 2.0}, metrics={"a": ["mae"]},
                  weighted_metrics=[[mg.metrics.MeanSquaredError(name="wmse")], ["accuracy"]])
    rng = np.random.default_rng(0)
    x, ya, yb = rng.normal(size=(16, 4)), rng.normal(size=(16, 2)), rng.integers(0, 3, 16)
    w = rng.uniform(0.1, 2.0, 16)
    model.fit(x, [ya, yb], sample_weight=w, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "two.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        cfg = json.loads(zf.read("model.json"))["compile"]
    assert cfg["loss_weights"] == {"a": 0.25, "b": 2.0}
    assert cfg["weighted_metrics"][1] == ["accuracy"]
    assert cfg["weighted_metrics"][0][0]["config"]["name"] == "wmse"
    loaded = load_model(path)
    assert loaded.loss_weights == {"a": 0.25, "b": 2.0}
    assert loaded.metrics_names == model.metrics_names == \
        ["loss", "a_loss", "b_loss", "a_mae", "a_wmse", "b_accuracy"]
    want = model.evaluate(x, [ya, yb], sample_weight=w, verbose=0, return_dict=True)
    got = loaded.evaluate(x, [ya, yb], sample_weight=w, verbose=0, return_dict=True)
    assert got == want
    mg.random.seed(5)
    a = model.fit(x, [ya, yb], sample_weight=w, epochs=1, verbose=0).history
    mg.random.seed(5)
    b = loaded.fit(x, [ya, yb], sample_weight=w, epochs=1, verbose=0).history
    assert a == b


def test_frozen_layer_stays_frozen_and_training_continues_identically(tmp_path, data):
    x, y = data
    model = build()
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "frozen")
    loaded = load_model(tmp_path / "frozen")
    assert loaded.layers[0].trainable is False
    assert [w.name for w in loaded.trainable_weights] == [w.name for w in model.trainable_weights]
    frozen = loaded.layers[0].kernel.data.copy()
    mg.random.seed(4)
    model.fit(x, y, epochs=1, verbose=0)
    mg.random.seed(4)
    loaded.fit(x, y, epochs=1, verbose=0)
    assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.layers[0].kernel.data, frozen)


def test_get_config_from_config_rebuilds_the_architecture():
    model = build()
    clone = Sequential.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not clone.compiled


def test_load_without_compile_gives_an_uncompiled_model(tmp_path, data):
    x, _ = data
    model = build()
    model.save(tmp_path / "m.mg")
    loaded = load_model(tmp_path / "m.mg", compile=False)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    with pytest.raises(RuntimeError, match="compile"):
        loaded.fit(x, np.zeros(len(x), int), verbose=0)


def test_unfitted_model_round_trip_has_no_optimizer_state(tmp_path, data):
    x, y = data
    model = build()
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.optimizer.iterations == 0
    mg.random.seed(1)
    h1 = model.fit(x, y, epochs=1, verbose=0).history
    mg.random.seed(1)
    h2 = loaded.fit(x, y, epochs=1, verbose=0).history
    assert h1 == h2


def test_save_weights_load_weights(tmp_path, data):
    x, y = data
    model = build(seed=1)
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.bin")
    other = build(seed=2)
    assert not np.array_equal(other.get_weights()[0], model.get_weights()[0])
    other.load_weights(tmp_path / "w.bin")
    assert_same_weights(model, other)
    mg.random.seed(3)
    wrong = Sequential([layers.Dense(16, input_shape=(64,)), layers.Dense(10)])
    with pytest.raises(ValueError, match="holds 8 weights .* has 4"):
        wrong.load_weights(tmp_path / "w.bin")
    wrong = Sequential([layers.Dense(32, input_shape=(64,)), layers.BatchNormalization(),
                        layers.Dense(9)])                 # 8 weights, the last two differ
    before = wrong.get_weights()
    with pytest.raises(ValueError, match=r"shape \(32, 10\), but the model's .*\(32, 9\)"):
        wrong.load_weights(tmp_path / "w.bin")
    assert all(np.array_equal(a, b) for a, b in zip(before, wrong.get_weights()))
    with pytest.raises(ValueError, match="load_weights"):
        load_model(tmp_path / "w.bin")


def my_swish(x):
    return x * x.sigmoid()


def test_custom_activation_saved_by_name_and_resolved_through_custom_objects(tmp_path, data):
    x, _ = data
    model = build(activation=my_swish)
    model.save(tmp_path / "custom")
    with pytest.raises(ValueError, match="my_swish"):
        load_model(tmp_path / "custom")
    loaded = load_model(tmp_path / "custom", custom_objects={"my_swish": my_swish})
    assert loaded.layers[0].activation is my_swish
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def my_loss(y_true, y_pred):
    return mg.losses.mean_squared_error(y_true, y_pred)


def test_custom_loss_function_saved_by_name(tmp_path):
    mg.random.seed(0)
    model = Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss=my_loss)
    model.save(tmp_path / "m")
    with pytest.raises(ValueError, match="my_loss"):
        load_model(tmp_path / "m")
    loaded = load_model(tmp_path / "m", custom_objects={"my_loss": my_loss})
    assert loaded.loss is my_loss
    assert load_model(tmp_path / "m", compile=False).compiled is False


def test_lambda_raises_at_save_time_and_leaves_no_file(tmp_path):
    model = build(activation=lambda t: t.relu())
    with pytest.raises(ValueError, match="lambda"):
        model.save(tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        Sequential([layers.Dense(3)]).save(tmp_path / "m")


# ---- hostile and damaged files -----------------------------------------------------------------
def test_truncated_file_is_refused(tmp_path):
    build().save(tmp_path / "m")
    blob = (tmp_path / "m").read_bytes()
    for cut in (len(blob) // 2, len(blob) - 10, 100):
        (tmp_path / "t").write_bytes(blob[:cut])
        with pytest.raises(ValueError, match="truncated|damaged"):
            load_model(tmp_path / "t")


def test_foreign_files_are_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("hello.txt", "not a model")
    with pytest.raises(ValueError, match="not a minigrad file"):
        load_model(tmp_path / "other.zip")
    with zipfile.ZipFile(tmp_path / "json.zip", "w") as zf:
        zf.writestr("model.json", json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a minigrad file"):
        load_model(tmp_path / "json.zip")
    (tmp_path / "text").write_text("just text")
    with pytest.raises(ValueError, match="not a zip archive"):
        load_model(tmp_path / "text")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent")


def rewrite_member(src, dst, name, data):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            zout.writestr(item, data if item == name else zin.read(item))


def test_newer_format_version_is_refused(tmp_path):
    build().save(tmp_path / "m")
    with zipfile.ZipFile(tmp_path / "m") as zf:
        doc = json.loads(zf.read("model.json"))
    doc["format_version"] = 99
    rewrite_member(tmp_path / "m", tmp_path / "new", "model.json", json.dumps(doc))
    with pytest.raises(ValueError, match="newer minigrad"):
        load_model(tmp_path / "new")


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appears iff pickle ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_is_refused_without_running_it(tmp_path):
    build().save(tmp_path / "m")
    marker = tmp_path / "pwned"
    evil = io.BytesIO()
    np.save(evil, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True)
    rewrite_member(tmp_path / "m", tmp_path / "evil", "weights/00000.npy", evil.getvalue())
    with pytest.raises(ValueError, match="pickle"):
        load_model(tmp_path / "evil")
    with pytest.raises(ValueError, match="pickle"):
        build().load_weights(tmp_path / "evil")
    assert not marker.exists()
    # the payload is real: unpickling it does create the marker
    np.load(io.BytesIO(evil.getvalue()), allow_pickle=True)
    assert marker.exists()


_KILLED_SAVE = textwrap.dedent("""
    import sys, time
    import numpy as np
    sys.path.insert(0, {repo!r})
    import minigrad as mg
    from minigrad import layers

    mg.random.seed(9)
    model = mg.models.Sequential([layers.Dense(64, input_shape=(64,)), layers.Dense(10)])
    real_save, count = np.save, [0]

    def slow_save(*args, **kwargs):
        real_save(*args, **kwargs)
        count[0] += 1
        if count[0] == 2:           # midway: some arrays written, the zip not finished
            print("midway", flush=True)
            time.sleep(60)

    np.save = slow_save
    model.save({path!r})
""")


def test_save_killed_midway_leaves_previous_file_loadable(tmp_path, data):
    x, _ = data
    path = tmp_path / "model.mg"
    model = build()
    model.save(path)
    before = path.read_bytes()
    script = _KILLED_SAVE.format(repo=str(REPO), path=str(path))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "midway"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    loaded = load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_corrupted_member_is_refused(tmp_path):
    build().save(tmp_path / "m")
    blob = bytearray((tmp_path / "m").read_bytes())
    with zipfile.ZipFile(tmp_path / "m") as zf:
        info = zf.getinfo("weights/00000.npy")
    at = info.header_offset + 30 + len(info.filename) + 200   # inside the array's bytes
    blob[at] ^= 0xFF
    (tmp_path / "bad").write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="damaged"):
        load_model(tmp_path / "bad")


def test_unserialisable_model_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "m"
    build().save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="lambda"):
        build(activation=lambda t: t.relu()).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m"]


def test_save_failing_midway_keeps_the_previous_file_and_removes_the_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / "m"
    build(seed=0).save(path)
    before = path.read_bytes()
    real_save, calls = np.save, []

    def save_then_fail(*args, **kwargs):
        calls.append(args[1].shape)
        if len(calls) == 2:          # the temporary file exists and holds one array by now
            assert len(os.listdir(tmp_path)) == 2
            raise OSError(28, "No space left on device")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(saving.np, "save", save_then_fail)
    with pytest.raises(OSError, match="No space left"):
        build(seed=1).save(path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m"]


def test_save_fsyncs_the_file_before_the_rename_and_the_directory_after(tmp_path, monkeypatch):
    path = tmp_path / "m"
    build(seed=0).save(path)                      # a previous file, to be replaced
    old_inode = path.stat().st_ino
    real_fsync, synced = os.fsync, []

    def recording_fsync(fd):
        st = os.fstat(fd)
        # what the fd is, how much of it is written, and what ``path`` is at that moment
        synced.append((st.st_ino, stat.S_ISDIR(st.st_mode), st.st_size, path.stat().st_ino))
        return real_fsync(fd)

    monkeypatch.setattr(saving.os, "fsync", recording_fsync)
    build(seed=1).save(path)
    new = path.stat()
    assert new.st_ino != old_inode
    assert synced == [
        # the new file, completely flushed, while ``path`` is still the previous file
        (new.st_ino, False, new.st_size, old_inode),
        # then the directory, once the rename has happened
        (tmp_path.stat().st_ino, True, synced[1][2], new.st_ino),
    ]


def test_custom_functions_named_like_builtins_are_never_swapped_for_them(tmp_path):
    # a user's "relu" and "mse" must come back from custom_objects, not minigrad's own
    def relu(t):
        return t * 3

    def mse(y_true, y_pred):
        return mg.losses.mae(y_true, y_pred) * 100

    model = Sequential([layers.Dense(1, input_shape=(1,), activation=relu,
                                     kernel_initializer="ones")])
    model.compile(loss=mse, optimizer="sgd")
    path = tmp_path / "custom.zip"
    model.save(path)
    with pytest.raises(ValueError, match="relu"):
        load_model(path)
    with pytest.raises(ValueError, match="mse"):
        load_model(path, custom_objects={"relu": relu})
    back = load_model(path, custom_objects={"relu": relu, "mse": mse})
    x, y = np.array([[-1.0]]), np.array([[0.0]])
    np.testing.assert_array_equal(back.predict(x, verbose=0), [[-3.0]])
    assert back.evaluate(x, y, verbose=0) == pytest.approx(300.0)


# ---------------------------------------------------------------- the Model family (issue 11)
@mg.saving.register_keras_serializable(package="SavingTests")
def _halve(t):
    return t * 0.5


def test_functional_with_nested_model_shared_layer_and_lambda_round_trips(tmp_path):
    mg.random.seed(4)
    inner = Sequential([layers.Input((4,)), layers.Dense(4, activation="tanh", name="in1")],
                       name="inner")
    inp = mg.Input((4,), name="x")
    shared = layers.Dense(4, activation="relu", name="shared")
    a = shared(inp)
    b = shared(inner(a))
    merged = layers.Add(name="skip")([a, layers.Lambda(_halve, name="halve")(b)])
    model = mg.Model(inp, layers.Dense(2, name="out")(merged), name="net")
    model.compile("adam", "mse")
    x, y = np.random.default_rng(0).normal(size=(16, 4)), np.ones((16, 2))
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "net.keras"
    mg.saving.save_model(model, path)
    loaded = mg.saving.load_model(path)
    assert [la.name for la in loaded.layers] == ["x", "shared", "inner", "halve", "skip", "out"]
    assert len(loaded.weights) == len(model.weights) == 6
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    doc = json.loads(zipfile.ZipFile(path).read("model.json"))
    assert doc["model"]["class_name"] == "Functional"
    halve = [la for la in doc["model"]["config"]["layers"] if la["name"] == "halve"][0]
    assert halve["config"]["function"] == {"__custom_object__": "SavingTests>_halve"}


def test_a_lambda_in_a_lambda_layer_cannot_be_saved(tmp_path):
    inp = mg.Input((2,))
    model = mg.Model(inp, layers.Lambda(lambda t: t * 2.0)(inp))
    with pytest.raises(ValueError, match="cannot save the function.*no usable name"):
        model.save(tmp_path / "lam.keras")
    assert not list(tmp_path.iterdir())


def test_unregistered_custom_layer_in_a_functional_model_names_itself(tmp_path):
    class Scale(layers.Layer):
        def call(self, x):
            return x * 2.0

    inp = mg.Input((2,))
    model = mg.Model(inp, Scale(name="scale")(inp))
    model.save(tmp_path / "s.keras")
    with pytest.raises(ValueError, match=r"Unknown layer .Scale.*custom_objects=\{.Scale."):
        load_model(tmp_path / "s.keras")
    loaded = load_model(tmp_path / "s.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])


def _save_as(kind, model, path):
    if kind == "model":
        model.save(path)
    else:
        saving.save_training_state(model, path, {"epoch": 3})


def _load_as(kind, path):
    if kind == "model":
        return load_model(path)
    model = build(seed=5)
    assert saving.load_training_state(model, path) == {"epoch": 3}
    return model


@pytest.mark.parametrize("kind", ["model", "training state"])
def test_optimizer_state_round_trips_and_is_checked_alike_in_both_files(tmp_path, data, kind):
    x, y = data
    model = build()
    model.fit(x[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    _save_as(kind, model, tmp_path / "f")
    with zipfile.ZipFile(tmp_path / "f") as zf:
        doc = json.loads(zf.read("model.json"))
        members = zf.namelist()
    saved = model.optimizer.variables
    assert doc["optimizer_state"] == len(saved) > 1
    assert [m for m in members if m.startswith("optimizer/")] == [
        f"optimizer/{i:05d}.npy" for i in range(len(saved))]
    loaded = _load_as(kind, tmp_path / "f")
    assert loaded.optimizer.iterations == 2
    for a, b in zip(loaded.optimizer.variables, saved, strict=True):
        np.testing.assert_array_equal(a, b)

    with zipfile.ZipFile(tmp_path / "f") as zin, zipfile.ZipFile(tmp_path / "gap", "w") as zout:
        for item in zin.namelist():
            if item != "optimizer/00002.npy":
                zout.writestr(item, zin.read(item))
    with pytest.raises(ValueError, match=r"'.*gap' is missing optimizer arrays"):
        _load_as(kind, tmp_path / "gap")

    wrong = io.BytesIO()
    np.save(wrong, np.zeros(7, np.float32), allow_pickle=False)
    rewrite_member(tmp_path / "f", tmp_path / "bad", "optimizer/00002.npy", wrong.getvalue())
    with pytest.raises(ValueError, match=r"saved optimizer state in '.*bad' does not fit the "
                                         r"model's trainable weights"):
        _load_as(kind, tmp_path / "bad")


def test_a_model_saved_before_any_step_has_no_optimizer_members(tmp_path):
    for kind in ("model", "training state"):
        _save_as(kind, build(), tmp_path / kind)
        with zipfile.ZipFile(tmp_path / kind) as zf:
            assert json.loads(zf.read("model.json"))["optimizer_state"] == 0
            assert not [m for m in zf.namelist() if m.startswith("optimizer/")]
        assert _load_as(kind, tmp_path / kind).optimizer.iterations == 0
