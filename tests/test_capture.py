"""The captured training step (compile(jit_compile=...), minigrad/models/capture.py): the
proof "auto" relies on. For each optimizer, each layer kind and each loss of the proven set,
once on a small model: the weights after 200 steps equal eager's bit for bit, in float32 and
float64, and the replay really ran. Outside that set the op-level tape (tests/test_tape.py)
takes over."""
import numpy as np
import pytest
from optimizer_zoo import WITH_SETTINGS

import minigrad as mg
from minigrad import layers as L
from minigrad.models import capture, tape
from minigrad.probe import ProbeRecorder

STEPS = 200
FUSED = ["relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "relu6", "softplus", "gelu",
         "silu", "mish", "linear"]
OPTIMIZERS = WITH_SETTINGS


def _model(dtype, hidden=("tanh",), loss="sparse_categorical_crossentropy", opt=None,
           jit="auto", flatten=False, use_bias=True, metrics=("accuracy",), **dense_kw):
    mg.random.seed(1)
    layers = [L.Input((2, 3) if flatten else (6,))] + ([L.Flatten(dtype=dtype)] if flatten
                                                        else [])
    layers += [L.Dense(5, activation=a, use_bias=use_bias, dtype=dtype, **dense_kw)
               for a in hidden]
    layers.append(L.Dense(3, activation="softmax", dtype=dtype))
    model = mg.models.Sequential(layers)
    model.compile(optimizer=(opt or OPTIMIZERS["adam"])(), loss=loss, metrics=list(metrics),
                  jit_compile=jit)
    return model


def _batches(dtype, loss, flatten=False, n=40, batch=8):
    r = np.random.default_rng(2)
    x = r.normal(size=(n, 2, 3) if flatten else (n, 6)).astype(dtype)
    ids = r.integers(0, 3, n)
    y = ids if loss.startswith("sparse") else np.eye(3, dtype=dtype)[ids]
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def _both(dtype, steps=STEPS, loss="sparse_categorical_crossentropy", flatten=False,
          monkeypatch=None, **kw):
    """(captured model, eager model, replays counted, logs of each) after ``steps`` steps."""
    runs = []
    real = capture.Plan.run

    def counting(self, *a):
        runs.append(1)
        return real(self, *a)
    monkeypatch.setattr(capture.Plan, "run", counting)
    batches = _batches(dtype, loss, flatten)
    auto = _model(dtype, loss=loss, flatten=flatten, **kw)
    eager = _model(dtype, loss=loss, flatten=flatten, jit=False, **kw)
    logs = ([], [])
    for i in range(steps):
        x, y = batches[i % len(batches)]
        logs[0].append(auto.train_on_batch(x, y))
        logs[1].append(eager.train_on_batch(x, y))
    return auto, eager, len(runs), logs


