"""The captured step of every model (models/tape.py), the proof "auto" relies on: for each
layer kind, each loss, each optimizer and each model kind once on a small model, 200 steps
of the captured model equal 200 eager steps bit for bit (weights, optimizer slots, moving
statistics, the loss and metrics of every step) in float32 and float64, and the replay really
ran (every step after the two recorded ones). Then what must not be replayed: a changed
model, a hook, values computed outside the ops; and a probe listener (a GradientMonitor),
whose steps have their own tape that sends the probes again."""
import numpy as np
import pytest
from optimizer_zoo import OPTIMIZERS, WITH_SETTINGS
from replays import count_replays

import minigrad as mg
from minigrad import layers as L
from minigrad.diagnostics import GradientMonitor
from minigrad.models import capture, tape
from minigrad.probe import ProbeRecorder

STEPS = 200
DTYPES = ["float32", "float64"]


@pytest.fixture
def replays(monkeypatch):
    """The number of replayed steps so far (a list of one count)."""
    return count_replays(monkeypatch)


@pytest.fixture(params=DTYPES)
def dtype(request):
    old = mg.config.floatx()
    mg.config.set_floatx(request.param)
    yield request.param
    mg.config.set_floatx(old)


def _data(kind, dtype, n=40, batch=8, seed=2):
    """Five batches: x of shape (n, 6) (or images (n, 4, 4, 1), or two inputs), y ids."""
    r = np.random.default_rng(seed)
    if kind == "image":
        x = r.uniform(size=(n, 4, 4, 1)).astype(dtype)
    else:
        x = r.normal(size=(n, 6)).astype(dtype)
    ids = r.integers(0, 3, n)
    return [(x[i:i + batch], ids[i:i + batch]) for i in range(0, n, batch)]


def _train(build, batches, loss="sparse_categorical_crossentropy", opt=None, jit="auto",
           metrics=("accuracy",), target=None, steps=STEPS, sample_weight=None, **compile_kw):
    """(model, logs of every step) after ``steps`` train_on_batch calls, randomness seeded."""
    mg.random.seed(1)
    model = build()
    metrics = metrics if isinstance(metrics, dict) else list(metrics)
    model.compile(optimizer=(opt or OPTIMIZERS["adam"])(), loss=loss, metrics=metrics,
                  jit_compile=jit, **compile_kw)
    logs = []
    for i in range(steps):
        x, ids = batches[i % len(batches)]
        y = ids if target is None else target(ids, x)
        sw = None if sample_weight is None else sample_weight(ids)
        logs.append(model.train_on_batch(x, y, sample_weight=sw, return_dict=True))
    return model, logs


