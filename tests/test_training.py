"""Sequential, compile / fit / evaluate / predict / train_on_batch / test_on_batch.

Behaviour checked against Keras 3's rules (KERAS_SEMANTICS.md "fit / logs") with references
computed independently here in numpy float64, and the lecture's listings on real data with
stated accuracy thresholds.
"""
import json

import numpy as np
import pytest
from keras_oracle import run_keras

import minigrad as mg
from minigrad import layers
from minigrad.callbacks import Callback, EarlyStopping
from minigrad.datasets import digits, synthetic
from minigrad.models import Sequential


@pytest.fixture(scope="module")
def digits8():
    (x, y), (xt, yt) = digits.load_data()
    return x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt


@pytest.fixture(scope="module")
def digits28():
    return digits.load_data(image_size=28)


def small_model(n_in=4, hidden=8, n_out=3, seed=0, **dense_kwargs):
    mg.random.seed(seed)
    return Sequential([layers.Dense(hidden, activation="relu", input_shape=(n_in,),
                                    **dense_kwargs),
                       layers.Dense(n_out, activation="softmax")])


def small_data(n=10, n_in=4, k=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)).astype(np.float32), rng.integers(0, k, size=n)


def np_forward(weights, x):
    """float64 reference of Dense(relu) -> Dense(softmax)."""
    w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in weights)
    h = np.maximum(x.astype(np.float64) @ w1 + b1, 0.0)
    z = h @ w2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_ce(weights, x, y):
    p = np.clip(np_forward(weights, x), 1e-7, 1 - 1e-7)
    return float(-np.log(p[np.arange(len(y)), y]).mean())