def _assert_same(auto, eager, logs):
    for a, b in zip(auto.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(auto.optimizer.variables, eager.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    assert logs[0] == logs[1]                        # loss and accuracy of every step


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_replays_bit_for_bit(name, dtype, monkeypatch):
    fast = []
    real = mg.optimizers.Optimizer._apply_captured

    def counting(self, variables):
        done = real(self, variables)
        fast.append(done)
        return done
    monkeypatch.setattr(mg.optimizers.Optimizer, "_apply_captured", counting)
    auto, eager, runs, logs = _both(dtype, opt=OPTIMIZERS[name], monkeypatch=monkeypatch)
    assert runs == STEPS - 1                         # all but the first, eager step
    # the optimizer's short path unless clipping asks for apply_gradients
    assert fast == [not name.startswith(("clip", "global"))] * (STEPS - 1)
    _assert_same(auto, eager, logs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", FUSED)
def test_each_dense_activation_replays_bit_for_bit(activation, dtype, monkeypatch):
    auto, eager, runs, logs = _both(dtype, hidden=(activation, activation),
                                    monkeypatch=monkeypatch)
    assert all(layer._epilogue is not None for layer in auto.layers[:-1])
    assert runs == STEPS - 1
    _assert_same(auto, eager, logs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["flatten", "no_bias", "constraint", "categorical"])
def test_other_layer_kinds_and_losses_replay_bit_for_bit(kind, dtype, monkeypatch):
    kw = {"flatten": {"flatten": True}, "no_bias": {"use_bias": False},
          "constraint": {"kernel_constraint": mg.constraints.MaxNorm(0.5)},
          "categorical": {"loss": "categorical_crossentropy"}}[kind]
    auto, eager, runs, logs = _both(dtype, monkeypatch=monkeypatch, **kw)
    assert runs == STEPS - 1
    _assert_same(auto, eager, logs)


def test_fit_with_a_last_partial_batch_matches_eager(monkeypatch):
    runs = []
    real = capture.Plan.run
    monkeypatch.setattr(capture.Plan, "run", lambda self, *a: runs.append(1) or real(self, *a))
    r = np.random.default_rng(3)
    x, y = r.normal(size=(45, 6)).astype(np.float32), r.integers(0, 3, 45)
    auto, eager = _model("float32"), _model("float32", jit=False)
    mg.random.seed(5)                                 # the same shuffles for both
    ha = auto.fit(x, y, batch_size=8, epochs=3, verbose=0)
    mg.random.seed(5)
    he = eager.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert ha.history == he.history
    for a, b in zip(auto.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)
    # 6 batches per epoch: 5 of 8 rows (replayed after the first) and one of 5 (a second
    # signature, recorded at its first step and replayed at once)
    assert len(runs) == 3 * 6 - 1


def test_model_changes_recapture_or_run_eagerly(monkeypatch):
    runs = []
    real = capture.Plan.run
    monkeypatch.setattr(capture.Plan, "run", lambda self, *a: runs.append(1) or real(self, *a))
    batches = _batches("float32", "sparse")
    auto, eager = _model("float32", hidden=("relu", "tanh")), \
        _model("float32", hidden=("relu", "tanh"), jit=False)

    def steps(k):
        for i in range(k):
            x, y = batches[i % len(batches)]
            assert auto.train_on_batch(x, y) == eager.train_on_batch(x, y)
    steps(5)
    for m in (auto, eager):                           # set_weights with new arrays
        m.set_weights([np.full(w.shape, 0.1, w.dtype) for w in m.get_weights()])
    steps(5)
    assert len(runs) == 9                             # replayed with the new values
    for m in (auto, eager):                           # a layer made untrainable
        m.layers[0].trainable = False
    steps(5)
    assert len(runs) == 9                             # a frozen Dense: eager
    for m in (auto, eager):
        m.layers[0].trainable = True
    steps(2)
    assert len(runs) == 11                            # trainable again: the plan replays
    for m in (auto, eager):                           # a replaced array leaves the flat
        m.layers[1].kernel.data = m.layers[1].kernel.data.copy()   # buffer: the op tape
    steps(5)
    assert len(runs) == 11
    assert [type(e) for e in auto.__dict__["_captured"].values()] == [tape.Tape]
    for m in (auto, eager):                           # a new optimizer
        m.compile(optimizer=mg.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=m.__dict__["_jit_compile"])
    assert "_captured" not in auto.__dict__
    steps(5)
    for a, b in zip(auto.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_gradient_hook_gets_eager_steps():
    batches = _batches("float32", "sparse")
    auto = _model("float32")
    for x, y in batches[:3]:
        auto.train_on_batch(x, y)
    seen = []
    auto.layers[0].kernel.register_hook(lambda g: seen.append(g.copy()))
    auto.train_on_batch(*batches[3])
    assert len(seen) == 1 and seen[0].shape == (6, 5)


def test_a_probe_listener_gets_eager_steps():
    batches = _batches("float32", "sparse")
    auto = _model("float32")
    for x, y in batches[:3]:
        auto.train_on_batch(x, y)
    with ProbeRecorder() as rec:
        auto.train_on_batch(*batches[3])
    assert rec.deltas                                 # the fused ops reported their deltas


def test_outside_the_kernel_plan_the_tape_captures():
    """Dropout, another loss: not the kernel plan's set; models/tape.py records those
    (tests/test_tape.py proves them)."""
    batches = _batches("float32", "sparse")
    mg.random.seed(0)
    layers = [L.Input((6,)), L.Dense(5, activation="relu"), L.Dropout(0.5),
              L.Dense(3, activation="softmax")]
    model = mg.models.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    for x, y in batches:
        model.train_on_batch(x, y)
    mse = _model("float32", loss="mse", jit=True, metrics=())
    for x, y in batches:
        mse.train_on_batch(x, np.eye(3, dtype=np.float32)[y])
    for m in (model, mse):
        entries = list(m.__dict__["_captured"].values())
        assert [type(e) for e in entries] == [tape.Tape]


@pytest.mark.parametrize("bad", ["yes", 1, None, "AUTO"])
def test_jit_compile_values_are_checked(bad):
    model = mg.models.Sequential([L.Input((2,)), L.Dense(1)])
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto'"):
        model.compile(optimizer="sgd", loss="mse", jit_compile=bad)