def _assert_replayed_as_eager(build, batches, replays, jit="auto", **kw):
    """``jit``: "auto", or True for the user's own code (which "auto" runs eagerly)."""
    auto, logs_auto = _train(build, batches, jit=jit, **kw)
    ran = replays[0]
    eager, logs_eager = _train(build, batches, jit=False, **kw)
    entries = list(auto.__dict__.get("_captured", {}).values())
    # one eager step, then two recorded (a kernel plan: recorded and replayed at once)
    plan = [e for e in entries if isinstance(e, capture.Plan)]
    assert ran == kw.get("steps", STEPS) - (1 if plan else 3), entries
    for a, b in zip(auto.weights, eager.weights):
        np.testing.assert_array_equal(a.data, b.data, err_msg=a.name)
    for a, b in zip(auto.optimizer.variables, eager.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    assert logs_auto == logs_eager


def _seq(middle, inputs=(6,)):
    def build():
        return mg.models.Sequential([L.Input(inputs), *middle(),
                                     L.Dense(3, activation="softmax")])
    return build


def _two_branch(merge, units=4):
    """x -> (Dense a, Dense b) -> merge -> softmax: the merge layers."""
    def build():
        x = L.Input((6,))
        a = L.Dense(units, activation="tanh")(x)
        b = L.Dense(units, activation="sigmoid")(x)
        return mg.models.Model(x, L.Dense(3, activation="softmax")(merge()([a, b])))
    return build


LAYERS = {
    "Activation": _seq(lambda: [L.Dense(5), L.Activation("gelu")]),
    "ActivityRegularization": _seq(lambda: [L.Dense(5), L.ActivityRegularization(0.01, 0.02)]),
    "AlphaDropout": _seq(lambda: [L.Dense(5, activation="selu"), L.AlphaDropout(0.2)]),
    "BatchNormalization": _seq(lambda: [L.Dense(5), L.BatchNormalization(), L.ReLU()]),
    "Dense+regularizers+max_norm": _seq(lambda: [L.Dense(
        5, activation="relu", kernel_regularizer=mg.regularizers.L1L2(0.01, 0.01),
        bias_regularizer="l2", activity_regularizer="l1",
        kernel_constraint=mg.constraints.MaxNorm(0.5))]),
    "Dense(no bias)": _seq(lambda: [L.Dense(5, activation="elu", use_bias=False)]),
    "Dropout": _seq(lambda: [L.Dense(5, activation="relu"), L.Dropout(0.3)]),
    "Dropout(noise_shape)": _seq(lambda: [L.Dense(5, activation="relu"),
                                          L.Dropout(0.3, noise_shape=(None, 1))]),
    "ELU": _seq(lambda: [L.Dense(5), L.ELU(0.7)]),
    "GaussianDropout": _seq(lambda: [L.Dense(5, activation="relu"), L.GaussianDropout(0.2)]),
    "GaussianNoise": _seq(lambda: [L.Dense(5, activation="relu"), L.GaussianNoise(0.3)]),
    "Identity": _seq(lambda: [L.Dense(5, activation="tanh"), L.Identity()]),
    "Lambda": _seq(lambda: [L.Dense(5), L.Lambda(lambda t: t * t - 1.0)]),
    "LayerNormalization": _seq(lambda: [L.Dense(5), L.LayerNormalization()]),
    "LeakyReLU": _seq(lambda: [L.Dense(5), L.LeakyReLU(0.2)]),
    "Normalization": _seq(lambda: [L.Normalization(mean=0.5, variance=2.0), L.Dense(5)]),
    "PReLU": _seq(lambda: [L.Dense(5), L.PReLU()]),
    "RReLU": _seq(lambda: [L.Dense(5), L.RReLU()]),
    "ReLU": _seq(lambda: [L.Dense(5), L.ReLU(max_value=2.0, negative_slope=0.1)]),
    "Rescaling": _seq(lambda: [L.Rescaling(0.5, offset=0.1), L.Dense(5)]),
    "Reshape": _seq(lambda: [L.Dense(6), L.Reshape((2, 3)), L.Flatten()]),
    "Softmax": _seq(lambda: [L.Dense(5), L.Softmax()]),
    "UnitNormalization": _seq(lambda: [L.Dense(5), L.UnitNormalization()]),
    "Add": _two_branch(L.Add),
    "Average": _two_branch(L.Average),
    "Concatenate": _two_branch(L.Concatenate),
    "Dot": _two_branch(lambda: L.Dot(axes=1, normalize=True)),
    "Maximum": _two_branch(L.Maximum),
    "Minimum": _two_branch(L.Minimum),
    "Multiply": _two_branch(L.Multiply),
    "Subtract": _two_branch(L.Subtract),
}
IMAGE_LAYERS = {
    "RandomFlip": lambda: L.RandomFlip(),
    "RandomRotation": lambda: L.RandomRotation(0.2),
    "RandomTranslation": lambda: L.RandomTranslation(0.2, 0.2),
    "RandomZoom": lambda: L.RandomZoom(0.2),
}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_each_layer_kind_replays_bit_for_bit(kind, dtype, replays):
    # a Lambda runs the user's function: captured with jit_compile=True
    _assert_replayed_as_eager(LAYERS[kind], _data("vector", dtype), replays,
                              jit=True if kind == "Lambda" else "auto")


@pytest.mark.parametrize("kind", list(IMAGE_LAYERS))
def test_each_augmentation_replays_bit_for_bit(kind, dtype, replays):
    build = _seq(lambda: [IMAGE_LAYERS[kind](), L.Flatten(), L.Dense(5, activation="relu")],
                 inputs=(4, 4, 1))
    _assert_replayed_as_eager(build, _data("image", dtype), replays)


def _onehot(ids, x):
    return np.eye(3, dtype=x.dtype)[ids]


def _signed(ids, x):
    return 2.0 * _onehot(ids, x) - 1.0


def _positive(ids, x):
    return _onehot(ids, x) * 2.0 + 0.5


# loss -> (last activation, target from the ids)
LOSSES = {
    "sparse_categorical_crossentropy": ("softmax", None),
    "categorical_crossentropy": ("softmax", _onehot),
    "binary_crossentropy": ("sigmoid", _onehot),
    "binary_focal_crossentropy": ("sigmoid", _onehot),
    "categorical_focal_crossentropy": ("softmax", _onehot),
    "mean_squared_error": ("linear", _onehot),
    "mean_absolute_error": ("linear", _onehot),
    "mean_absolute_percentage_error": ("linear", _positive),
    "mean_squared_logarithmic_error": ("softplus", _positive),
    "huber": ("linear", _onehot),
    "log_cosh": ("linear", _onehot),
    "kl_divergence": ("softmax", _onehot),
    "poisson": ("softplus", _positive),
    "hinge": ("tanh", _signed),
    "squared_hinge": ("tanh", _signed),
    "categorical_hinge": ("linear", _onehot),
    "cosine_similarity": ("linear", _onehot),
    "CategoricalCrossentropy(label_smoothing, from_logits)": ("linear", _onehot),
    "SparseCategoricalCrossentropy(from_logits)": ("linear", None),
    "BinaryCrossentropy(label_smoothing)": ("sigmoid", _onehot),
    "custom function": ("linear", _onehot),
}


def _loss(name):
    if name.startswith("CategoricalCrossentropy("):
        return mg.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    if name.startswith("SparseCategoricalCrossentropy("):
        return mg.losses.SparseCategoricalCrossentropy(from_logits=True)
    if name.startswith("BinaryCrossentropy("):
        return mg.losses.BinaryCrossentropy(label_smoothing=0.2)
    if name == "custom function":
        return lambda y_true, y_pred: mg.ops.mean(mg.ops.square(y_true - y_pred), axis=-1)
    return name


@pytest.mark.parametrize("name", list(LOSSES))
def test_each_loss_replays_bit_for_bit(name, dtype, replays):
    act, target = LOSSES[name]

    def build():
        return mg.models.Sequential([L.Input((6,)), L.Dense(5, activation="tanh"),
                                     L.BatchNormalization(), L.Dense(3, activation=act)])
    _assert_replayed_as_eager(build, _data("vector", dtype), replays, loss=_loss(name),
                              target=target, metrics=(),
                              jit=True if name == "custom function" else "auto")


@pytest.mark.parametrize("name", list(WITH_SETTINGS))
def test_each_optimizer_replays_bit_for_bit(name, dtype, replays):
    _assert_replayed_as_eager(LAYERS["BatchNormalization"], _data("vector", dtype), replays,
                              opt=WITH_SETTINGS[name])


def test_sample_and_class_weights_replay_bit_for_bit(dtype, replays):
    batches = _data("vector", dtype)
    build = LAYERS["Dropout"]
    _assert_replayed_as_eager(build, batches, replays, sample_weight=lambda ids: 0.5 + ids,
                              weighted_metrics=["accuracy"])
    replays[0] = 0
    _assert_replayed_as_eager(build, batches, replays, loss="categorical_crossentropy",
                              target=_onehot, sample_weight=lambda ids: 1.0 + (ids == 1))


class _Residual(mg.Model):
    """A subclassed model: a residual block, a nested Sequential, dropout."""

    def __init__(self):
        super().__init__()
        self.inp = L.Dense(5, activation="relu")
        self.block = mg.models.Sequential([L.Dense(5, activation="elu"), L.Dense(5)])
        self.drop = L.Dropout(0.2)
        self.out = L.Dense(3, activation="softmax")

    def call(self, x, training=False):
        h = self.inp(x)
        h = h + self.block(h)
        return self.out(self.drop(h, training=training))


def _functional_multi():
    """Two inputs, two named outputs (a dict of losses and loss weights)."""
    a, b = L.Input((6,), name="a"), L.Input((6,), name="b")
    h = L.Concatenate()([L.Dense(4, activation="relu")(a), L.Dense(4)(b)])
    h = L.BatchNormalization()(h)
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(h)
    return mg.models.Model([a, b], {"cls": cls, "reg": reg})


def test_model_kinds_replay_bit_for_bit(dtype, replays):
    batches = _data("vector", dtype)
    _assert_replayed_as_eager(_Residual, batches, replays, jit=True)   # the user's call
    replays[0] = 0
    nested = _seq(lambda: [mg.models.Sequential([L.Dense(5, activation="relu"),
                                                 L.BatchNormalization()])])
    _assert_replayed_as_eager(nested, batches, replays)
    replays[0] = 0
    two = [((x, x[:, ::-1].copy()), ids) for x, ids in batches]
    _assert_replayed_as_eager(
        _functional_multi, two, replays,
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]},
        target=lambda ids, x: {"cls": ids, "reg": ids[:, None].astype(x[0].dtype)})