class Recorder(Callback):
    """Records every hook call as (hook, index or None)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _rec(name):
        def hook(self, *args):
            self.calls.append((name, args[0] if len(args) == 2 else None))
        return hook

    for _name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
                  "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
                  "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                  "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"):
        locals()[_name] = _rec(_name)
    del _name, _rec


# ---- the lecture's listings -------------------------------------------------------------------
def test_listing_feedforward_sgd_on_blobs():
    """n_features=2, n_hidden=4, n_output=3 with SGD, 30 epochs (the lecture's first listing)."""
    n_output, n_hidden, n_features = 3, 4, 2
    x, y = synthetic.make_blobs(n_samples=600, n_features=n_features, centers=n_output,
                                cluster_std=1.0, seed=3)
    x_train, y_train, x_test, y_test = x[:500], y[:500], x[500:], y[500:]
    mg.random.seed(0)
    model = mg.models.Sequential()
    model.add(mg.layers.Dense(n_hidden, input_shape=(n_features,), activation="relu"))
    model.add(mg.layers.Dense(n_output, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=30, verbose=0)
    assert list(history.history) == ["accuracy", "loss"]
    assert len(history.history["loss"]) == 30
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x_test, y_test, verbose=0)[1] >= 0.9


def test_listing_dropout_model_on_digits28(digits28):
    (x, y), (xt, yt) = digits28
    mg.random.seed(0)
    model = mg.models.Sequential([
        mg.layers.Flatten(input_shape=[28, 28]),
        mg.layers.Dropout(rate=0.2),
        mg.layers.Dense(128, activation="relu"),
        mg.layers.Dropout(rate=0.2),
        mg.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=5, verbose=0)
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert acc >= 0.9, (loss, acc)


LISTING_HIDDEN = {   # the lecture's hidden layers, between Flatten(28x28) and Dense(10, softmax)
    "l2": lambda: [layers.Dense(100, activation="relu",
                                kernel_regularizer=mg.regularizers.l2(0.01))],
    "max_norm": lambda: [layers.Dense(100, activation="relu",
                                      kernel_constraint=mg.constraints.max_norm(1.))],
    "he_normal": lambda: [layers.Dense(128, activation="relu", kernel_initializer="he_normal")],
    "elu": lambda: [layers.Dense(128, activation="elu")],
    "leaky_relu": lambda: [layers.Dense(128, kernel_initializer="he_normal"),
                           layers.LeakyReLU()],
    "batch_norm": lambda: [layers.BatchNormalization(), layers.Dense(128, activation="relu"),
                           layers.BatchNormalization()],
}


@pytest.mark.parametrize("name", list(LISTING_HIDDEN))
def test_listing_models_reach_90_percent_on_digits28(digits28, name):
    (x, y), (xt, yt) = digits28
    mg.random.seed(0)
    model = mg.models.Sequential([mg.layers.Flatten(input_shape=[28, 28]),
                                  *LISTING_HIDDEN[name](),
                                  mg.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=5, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.evaluate(xt, yt, verbose=0)[1] >= 0.9
    if name == "max_norm":
        norms = np.sqrt((model.layers[1].kernel.data.astype(np.float64) ** 2).sum(axis=0))
        assert norms.max() <= 1.0 + 1e-6


def test_listing_early_stopping_stops_where_keras_rule_says(digits28):
    """The lecture's EarlyStopping(monitor='accuracy', min_delta=0.05, patience=1) with the
    Dropout listing's layers and SGD: training stops at the first epoch > 0 whose accuracy
    does not beat the best so far by more than 0.05 (Keras 3's rule), after a few epochs."""
    (x, y), (xt, yt) = digits28
    mg.random.seed(0)
    model = mg.models.Sequential([
        layers.Flatten(input_shape=[28, 28]), layers.Dropout(rate=0.2),
        layers.Dense(128, activation="relu"), layers.Dropout(rate=0.2),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    earlystop_callback = EarlyStopping(monitor="accuracy", min_delta=0.05, patience=1)
    hist = model.fit(x, y, epochs=500, callbacks=[earlystop_callback], verbose=0)
    acc = hist.history["accuracy"]
    best, expected_stop = None, None
    for epoch, a in enumerate(acc):
        if best is None or a - 0.05 > best:
            best = a
        elif epoch > 0:
            expected_stop = epoch
            break
    assert expected_stop is not None and len(acc) == expected_stop + 1
    assert 3 <= len(acc) < 500
    assert model.evaluate(xt, yt, verbose=0)[1] >= 0.85


# ---- fit semantics ---------------------------------------------------------------------------
def test_validation_split_takes_last_rows_before_shuffling():
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rec = Recorder()
    hist = model.fit(x, y, batch_size=1, epochs=1, validation_split=0.25, verbose=0,
                     callbacks=[rec])
    assert rec.params["steps"] == 7          # floor(10 * 0.75) training rows, batch 1
    assert sum(1 for c in rec.calls if c[0] == "on_test_batch_end") == 3
    expected = np_ce(model.get_weights(), x[7:], y[7:])
    assert hist.history["val_loss"][0] == pytest.approx(expected, rel=1e-5)
    assert expected != pytest.approx(np_ce(model.get_weights(), x[:3], y[:3]), rel=1e-3)


def test_epoch_loss_is_the_sample_weighted_mean_of_the_batch_losses():
    """With lr=0 the weights never move, so the epoch loss (batches of 4, 4, 2) must equal
    the full-data loss; an unweighted mean of the batch means would not. (The pre-step rule
    needs lr > 0: test_fit_reports_loss_and_metrics_of_the_pre_step_weights.)"""
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    full = np_ce(model.get_weights(), x, y)
    assert hist.history["loss"] == pytest.approx([full, full], rel=1e-5)
    acc = float((np_forward(model.get_weights(), x).argmax(1) == y).mean())
    assert hist.history["accuracy"] == pytest.approx([acc, acc])


def test_fit_reports_loss_and_metrics_of_the_pre_step_weights():
    """One batch with a real step (lr > 0): history holds the loss and accuracy of the
    forward pass the step was computed from, not of the weights after the step."""
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    w0 = model.get_weights()
    hist = model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    w1 = model.get_weights()

    def accuracy(w):
        return float((np_forward(w, x).argmax(1) == y).mean())

    # the step moved the loss and the accuracy far enough to tell the two apart
    assert np_ce(w1, x, y) != pytest.approx(np_ce(w0, x, y), rel=1e-2)
    assert accuracy(w1) != accuracy(w0)
    assert hist.history["loss"] == pytest.approx([np_ce(w0, x, y)], rel=1e-5)
    assert hist.history["accuracy"] == pytest.approx([accuracy(w0)])


def test_loss_includes_regularization_penalties():
    x, y = small_data(n=12)
    model = small_model(kernel_regularizer=mg.regularizers.l2(0.01))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    w0 = model.get_weights()
    hist = model.fit(x, y, batch_size=12, epochs=1, shuffle=False, verbose=0,
                     validation_data=(x, y))
    penalty0 = 0.01 * float((w0[0].astype(np.float64) ** 2).sum())
    assert hist.history["loss"][0] == pytest.approx(np_ce(w0, x, y) + penalty0, rel=1e-5)
    w1 = model.get_weights()
    expected1 = np_ce(w1, x, y) + 0.01 * float((w1[0].astype(np.float64) ** 2).sum())
    assert hist.history["val_loss"][0] == pytest.approx(expected1, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected1, rel=1e-5)
    assert model.test_on_batch(x, y) == pytest.approx(expected1, rel=1e-5)


def test_history_keys_in_keras_order_and_model_history():
    x, y = small_data(n=20)
    model = small_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_categorical_accuracy"])
    hist = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    assert list(hist.history) == ["accuracy", "sparse_categorical_accuracy", "loss",
                                  "val_accuracy", "val_sparse_categorical_accuracy",
                                  "val_loss"]
    assert all(len(v) == 3 for v in hist.history.values())
    assert model.history is hist and hist.epoch == [0, 1, 2]


def test_same_seed_gives_identical_history_and_weights(digits8):
    x, y, _, _ = digits8

    def run():
        mg.random.seed(11)
        model = Sequential([layers.Dense(32, activation="relu", input_shape=(64,)),
                            layers.Dropout(0.3), layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        hist = model.fit(x[:300], y[:300], epochs=3, validation_split=0.2, verbose=0)
        return hist.history, model.get_weights()

    (h1, w1), (h2, w2) = run(), run()
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))


class RowRecorder(layers.Layer):
    """Identity layer that records the first feature of every training batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, x, training=False):
        if training:
            self.seen.append(x.data[:, 0].astype(int).tolist())
        return x


def test_per_epoch_reshuffle_from_minigrad_random_and_partial_batch_kept():
    n = 10
    x = np.stack([np.arange(n), np.ones(n)], axis=1).astype(np.float32)
    y = np.zeros(n, dtype=np.int64)
    mg.random.seed(5)
    rec = RowRecorder(input_shape=(2,))
    model = Sequential([rec, layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    gen = np.random.Generator(np.random.PCG64())
    gen.bit_generator.state = mg.random.get_state()    # the state fit starts from
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert [len(b) for b in rec.seen] == [4, 4, 2, 4, 4, 2]
    epoch1 = [i for batch in rec.seen[:3] for i in batch]
    epoch2 = [i for batch in rec.seen[3:] for i in batch]
    assert epoch1 == gen.permutation(n).tolist()
    assert epoch2 == gen.permutation(n).tolist()
    rec.seen.clear()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert [i for batch in rec.seen for i in batch] == list(range(n))


def test_callback_hooks_order_params_and_shared_logs():
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rec = Recorder()

    class AddsKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = epoch * 10.0

    hist = model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:3], y[:3]),
                     verbose=0, callbacks=[AddsKey(), rec])
    assert rec.params == {"epochs": 2, "steps": 3, "verbose": 0}
    assert rec.model is model
    epoch = ([("on_epoch_begin", 0)]
             + [(h, i) for i in range(3) for h in ("on_train_batch_begin", "on_train_batch_end")]
             + [("on_test_begin", None), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
                ("on_test_end", None), ("on_epoch_end", 0)])
    second = [(h, 1 if h.startswith("on_epoch") else i) for h, i in epoch]
    assert rec.calls == [("on_train_begin", None)] + epoch + second + [("on_train_end", None)]
    assert hist.history["extra"] == [0.0, 10.0]   # History saw the key an earlier callback set


def test_stop_training_ends_after_current_epoch_or_batch():
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")

    class StopAtEpoch1(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    assert len(model.fit(x, y, epochs=10, verbose=0, callbacks=[StopAtEpoch1()]).epoch) == 2
    rec = Recorder()

    class StopAtBatch1(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    hist = model.fit(x, y, batch_size=2, epochs=3, verbose=0, callbacks=[StopAtBatch1(), rec])
    assert [c for c in rec.calls if c[0] == "on_train_batch_end"] == [
        ("on_train_batch_end", 0), ("on_train_batch_end", 1)]
    assert hist.epoch == [0]


def test_verbose_zero_prints_nothing_and_verbose_one_prints_epochs(capsys):
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out


# ---- evaluate / predict / single batches ----------------------------------------------------
def test_return_types_of_evaluate_and_single_batch_methods():
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert isinstance(model.train_on_batch(x, y), float)
    assert isinstance(model.test_on_batch(x, y), float)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    res = model.evaluate(x, y, verbose=0)
    acc = float((np_forward(model.get_weights(), x).argmax(1) == y).mean())
    assert res == pytest.approx([np_ce(model.get_weights(), x, y), acc], rel=1e-5)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        {"accuracy": res[1], "loss": res[0]})
    assert len(model.train_on_batch(x, y)) == 2
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"accuracy", "loss"}


def test_train_on_batch_returns_pre_update_loss_and_steps_once():
    x, y = small_data(n=10)
    model = small_model()
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.5),
                  loss="sparse_categorical_crossentropy")
    w0 = model.get_weights()
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(np_ce(w0, x, y), rel=1e-5)
    w1 = model.get_weights()
    assert not np.allclose(w0[0], w1[0])
    assert model.optimizer.iterations == 1
    assert model.test_on_batch(x, y) == pytest.approx(np_ce(w1, x, y), rel=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(w1, model.get_weights()))


def test_predict_is_inference_mode_batched_and_graph_free():
    x, _ = small_data(n=23)
    mg.random.seed(0)
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                        layers.Dropout(0.5), layers.Dense(3, activation="softmax")])
    p = model.predict(x, batch_size=5, verbose=0)
    assert isinstance(p, np.ndarray) and p.shape == (23, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p, np_forward(model.get_weights(), x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(p, model.predict(x, batch_size=100, verbose=0))
    with mg.no_grad():
        np.testing.assert_array_equal(p[:5], model(x[:5]).data)


def test_evaluate_uses_batchnorm_moving_statistics(digits8):
    x, y, _, _ = digits8
    mg.random.seed(0)
    model = Sequential([layers.Dense(16, input_shape=(64,)), layers.BatchNormalization(),
                        layers.Activation("relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:200], y[:200], epochs=1, verbose=0)
    with mg.no_grad():
        p = model(x[:50], training=False).data.astype(np.float64)
    manual = -np.log(np.clip(p[np.arange(50), y[:50]], 1e-7, 1 - 1e-7)).mean()
    assert model.evaluate(x[:50], y[:50], verbose=0) == pytest.approx(manual, rel=1e-5)


# ---- the container ----------------------------------------------------------------------------
def test_immediate_build_summary_and_weight_order(capsys):
    model = Sequential([mg.Input(shape=(28, 28)), layers.Flatten(name="flat"),
                        layers.Dense(128, activation="relu", name="hidden"),
                        layers.Dense(10, activation="softmax", name="out")])
    assert model.built and len(model.layers) == 3
    assert [w.shape for w in model.weights] == [(784, 128), (128,), (128, 10), (10,)]
    model.summary()
    out = capsys.readouterr().out
    for text in ("flat (Flatten)", "hidden (Dense)", "(None, 784)", "(None, 128)",
                 "(None, 10)", str(784 * 128 + 128), str(128 * 10 + 10),
                 f"Total params: {784 * 128 + 128 + 128 * 10 + 10:,}",
                 "Trainable params", "Non-trainable params: 0"):
        assert text in out, text
    model.set_weights([np.ones(s, np.float32) for s in ((784, 128), (128,), (128, 10), (10,))])
    assert float(model.layers[1].kernel.data.sum()) == 784 * 128


def test_summary_counts_non_trainable_batchnorm_statistics(capsys):
    model = Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()])
    model.summary()
    out = capsys.readouterr().out
    assert "Non-trainable params: 8" in out and "Trainable params: 24" in out


def test_unbuilt_model_summary_explains_how_to_build():
    model = Sequential([layers.Dense(4)])
    with pytest.raises(ValueError, match="input_shape"):
        model.summary()
    model(np.zeros((2, 5), np.float32))
    assert model.built and model.input_shape == (None, 5)


def test_duplicate_layer_names_raise():
    model = Sequential([layers.Dense(2, name="d", input_shape=(3,))])
    with pytest.raises(ValueError, match="duplicate layer name 'd'"):
        model.add(layers.Dense(2, name="d"))


def test_losses_collects_layer_penalties():
    model = small_model(kernel_regularizer=mg.regularizers.l1(0.1))
    (term,) = model.losses
    k = model.layers[0].kernel.data.astype(np.float64)
    assert float(term.data) == pytest.approx(0.1 * np.abs(k).sum(), rel=1e-5)


# ---- bad input ---------------------------------------------------------------------------------
def test_fit_before_compile_says_call_compile():
    x, y = small_data()
    with pytest.raises(RuntimeError, match="compile"):
        small_model().fit(x, y, verbose=0)


@pytest.fixture
def compiled():
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_length_mismatch_names_both_counts(compiled):
    x, y = small_data(n=10)
    with pytest.raises(ValueError, match=r"x has 10, y has 9"):
        compiled.fit(x, y[:9], verbose=0)


def test_non_finite_inputs_name_the_rows(compiled):
    x, y = small_data(n=10)
    x[3, 1], x[7, 0] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"x contains NaN or inf in 2 of 10 rows \(rows 3, 7\)"):
        compiled.fit(x, y, verbose=0)
    x, _ = small_data(n=10)
    yf = y.astype(np.float32)
    yf[4] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN or inf .*rows 4"):
        compiled.fit(x, yf, verbose=0)


def test_labels_out_of_range_raise_from_the_loss(compiled):
    x, y = small_data(n=10)
    y[2] = 3
    with pytest.raises(ValueError, match=r"label 3 is outside \[0, 3\)"):
        compiled.fit(x, y, verbose=0)


def test_wrong_input_shape_names_both_shapes(compiled):
    with pytest.raises(ValueError, match=r"\(None, 4\).*\(10, 5\)"):
        compiled.fit(np.zeros((10, 5), np.float32), np.zeros(10, int), verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"optimizer": "adamx"}, "Unknown optimizer 'adamx'; valid names: .*adam"),
    ({"loss": "crossentropy"}, "Unknown loss 'crossentropy'; valid names: .*mse"),
    ({"metrics": ["precison"]}, "Unknown metric 'precison'; valid names: .*accuracy"),
])
def test_unknown_strings_list_valid_names(kwargs, match):
    args = {"optimizer": "sgd", "loss": "mse", **kwargs}
    with pytest.raises(ValueError, match=match):
        small_model().compile(**args)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_bad_batch_size(compiled, batch_size):
    x, y = small_data()
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        compiled.fit(x, y, batch_size=batch_size, verbose=0)


def test_empty_data(compiled):
    with pytest.raises(ValueError, match="x is empty"):
        compiled.fit(np.zeros((0, 4), np.float32), np.zeros(0, int), verbose=0)
    with pytest.raises(ValueError, match="x is empty"):
        compiled.predict(np.zeros((0, 4), np.float32), verbose=0)


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2"])
def test_validation_split_outside_unit_interval(compiled, split):
    x, y = small_data()
    with pytest.raises(ValueError, match=r"validation_split must be a float in \[0, 1\)"):
        compiled.fit(x, y, validation_split=split, verbose=0)


def test_validation_split_too_small_for_the_data(compiled):
    x, y = small_data(n=1)
    with pytest.raises(ValueError, match="not enough to split"):
        compiled.fit(x, y, validation_split=0.5, verbose=0)


@pytest.mark.parametrize("epochs", [2.5, -1, True, "3"])
def test_fit_rejects_a_bad_epoch_count(epochs):
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=epochs, verbose=0)


# ---- issue 12: the Keras training surface, each case from the issue ---------------------------
def regression_data(n=256, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x, x.sum(axis=1)                                   # y of shape (n,)


def linear_model(d=8, seed=0):
    mg.random.seed(seed)
    return Sequential([layers.Input(shape=(d,)), layers.Dense(1)])


def test_custom_lambda_loss_with_n_labels_trains_like_builtin_mse():
    """Issue 12: ``loss=lambda t, p: ((t - p) ** 2).mean()`` with y (n,) against a (n, 1)
    output broadcast to (n, n) and ended at MSE 7.8 (var(y) 8.4); Keras aligns (n,) to (n, 1)
    first and reaches 0.000, exactly as its built-in "mse"."""
    x, y = regression_data()
    histories, final = [], []
    for loss in (lambda t, p: ((t - p) ** 2).mean(), "mse",
                 lambda t, p: ((t - p) ** 2).mean(axis=-1)):          # per-sample convention
        m = linear_model()
        m.compile(loss=loss, optimizer=mg.optimizers.Adam(0.05))
        histories.append(m.fit(x, y, epochs=30, verbose=0).history["loss"])
        final.append(m.evaluate(x, y, verbose=0))
    assert histories[0] == histories[1] == histories[2]
    assert final[0] == final[1] < 1e-3 < y.var()


def test_keras_tutorial_huber_fn_written_with_ops_equals_builtin_huber():
    """Issue 12: the Keras 3 tutorial's huber_fn (keras.ops.abs, square, where) as a custom
    loss, y (n,) against a (n, 1) output: the same History as losses.Huber()."""
    def huber_fn(y_true, y_pred):
        error = y_true - y_pred
        is_small_error = mg.ops.abs(error) < 1
        squared_loss = mg.ops.square(error) / 2
        linear_loss = mg.ops.abs(error) - 0.5
        return mg.ops.where(is_small_error, squared_loss, linear_loss)

    x, y = regression_data(n=64)
    runs = []
    for loss in (huber_fn, mg.losses.Huber()):
        m = linear_model()
        m.compile(loss=loss, optimizer=mg.optimizers.SGD(0.05))
        runs.append(m.fit(x, y, epochs=3, verbose=0).history["loss"])
    assert runs[0] == runs[1]


def test_loss_subclass_with_call_trains_and_names_itself():
    class MeanSquared(mg.losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_true - y_pred) ** 2).mean(axis=-1)

    x, y = regression_data()
    runs = []
    for loss in (MeanSquared(), "mse"):
        m = linear_model()
        m.compile(loss=loss, optimizer=mg.optimizers.Adam(0.05))
        runs.append(m.fit(x, y.reshape(-1, 1), epochs=5, verbose=0).history["loss"])
    assert runs[0] == runs[1] and MeanSquared().name == "mean_squared"


def test_sample_weight_weights_the_loss_and_weighted_metrics_only():
    """Keras 3: loss = sum_i w_i l_i / n per batch; ``weighted_metrics`` are weighted means
    sum w v / sum w; ``metrics`` ignore the weights."""
    x, y = regression_data(n=12)
    y = y.reshape(-1, 1)
    w = np.linspace(0.0, 2.0, 12)
    m = linear_model()
    m.compile(loss="mse", optimizer="sgd", metrics=["mae"], weighted_metrics=["mae", "mse"])
    logs = m.evaluate(x, y, sample_weight=w, batch_size=5, return_dict=True, verbose=0)
    pred = x.astype(np.float64) @ m.get_weights()[0].astype(np.float64) + m.get_weights()[1]
    se, ae = ((pred - y) ** 2)[:, 0], np.abs(pred - y)[:, 0]
    batch_losses = [(se[i:i + 5] * w[i:i + 5]).sum() / len(se[i:i + 5]) for i in (0, 5, 10)]
    assert list(logs) == ["mae", "weighted_mae", "mse", "loss"]
    assert logs["loss"] == pytest.approx(np.dot(batch_losses, [5, 5, 2]) / 12, rel=1e-5)
    assert logs["mae"] == pytest.approx(ae.mean(), rel=1e-5)
    assert logs["weighted_mae"] == pytest.approx(np.dot(ae, w) / w.sum(), rel=1e-5)
    assert logs["mse"] == pytest.approx(np.dot(se, w) / w.sum(), rel=1e-5)
    assert m.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0) == \
        [logs["loss"], logs["mae"], logs["weighted_mae"], logs["mse"]]
    assert m.metrics_names == ["loss", "mae", "weighted_mae", "mse"]


def test_validation_split_splits_sample_weights_and_single_batches_take_weights():
    x, y = regression_data(n=10, d=2)
    w = [1.0] * 8 + [0.0, 0.0]                           # the last 2 rows validate
    m = linear_model(d=2)
    m.compile(loss="mse", optimizer="sgd", weighted_metrics=["mse"])
    h = m.fit(x, y, sample_weight=w, validation_split=0.2, epochs=1, verbose=0).history
    assert h["val_mse"] == [0.0] and h["val_loss"] == [0.0]
    m.compile(loss="binary_crossentropy", optimizer="sgd")
    lab = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])
    m.train_on_batch(x[:3], lab[:3], class_weight={0: 1.0, 1: 2.0, 5: 3.0})   # 5 absent: ok
    one = m.test_on_batch(x, lab, sample_weight=np.zeros(10))
    assert one == 0.0


def test_fit_with_sample_weight_steps_the_weighted_gradient():
    x, y = regression_data(n=6, d=2)
    w = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 3.0])
    m = linear_model(d=2)
    m.compile(loss="mse", optimizer=mg.optimizers.SGD(0.1))
    k0, b0 = (a.astype(np.float64) for a in m.get_weights())
    m.fit(x, y, sample_weight=w, batch_size=6, epochs=1, shuffle=False, verbose=0)
    r = (x.astype(np.float64) @ k0 + b0)[:, 0] - y            # d/dp of sum w r**2 / n
    g = 2 * w * r / 6
    assert np.allclose(m.get_weights()[0], k0 - 0.1 * (x.T @ g)[:, None], rtol=1e-5)
    assert np.allclose(m.get_weights()[1], b0 - 0.1 * g.sum(), rtol=1e-5)


def test_fit_accepts_the_keras_arguments_of_issue_12():
    x, y = small_data(n=40)
    m = small_model()
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    rec = Recorder()
    h = m.fit(x, y, epochs=3, steps_per_epoch=2, batch_size=8, validation_data=(x, y),
              validation_steps=1, validation_batch_size=4, validation_freq=[2, 3],
              class_weight={0: 1.0, 1: 2.0, 2: 0.5}, initial_epoch=1, verbose=0,
              callbacks=[rec])
    assert h.epoch == [1, 2] and sorted(h.history) == ["accuracy", "loss", "val_accuracy",
                                                         "val_loss"]
    assert [c for c in rec.calls if c[0] == "on_train_batch_end"] == \
        [("on_train_batch_end", i) for i in (0, 1, 0, 1)]
    assert [c for c in rec.calls if c[0] == "on_test_batch_end"] == \
        [("on_test_batch_end", 0)] * 2
    assert isinstance(m.evaluate(x, y, steps=2, verbose=0), list)

    def gen():
        while True:
            yield x[:8], y[:8]
    h = m.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2


# ---- optional oracle: the same fits in Keras 3 on the torch backend ---------------------------
_KERAS_FITS = """
d = np.load(sys.argv[1])
x, y, w, lab, k, b = (d[n] for n in ("x", "y", "w", "lab", "k", "b"))
def fit(loss, target, act=None, **kw):
    m = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1, activation=act)])
    m.set_weights([k, b])
    m.compile(loss=loss, optimizer=keras.optimizers.SGD(0.05), metrics=["mae"],
              weighted_metrics=["mae"])
    return m.fit(x, target, batch_size=8, epochs=3, shuffle=False, verbose=0, **kw).history
out = {"lambda": fit(lambda t, p: (t - p) ** 2, y),
       "weighted": fit("mse", y, sample_weight=w),
       "class_weight": fit("binary_crossentropy", lab, act="sigmoid",
                           class_weight={0: 0.5, 1: 2.0})}
json.dump(out, open(sys.argv[2], "w"))
"""


def test_keras_oracle_custom_loss_sample_and_class_weights(tmp_path):
    """The issue's cases run in Keras 3.15 and here from the same weights: a custom per-element
    loss with y (n,) against (n, 1), sample weights with metrics and weighted_metrics, and
    class weights; every History value must agree."""
    x, y = regression_data(n=20, d=3)
    rng = np.random.default_rng(1)
    w = rng.random(20).astype(np.float32)
    lab = (y > 0).astype(np.int64)
    k = rng.normal(size=(3, 1)).astype(np.float32) * 0.3
    b = np.zeros(1, np.float32)
    np.savez(tmp_path / "in.npz", x=x, y=y, w=w, lab=lab, k=k, b=b)
    run_keras(_KERAS_FITS, str(tmp_path / "in.npz"), str(tmp_path / "out.json"))
    ref = json.loads((tmp_path / "out.json").read_text())

    def fit(loss, target, act=None, **kw):
        m = Sequential([layers.Input(shape=(3,)), layers.Dense(1, activation=act)])
        m.set_weights([k, b])
        m.compile(loss=loss, optimizer=mg.optimizers.SGD(0.05), metrics=["mae"],
                  weighted_metrics=["mae"])
        return m.fit(x, target, batch_size=8, epochs=3, shuffle=False, verbose=0,
                     **kw).history
    ours = {"lambda": fit(lambda t, p: (t - p) ** 2, y),
            "weighted": fit("mse", y, sample_weight=w),
            "class_weight": fit("binary_crossentropy", lab, act="sigmoid",
                                class_weight={0: 0.5, 1: 2.0})}
    for case, hist in ours.items():
        assert set(hist) == set(ref[case]), (case, hist.keys(), ref[case].keys())
        for key, values in hist.items():
            assert np.allclose(values, ref[case][key], rtol=2e-4, atol=1e-6), (case, key)


# ---- several inputs and outputs with sample weights and data adapters (issues 11 + 12) --------
def two_output_model(seed=0):
    """x (4,) -> "a": Dense(2) (regression), "b": Dense(3, softmax) (classes)."""
    mg.random.seed(seed)
    inp = mg.Input((4,), name="x")
    a = layers.Dense(2, name="a")(inp)
    b = layers.Dense(3, activation="softmax", name="b")(inp)
    return mg.Model(inp, [a, b])


def two_output_data(n=12, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    ya = rng.normal(size=(n, 2)).astype(np.float32)
    yb = rng.integers(0, 3, size=n)
    w = rng.uniform(0.2, 2.0, size=n).astype(np.float32)
    return x, ya, yb, w


def np_two_output_terms(weights, x, ya, yb):
    """float64 per-sample losses and values of the two-output model: (mse_i, ce_i, abs_i,
    hit_i)."""
    ka, ba, kb, bb = (np.asarray(v, np.float64) for v in weights)
    pa = x.astype(np.float64) @ ka + ba
    z = x.astype(np.float64) @ kb + bb
    pb = np.exp(z - z.max(axis=1, keepdims=True))
    pb /= pb.sum(axis=1, keepdims=True)
    mse = ((pa - ya) ** 2).mean(axis=1)
    ce = -np.log(np.clip(pb[np.arange(len(yb)), yb], 1e-7, 1 - 1e-7))
    return mse, ce, np.abs(pa - ya).mean(axis=1), (pb.argmax(axis=1) == yb).astype(float), \
        pa, pb


def compile_two_output(model, lr=0.1):
    model.compile(optimizer=mg.optimizers.SGD(lr),
                  loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.7, 0.3],
                  metrics=[["mae"], []], weighted_metrics=[["mae"], ["accuracy"]])


def test_two_output_fit_with_sample_weight_is_the_hand_computed_weighted_loss_and_step():
    """Keras 3: the one sample weight applies to every output's loss; each output's loss is
    sum_i w_i l_i / n (sum_over_batch_size), the total sum_k loss_weight_k * loss_k; the
    ``<output>_loss`` logs are unweighted by loss_weights; ``metrics`` stay unweighted and
    ``weighted_metrics`` are sum(w m) / sum(w). One batch per epoch: the History value is the
    loss of the initial weights, and the SGD step follows the weighted gradient."""
    x, ya, yb, w = two_output_data()
    n = len(x)
    model = two_output_model()
    compile_two_output(model, lr=0.1)
    w0 = [v.astype(np.float64) for v in model.get_weights()]
    mse, ce, ae, hit, pa, pb = np_two_output_terms(w0, x, ya, yb)
    la, lb = (w * mse).sum() / n, (w * ce).sum() / n
    hist = model.fit(x, [ya, yb], sample_weight=w, batch_size=n, epochs=1, shuffle=False,
                     verbose=0).history
    assert list(hist) == ["a_loss", "b_loss", "a_mae", "a_weighted_mae", "b_accuracy", "loss"]
    assert model.metrics_names == ["loss", "a_loss", "b_loss", "a_mae", "a_weighted_mae",
                                   "b_accuracy"]
    np.testing.assert_allclose(hist["loss"][0], 0.7 * la + 0.3 * lb, rtol=1e-5)
    np.testing.assert_allclose([hist["a_loss"][0], hist["b_loss"][0]], [la, lb], rtol=1e-5)
    np.testing.assert_allclose(hist["a_mae"][0], ae.mean(), rtol=1e-5)
    np.testing.assert_allclose(hist["a_weighted_mae"][0], (w * ae).sum() / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(hist["b_accuracy"][0], (w * hit).sum() / w.sum(), rtol=1e-5)
    # d total / d logits: 0.7 * w_i * 2 (pa - ya) / (2 n) for "a"; 0.3 * w_i (pb - onehot) / n
    ga = 0.7 * w[:, None] * (pa - ya) / n
    gb = 0.3 * w[:, None] * (pb - np.eye(3)[yb]) / n
    x64 = x.astype(np.float64)
    want = [w0[0] - 0.1 * x64.T @ ga, w0[1] - 0.1 * ga.sum(0),
            w0[2] - 0.1 * x64.T @ gb, w0[3] - 0.1 * gb.sum(0)]
    for got, ref in zip(model.get_weights(), want):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_two_output_sample_weight_per_output_and_batched_evaluate():
    """A dict of sample weights by output name weights only the outputs it names (Keras's
    CompileLoss resolves the weight by output); evaluate over several batches gives the
    whole-set value (the batch-size-weighted mean of sum_batch(w l) / n_batch)."""
    x, ya, yb, w = two_output_data(n=20, seed=3)
    model = two_output_model(seed=1)
    compile_two_output(model)
    mse, ce, ae, hit, _, _ = np_two_output_terms(model.get_weights(), x, ya, yb)
    n = len(x)
    logs = model.evaluate(x, {"b": yb, "a": ya}, sample_weight={"a": w}, batch_size=6,
                          verbose=0, return_dict=True)
    np.testing.assert_allclose([logs["a_loss"], logs["b_loss"]],
                               [(w * mse).sum() / n, ce.mean()], rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.7 * (w * mse).sum() / n + 0.3 * ce.mean(),
                               rtol=1e-5)
    np.testing.assert_allclose(logs["a_weighted_mae"], (w * ae).sum() / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(logs["b_accuracy"], hit.mean(), rtol=1e-5)
    values = model.evaluate(x, [ya, yb], sample_weight=[w, None], batch_size=6, verbose=0)
    assert values == [logs[k] for k in ["loss", "a_loss", "b_loss", "a_mae", "a_weighted_mae",
                                        "b_accuracy"]]
    with pytest.raises(ValueError, match=r"sample_weight names \['c'\], which are not outputs"):
        model.evaluate(x, [ya, yb], sample_weight={"c": w}, verbose=0)
    with pytest.raises(ValueError, match="sample_weight is a list of 3 arrays, but the model "
                                         "has 2 outputs"):
        model.evaluate(x, [ya, yb], sample_weight=[w, w, w], verbose=0)
    with pytest.raises(ValueError, match="class_weight is only supported for models with a "
                                         "single output"):
        model.fit(x, [ya, yb], class_weight={0: 1.0}, verbose=0)


def two_input_model(seed=0):
    mg.random.seed(seed)
    wide, deep = mg.Input((3,), name="wide"), mg.Input((4,), name="deep")
    h = layers.Dense(5, activation="tanh", name="h")(deep)
    out = layers.Dense(1, name="out")(layers.Concatenate()([wide, h]))
    model = mg.Model([wide, deep], out)
    model.compile(optimizer=mg.optimizers.SGD(0.05), loss="mse", weighted_metrics=["mae"])
    return model


@pytest.mark.parametrize("form", ["list", "dict"])
def test_two_input_fit_from_a_generator_gives_the_history_of_the_arrays(form):
    """A generator yielding ([x1, x2], y, w) (or a dict by input name), with steps_per_epoch,
    trains exactly as fit on the arrays with sample_weight (same batches, no shuffling)."""
    rng = np.random.default_rng(11)
    n, bs = 24, 8
    xw, xd = rng.normal(size=(n, 3)), rng.normal(size=(n, 4))
    y, w = rng.normal(size=(n, 1)), rng.uniform(0.5, 1.5, size=n)
    val = ([xw[:6], xd[:6]], y[:6])

    def inputs(sl):
        return [xw[sl], xd[sl]] if form == "list" else {"deep": xd[sl], "wide": xw[sl]}

    def forever():
        while True:
            for i in range(0, n, bs):
                sl = slice(i, i + bs)
                yield inputs(sl), y[sl], w[sl]

    ref = two_input_model()
    want = ref.fit(inputs(slice(None)), y, sample_weight=w, batch_size=bs, epochs=3,
                   shuffle=False, validation_data=val, verbose=0).history
    model = two_input_model()
    got = model.fit(forever(), steps_per_epoch=n // bs, epochs=3, validation_data=val,
                    verbose=0).history
    assert list(got) == ["mae", "loss", "val_mae", "val_loss"]
    assert got == want
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(forever(), steps=n // bs, verbose=0),
                                  ref.predict(inputs(slice(None)), verbose=0))


def test_two_output_fit_from_a_pydataset_gives_the_history_of_the_arrays():
    """A PyDataset yielding (x, {"a": ya, "b": yb}, w): per-output losses, loss weights,
    weighted metrics and validation as with the arrays."""
    x, ya, yb, w = two_output_data(n=24, seed=5)
    bs = 8

    class Batches(mg.utils.PyDataset):
        def __len__(self):
            return len(x) // bs

        def __getitem__(self, i):
            sl = slice(i * bs, (i + 1) * bs)
            return x[sl], {"b": yb[sl], "a": ya[sl]}, w[sl]

    ref = two_output_model(seed=2)
    compile_two_output(ref)
    want = ref.fit(x, [ya, yb], sample_weight=w, batch_size=bs, epochs=2, shuffle=False,
                   validation_data=(x[:8], [ya[:8], yb[:8]], w[:8]), verbose=0).history
    model = two_output_model(seed=2)
    compile_two_output(model)
    got = model.fit(Batches(), epochs=2, shuffle=False,
                    validation_data=(x[:8], {"a": ya[:8], "b": yb[:8]}, w[:8]),
                    verbose=0).history
    assert got == want and "val_b_accuracy" in got


def test_subclassed_model_is_built_from_the_first_generator_batch_before_callbacks():
    """fit builds an unbuilt model before the callbacks see it (Keras), also from a generator:
    the first batch is peeked at and still trained on."""
    class Net(mg.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs, training=None):
            return self.dense(inputs)

    class Weights(Callback):
        def on_train_begin(self, logs=None):
            self.count = len(self.model.weights)

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    mg.random.seed(0)
    model = Net()
    model.compile("sgd", "mse")
    seen = Weights()
    batches = Recorder()
    model.fit(((x[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)), epochs=1, verbose=0,
              callbacks=[seen, batches])
    assert seen.count == 2
    assert [c for c in batches.calls if c[0] == "on_train_batch_end"] == \
        [("on_train_batch_end", i) for i in range(4)]


_KERAS_TWO_OUTPUTS = """
d = np.load(sys.argv[1])
inp = keras.Input((4,), name="x")
m = keras.Model(inp, [keras.layers.Dense(2, name="a")(inp),
                      keras.layers.Dense(3, activation="softmax", name="b")(inp)])
m.set_weights([d["ka"], d["ba"], d["kb"], d["bb"]])
m.compile(optimizer=keras.optimizers.SGD(0.1),
          loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.7, 0.3],
          metrics=[["mae"], []], weighted_metrics=[["mae"], ["accuracy"]])
h = m.fit(d["x"], [d["ya"], d["yb"]], sample_weight=d["w"], batch_size=5, epochs=3,
          shuffle=False, verbose=0).history
json.dump({k: [float(v) for v in vs] for k, vs in h.items()}, open(sys.argv[2], "w"))
"""


def test_keras_oracle_two_outputs_with_sample_weight_loss_weights_and_weighted_metrics(
        tmp_path):
    """The same two-output fit in Keras 3.15 (torch backend) and here from the same weights:
    every History key and value agrees."""
    x, ya, yb, w = two_output_data(n=17, seed=9)
    model = two_output_model(seed=4)
    ka, ba, kb, bb = model.get_weights()
    np.savez(tmp_path / "in.npz", x=x, ya=ya, yb=yb, w=w, ka=ka, ba=ba, kb=kb, bb=bb)
    run_keras(_KERAS_TWO_OUTPUTS, str(tmp_path / "in.npz"), str(tmp_path / "out.json"))
    ref = json.loads((tmp_path / "out.json").read_text())
    compile_two_output(model, lr=0.1)
    hist = model.fit(x, [ya, yb], sample_weight=w, batch_size=5, epochs=3, shuffle=False,
                     verbose=0).history
    assert set(hist) == set(ref), (sorted(hist), sorted(ref))
    for key, values in hist.items():
        np.testing.assert_allclose(values, ref[key], rtol=2e-4, atol=1e-6, err_msg=key)