def _fit_as_eager(build, data, seed=4, callback=None, jit="auto", **fit_kw):
    """fit with jit_compile="auto", then False, each from the same seed on ``data()``'s
    (x, y); asserts equal histories and weights; returns the two callbacks (``callback()``
    makes one per fit)."""
    runs = []
    for flag in (jit, False):
        mg.random.seed(seed)
        model = build()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=flag)
        cb = None if callback is None else callback()
        x, y = data()
        history = model.fit(x, y, verbose=0, callbacks=[cb] if cb else None, **fit_kw)
        runs.append((history.history, model.get_weights(), cb))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    return runs[0][2], runs[1][2]


def test_fit_with_a_last_partial_batch_matches_eager(replays):
    r = np.random.default_rng(3)
    x = r.normal(size=(90, 6)).astype("float32")
    y = r.integers(0, 3, 90)
    _fit_as_eager(LAYERS["Dropout"], lambda: (x, y), batch_size=16, epochs=6,
                  validation_split=0.1)
    # 5 full batches and one of 1 per epoch: the full ones recorded twice, then replayed
    # (epoch 1: 1 eager + 2 recorded + 2 replays; then 5 per epoch); the last ones recorded
    # in epochs 1 and 2, replayed from epoch 3
    assert replays[0] == 2 + 5 * 5 + 4


def _trained(build=LAYERS["BatchNormalization"], steps=6, jit="auto"):
    batches = _data("vector", "float32")
    model, _ = _train(build, batches, steps=steps, jit=jit)
    return model, batches


def test_an_edited_layer_is_recorded_anew(replays):
    model, batches = _trained(LAYERS["Dropout"])
    assert replays[0] == 3
    model.layers[1].rate = 0.9                  # a public attribute: record anew
    for x, y in batches[:2]:
        model.train_on_batch(x, y)
    assert replays[0] == 3                       # two recorded steps, no replay
    assert model.layers[1].rate == 0.9
    model.train_on_batch(*batches[2])
    assert replays[0] == 4
    model.layers[0].trainable = False            # frozen: recorded anew without its weights
    before = [w.copy() for w in model.layers[0].get_weights()]
    for x, y in batches:
        model.train_on_batch(x, y)
    assert replays[0] == 7
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_weight_frozen_directly_or_replaced_is_never_stale(replays):
    model, batches = _trained()
    kernel = model.layers[0].kernel
    kernel.trainable = False                     # the Parameter itself, no layer edit
    before = kernel.data.copy()
    for x, y in batches:
        model.train_on_batch(x, y)
    np.testing.assert_array_equal(kernel.data, before)
    model.set_weights([w * 0.5 for w in model.get_weights()])   # copies into the arrays
    runs = replays[0]
    model.train_on_batch(*batches[0])
    assert replays[0] == runs + 1
    bn = model.layers[1]                         # a moving statistic given a new array
    new = bn.moving_mean.data + 1.0
    start = new.copy()
    bn.moving_mean.data = new
    model.train_on_batch(*batches[1])
    assert replays[0] == runs + 1                # recorded anew, not replayed
    assert bn.moving_mean.data is new and not np.array_equal(new, start)


def test_a_gradient_hook_gets_eager_steps_and_a_listener_its_own_tape(replays):
    model, batches = _trained()
    seen = []
    handle = model.layers[0].kernel.register_hook(lambda g: seen.append(g.copy()))
    runs = replays[0]
    model.train_on_batch(*batches[0])
    assert replays[0] == runs and len(seen) == 1
    handle.remove()
    with ProbeRecorder() as rec:                 # listening: recorded twice, then replayed
        sent = []
        for i in range(4):
            rec.clear()
            model.train_on_batch(*batches[1 + i % 2])
            sent.append((sorted(rec.outputs), sorted(rec.deltas)))
    assert replays[0] == runs + 2
    assert sent[0][0] and sent[0][1] and sent.count(sent[0]) == 4    # the same probes
    model.train_on_batch(*batches[2])            # not listening: the first tape again
    assert replays[0] == runs + 3


@pytest.mark.parametrize("build", [LAYERS["BatchNormalization"],
                                   _seq(lambda: [L.Dense(5, activation="sigmoid"),
                                                 L.Dense(5, activation="sigmoid")])],
                         ids=["batchnorm", "dense-sigmoid"])
@pytest.mark.parametrize("every", [1, 3])
def test_a_gradient_monitor_sees_replayed_steps_as_eager_ones(build, every, replays):
    """GradientMonitor(every=k) during fit: its records (gradients, activations, deltas,
    update ratios) and the weights equal eager's bit for bit, and the listening steps were
    replayed from their own tape (the Dense family too, whose kernel plan sends no probes)."""
    r = np.random.default_rng(5)
    x = r.normal(size=(96, 6)).astype("float32")
    y = r.integers(0, 3, 96)
    auto, eager = _fit_as_eager(build, lambda: (x, y), seed=2, batch_size=16, epochs=5,
                                shuffle=False, callback=lambda: GradientMonitor(every=every))
    assert replays[0] >= 20
    assert auto.steps == eager.steps
    assert list(auto.history.values()) == list(eager.history.values())   # (names differ)


class _NumpyNoise(L.Layer):
    """A custom layer that draws noise with numpy in call: a constant of the graph."""

    def call(self, x, training=False):
        if not training:
            return x
        return x + np.random.default_rng().normal(size=x.shape).astype(x.dtype)


class _Counting(L.Layer):
    """A custom layer with a Python side effect in call (a replay would skip it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x * 2.0


def test_custom_layers_are_eager_under_auto_and_captured_with_true(replays):
    build = _seq(lambda: [L.Dense(5), _Counting()])
    model, batches = _trained(build)
    calls = model.layers[1].calls
    model.train_on_batch(*batches[0])
    assert replays[0] == 0 and model.layers[1].calls == calls + 1
    reason = [str(e) for e in model.__dict__["_captured"].values()
              if isinstance(e, capture.Refused)]
    assert reason and "_Counting" in reason[0] and "jit_compile=True" in reason[0]
    strict, _ = _trained(build, jit=True)
    calls = strict.layers[1].calls
    strict.train_on_batch(*batches[0])
    assert replays[0] == 4 and strict.layers[1].calls == calls       # replayed: not called


def test_values_computed_outside_the_ops_are_never_replayed(replays):
    build = _seq(lambda: [L.Dense(5), _NumpyNoise()])
    with pytest.raises(ValueError, match=r"jit_compile=True: cannot capture .*Add \(op.*"
                                         r"changes from step to step"):
        _trained(build, jit=True)
    assert replays[0] == 0


def test_the_same_batch_twice_proves_nothing_and_stays_eager(replays):
    model = LAYERS["Dropout"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data("vector", "float32")[0]
    for _ in range(5):
        model.train_on_batch(x, y)
    assert replays[0] == 0
    model.train_on_batch(x * 2.0, y)            # different data: the comparison is made
    model.train_on_batch(x, y)
    assert replays[0] == 1


def test_signatures_kept_are_bounded():
    model = LAYERS["Dropout"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    r = np.random.default_rng(0)
    for n in range(1, 3 * capture.MAX_SIGNATURES):
        model.train_on_batch(r.normal(size=(n, 6)).astype("float32"), r.integers(0, 3, n))
    assert len(model.__dict__["_captured"]) == capture.MAX_SIGNATURES


@pytest.mark.parametrize("build", [LAYERS["BatchNormalization"],
                                   _seq(lambda: [L.Dense(5), L.BatchNormalization()])])
def test_a_replayed_step_checks_the_labels_as_eager_does(build, replays):
    model, batches = _trained(build)
    assert replays[0] == 3
    x, ids = batches[0]
    for bad in (7, -1):
        y = ids.copy()
        y[0] = bad
        with pytest.raises(ValueError, match=f"label {bad} is outside \\[0, 3\\)"):
            model.train_on_batch(x, y)
    float_model, _ = _trained(build)
    for i in range(4):          # float class ids: recorded, then replayed
        float_model.train_on_batch(batches[i][0], batches[i][1].astype("float32"))
    with pytest.raises(ValueError, match="not whole numbers"):
        float_model.train_on_batch(x, ids + 0.5)


def test_edits_of_losses_regularizers_and_settings_are_seen(replays):
    """Mid-training edits of a loss, a regularizer and config.epsilon: the captured model
    follows them exactly as the eager one does (recorded anew after each)."""
    batches = _data("vector", "float32")

    def build():
        return mg.models.Sequential([
            L.Input((6,)), L.Dense(5, activation="tanh",
                                   kernel_regularizer=mg.regularizers.L2(0.01)),
            L.BatchNormalization(), L.Dense(3, activation="softmax")])

    old_eps = mg.config.epsilon()
    models, logs = [], []
    try:
        for jit in ("auto", False):
            mg.config.set_epsilon(old_eps)
            mg.random.seed(1)
            model = build()
            model.compile(optimizer="adam", jit_compile=jit,
                          loss=mg.losses.CategoricalCrossentropy(label_smoothing=0.0))
            out = []
            for i in range(40):
                if i == 10:
                    model._loss_fn.fns[0].label_smoothing = 0.3
                if i == 20:
                    model.layers[0].kernel_regularizer.l2 = 0.5
                if i == 30:
                    mg.config.set_epsilon(1e-3)
                x, ids = batches[i % len(batches)]
                out.append(model.train_on_batch(x, _onehot(ids, x)))
            models.append(model)
            logs.append(out)
    finally:
        mg.config.set_epsilon(old_eps)
    # 1 eager, 2 recorded, 7 replayed; then after each edit 2 recorded and 8 replayed
    assert replays[0] == 7 + 3 * 8
    assert logs[0] == logs[1]
    for a, b in zip(models[0].weights, models[1].weights):
        np.testing.assert_array_equal(a.data, b.data)


class _WithAddedLoss(mg.Model):
    """A subclassed model whose call adds a loss term (add_loss)."""

    def __init__(self):
        super().__init__()
        self.d1 = L.Dense(8, activation="relu")
        self.d2 = L.Dense(3, activation="softmax")

    def call(self, x, training=False):
        h = self.d1(x)
        self.add_loss(mg.ops.mean(h * h) * 0.01)
        return self.d2(h)


def test_fit_from_a_generator_with_class_weights_and_add_loss_matches_eager(replays):
    r = np.random.default_rng(0)
    x = r.normal(size=(96, 5)).astype("float32")
    y = r.integers(0, 3, 96)

    def batches():
        while True:
            for i in range(0, 96, 16):
                yield x[i:i + 16], y[i:i + 16]
    _fit_as_eager(_WithAddedLoss, lambda: (batches(), None), seed=3, steps_per_epoch=6,
                  epochs=4, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, jit=True)
    assert replays[0] == 24 - 3


def test_a_refused_signature_is_tried_again_after_an_edit(replays):
    """A model whose loss needs no trainable weight is refused; made trainable again (an
    edit) it is recorded and replayed."""
    model = LAYERS["BatchNormalization"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    batches = _data("vector", "float32")
    model.train_on_batch(*batches[0])            # eager: the optimizer is built
    model.trainable = False
    for x, y in batches:
        model.train_on_batch(x, y)
    assert [type(e) for e in model.__dict__["_captured"].values()] == [capture.Refused]
    model.trainable = True
    for x, y in batches:
        model.train_on_batch(x, y)
    assert replays[0] == 3
    assert [type(e) for e in model.__dict__["_captured"].values()] == [tape.Tape]


class _UserLoss(mg.losses.Loss):
    def call(self, y_true, y_pred):
        return mg.ops.mean(mg.ops.square(y_true - y_pred), axis=-1)


class _UserL2(mg.regularizers.Regularizer):
    def __call__(self, w):
        return 0.01 * mg.ops.sum(w * w)


USER_CODE = {   # (build, loss): each runs the user's Python in the training step
    "subclassed model": (_Residual, "sparse_categorical_crossentropy"),
    "Lambda": (LAYERS["Lambda"], "sparse_categorical_crossentropy"),
    "activation": (_seq(lambda: [L.Dense(5, activation=lambda t: t * 0.5)]),
                   "sparse_categorical_crossentropy"),
    "regularizer": (_seq(lambda: [L.Dense(5, kernel_regularizer=_UserL2())]),
                    "sparse_categorical_crossentropy"),
    "loss function": (LAYERS["Dropout"], lambda t, p: mg.ops.mean(mg.ops.square(t - p), -1)),
    "Loss subclass": (LAYERS["Dropout"], _UserLoss()),
}


@pytest.mark.parametrize("kind", list(USER_CODE))
def test_the_users_code_is_eager_under_auto(kind, replays):
    """Code of the user's may keep Python state a replay would not see (the review's
    reproducers: a step counter in a subclassed model's call, a global read by a loss):
    "auto" runs it eagerly and names it; jit_compile=True captures it."""
    build, loss = USER_CODE[kind]
    batches = _data("vector", "float32")
    sparse = isinstance(loss, str)
    target = None if sparse else _onehot
    model, _ = _train(build, batches, loss=loss, target=target, steps=8, metrics=())
    assert replays[0] == 0
    refused = [str(e) for e in model.__dict__["_captured"].values()
               if isinstance(e, capture.Refused)]
    assert refused and "the user's" in refused[0] and "jit_compile=True" in refused[0]
    _train(build, batches, loss=loss, target=target, steps=8, metrics=(), jit=True)
    assert replays[0] == 5


def test_a_global_read_by_the_users_loss_is_seen_under_auto():
    """The review's reproducer: a loss scaled by a global that a callback anneals."""
    state = {"beta": 1.0}

    def annealed(t, p):
        return mg.ops.mean(mg.ops.square(t - p)) * state["beta"]

    class Anneal(mg.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            state["beta"] = 0.1 * (epoch + 2)
    r = np.random.default_rng(0)
    x = r.normal(size=(64, 4)).astype("float32")
    y = r.normal(size=(64, 1)).astype("float32")
    runs = []
    for jit in ("auto", False):
        mg.random.seed(1)
        state["beta"] = 1.0
        model = mg.models.Sequential([L.Input((4,)), L.Dense(4, activation="relu"),
                                      L.Dense(1)])
        model.compile(optimizer="sgd", loss=annealed, jit_compile=jit)
        runs.append(model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False,
                              callbacks=[Anneal()]).history["loss"])
    assert runs[0] == runs[1]


# ---- the review's reproducers (each failed before its fix) -------------------------------
def _auto_and_eager(build, steps, loss="sparse_categorical_crossentropy", opt="sgd"):
    """Losses and weights of ``steps(model)`` for jit_compile "auto" and False, both from
    seed 1; asserts they are equal."""
    runs = []
    for jit in ("auto", False):
        mg.random.seed(1)
        model = build()
        model.compile(optimizer=opt, loss=loss, jit_compile=jit)
        runs.append((steps(model), model.get_weights(),
                     np.asarray(mg.random.uniform((2,)))))     # the random stream after
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1] + [runs[0][2]], runs[1][1] + [runs[1][2]]):
        np.testing.assert_array_equal(a, b)


def test_labels_equal_in_both_recorded_steps_are_still_the_batchs(replays):
    r = np.random.default_rng(0)
    x = r.normal(size=(8, 8, 6)).astype("float32")
    y = r.integers(0, 3, (8, 8))
    y[:3] = 0                                   # the first batches all of class 0
    _auto_and_eager(LAYERS["BatchNormalization"],
                    lambda m: [m.train_on_batch(x[i], y[i]) for i in range(8)])
    assert replays[0] > 0


def test_sample_weights_equal_to_the_labels_are_not_read_from_them(replays):
    r = np.random.default_rng(0)
    x = r.normal(size=(8, 1, 3)).astype("float32")
    y = np.array([1, 1, 1, 0, 2, 0, 1, 2], "float32").reshape(8, 1, 1)
    w = np.ones((8, 1), "float32")

    def build():
        return mg.models.Sequential([L.Input((3,)), L.Dense(1)])
    _auto_and_eager(build, lambda m: [m.train_on_batch(x[i], y[i], sample_weight=w[i])
                                      for i in range(8)], loss="mse")


def test_random_flip_after_a_trainable_layer_draws_at_every_step(replays):
    r = np.random.default_rng(0)
    x = r.normal(size=(12, 1, 4, 4, 1)).astype("float32")
    y = r.integers(0, 3, (12, 1))

    def build():
        return mg.models.Sequential([L.Input((4, 4, 1)), L.Dense(1), L.RandomFlip("horizontal"),
                                     L.Flatten(), L.Dense(3, activation="softmax")])
    _auto_and_eager(build, lambda m: [m.train_on_batch(x[i], y[i]) for i in range(12)])
    assert replays[0] > 0


def test_normalization_adapted_again_mid_training(replays):
    r = np.random.default_rng(0)
    x = r.normal(size=(64, 6)).astype("float32")
    y = r.normal(size=(64, 1)).astype("float32")
    norm = []

    def build():
        norm[:] = [L.Normalization()]
        norm[0].adapt(x)
        return mg.models.Sequential([L.Input((6,)), norm[0], L.Dense(1)])

    def steps(model):
        a = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history["loss"]
        norm[0].adapt(x * 3.0)                   # new statistics, written in place
        return a + model.fit(x, y, batch_size=8, epochs=1, verbose=0,
                             shuffle=False).history["loss"]
    _auto_and_eager(build, steps, loss="mse")
    assert replays[0] > 0


def test_a_subclassed_model_branching_on_its_data_and_counting_steps():
    r = np.random.default_rng(0)
    x = r.normal(size=(8, 8, 4)).astype("float32")
    y = r.integers(0, 3, (8, 8))
    x[4:] -= 5.0

    class Net(mg.Model):
        def __init__(self):
            super().__init__()
            self.a = L.Dense(3)
            self.steps = 0

        def call(self, inputs, training=None):
            self.steps += 1
            h = self.a(inputs)
            if float(np.mean(np.asarray(inputs.data))) < 0:
                h = h * 3.0
            return mg.activations.softmax(h)
    _auto_and_eager(Net, lambda m: [m.train_on_batch(x[i], y[i]) for i in range(8)] +
                    [m.steps])
