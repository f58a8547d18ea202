"""Data inputs (models/data_adapters.py): arrays and structures, generators, PyDataset, the
epoch iterator's steps and out-of-data rule (Keras 3.15 trainers/epoch_iterator.py), class
weights, validation sources and frequency, and the bad inputs of issue 12."""
import threading
import time
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from minigrad.callbacks import Callback
from minigrad.models import Sequential
from minigrad.models import data_adapters as da
from minigrad.utils import PyDataset

N, BS = 40, 8
RNG = np.random.default_rng(0)
X = RNG.normal(size=(N, 3)).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5], np.float32)).reshape(-1, 1)


def model(seed=0, **compile_kw):
    mg.utils.set_random_seed(seed)
    m = Sequential([layers.Input(shape=(3,)), layers.Dense(8, activation="tanh"),
                    layers.Dense(1)])
    m.compile(**{"loss": "mse", "optimizer": "sgd", "metrics": ["mae"], **compile_kw})
    return m


def batches(x=X, y=Y, w=None):
    for i in range(0, len(x), BS):
        yield (x[i:i + BS], y[i:i + BS]) if w is None else (x[i:i + BS], y[i:i + BS],
                                                              w[i:i + BS])


def forever(**kw):
    while True:
        yield from batches(**kw)


class Slices(PyDataset):
    def __init__(self, x=X, y=Y, w=None, **kw):
        super().__init__(**kw)
        self.x, self.y, self.w = x, y, w
        self.epoch_ends = 0
        self.threads = set()

    def __len__(self):
        return -(-len(self.x) // BS)

    def __getitem__(self, i):
        self.threads.add(threading.get_ident())
        sl = slice(i * BS, (i + 1) * BS)
        return (self.x[sl], self.y[sl]) if self.w is None else (self.x[sl], self.y[sl],
                                                                 self.w[sl])

    def on_epoch_end(self):
        self.epoch_ends += 1


class Steps(Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.train.append(0)
        self.test.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.train[-1] += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test[-1] += 1


# ---- the same History as the arrays they yield ------------------------------------------------
@pytest.mark.parametrize("source", ["generator", "pydataset", "pydataset_threads"])
def test_generators_and_pydatasets_give_the_history_and_weights_of_their_arrays(source):
    w = RNG.random(N).astype(np.float32)
    ref = model(weighted_metrics=["mse"])
    ref_h = ref.fit(X, Y, sample_weight=w, batch_size=BS, epochs=3, shuffle=False,
                    validation_data=(X[:16], Y[:16], w[:16]), verbose=0).history
    m = model(weighted_metrics=["mse"])
    val = Slices(X[:16], Y[:16], w[:16])
    if source == "generator":
        h = m.fit(forever(w=w), steps_per_epoch=5, epochs=3, verbose=0,
                  validation_data=forever(x=X[:16], y=Y[:16], w=w[:16]),
                  validation_steps=2).history
    else:
        ds = Slices(w=w, workers=3 if source == "pydataset_threads" else 1)
        h = m.fit(ds, epochs=3, shuffle=False, validation_data=val, verbose=0).history
        assert ds.epoch_ends == 3
        if source == "pydataset_threads":
            assert threading.get_ident() not in ds.threads      # fetched on worker threads
    assert h == ref_h
    assert set(h) == {"mae", "mse", "loss", "val_mae", "val_mse", "val_loss"}
    for a, b in zip(m.get_weights(), ref.get_weights()):
        assert np.array_equal(a, b)


def test_pydataset_shuffle_permutes_batch_order_from_minigrad_random():
    seen = []

    class Record(Slices):
        def __getitem__(self, i):
            seen.append(i)
            return super().__getitem__(i)

    m = model()
    mg.random.seed(3)
    m.fit(Record(), epochs=2, shuffle=True, verbose=0)
    mg.random.seed(3)
    g = mg.random.generator()
    expected = list(g.permutation(5)) + list(g.permutation(5))
    assert seen == expected and sorted(seen[:5]) == [0, 1, 2, 3, 4]


# ---- steps, the epoch iterator, progress totals -----------------------------------------------
def test_steps_per_epoch_on_arrays_continues_across_epochs_as_keras():
    """5 batches, 2 steps per epoch: epochs take batches 0-1, 2-3, then 4 and the data is used
    up (Keras warns and ends that epoch short), then a new pass."""
    adapter = da.ArrayAdapter(X, Y, batch_size=BS)
    it = da.EpochIterator(adapter, steps=2)
    firsts = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(4):
            firsts.append([float(xb[0, 0]) for _, (xb, _, _) in it])
    starts = [float(X[i * BS, 0]) for i in range(5)]
    assert firsts == [starts[0:2], starts[2:4], starts[4:5], starts[0:2]]
    assert len(caught) == 1 and "ran out of data" in str(caught[0].message)
    assert not it.ran_out                              # arrays start a new pass


def test_progress_total_is_unknown_for_a_generator_and_known_with_steps():
    params = []

    class Params(Callback):
        def on_train_begin(self, logs=None):
            params.append(self.params["steps"])

    model().fit(batches(), epochs=1, verbose=0, callbacks=[Params()])
    model().fit(forever(), steps_per_epoch=3, epochs=1, verbose=0, callbacks=[Params()])
    model().fit(Slices(), epochs=1, verbose=0, callbacks=[Params()])
    assert params == [None, 3, 5]


def test_progress_bar_shows_an_unknown_total_as_keras(capsys):
    def slow():                       # the bar prints at most one line per 50 ms off a terminal
        for b in batches():
            time.sleep(0.06)
            yield b
    model().fit(slow(), epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "/Unknown" in out and out.rstrip().splitlines()[-1].startswith("5/5 ")


def test_evaluate_and_predict_steps_and_streams():
    m = model()
    full = m.evaluate(X, Y, batch_size=BS, return_dict=True, verbose=0)
    assert m.evaluate(batches(), return_dict=True, verbose=0) == full
    assert m.evaluate(Slices(), return_dict=True, verbose=0) == full
    two = m.evaluate(X, Y, batch_size=BS, steps=2, return_dict=True, verbose=0)
    assert two == m.evaluate(X[:16], Y[:16], batch_size=BS, return_dict=True, verbose=0)
    pred = m.predict(X, batch_size=BS, verbose=0)
    assert np.array_equal(m.predict((xb for xb, _ in batches()), verbose=0), pred)
    assert np.array_equal(m.predict(Slices(), verbose=0), pred)
    assert np.array_equal(m.predict(X, batch_size=BS, steps=3, verbose=0), pred[:24])


def test_validation_freq_validation_batch_size_and_initial_epoch():
    steps = Steps()
    h = model().fit(X, Y, batch_size=BS, epochs=5, initial_epoch=1, verbose=0,
                    validation_data=(X[:20], Y[:20]), validation_batch_size=4,
                    validation_freq=2, callbacks=[steps])
    assert steps.train == [5] * 4 and steps.test == [5, 0, 5, 0]     # epochs 2 and 4 (1-based)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    steps = Steps()
    model().fit(X, Y, batch_size=BS, epochs=3, verbose=0, validation_data=(X, Y),
                validation_freq=[1, 3], validation_steps=2, callbacks=[steps])
    assert steps.test == [2, 0, 2]


# ---- class weights ----------------------------------------------------------------------------
def test_class_weight_becomes_sample_weights_as_keras():
    ids = np.array([0, 2, 1, 2])
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    for y in (ids, ids.reshape(-1, 1), np.eye(3)[ids], ids.astype(np.float32)):
        w = da.class_weight_to_sample_weights(y, cw, "fit")
        assert np.array_equal(w, [1.0, 0.5, 3.0, 0.5])
    assert np.array_equal(da.class_weight_to_sample_weights(ids, {1: 2.0}, "fit"),
                          [1.0, 1.0, 2.0, 1.0])                     # unnamed classes: 1.0


def test_fit_with_class_weight_equals_fit_with_those_sample_weights():
    labels = (Y[:, 0] > 0).astype(np.int64)
    cw = {0: 0.25, 1: 2.0}
    kw = {"loss": "binary_crossentropy", "weighted_metrics": ["binary_accuracy"]}
    a = model(**kw).fit(X, labels, class_weight=cw, batch_size=BS, epochs=2, verbose=0)
    b = model(**kw).fit(X, labels, sample_weight=np.where(labels == 1, 2.0, 0.25),
                        batch_size=BS, epochs=2, verbose=0)
    c = model(**kw).fit(forever(y=labels), class_weight=cw, steps_per_epoch=5, epochs=2,
                        verbose=0)
    d = model(**kw).fit(X, labels, class_weight=cw, batch_size=BS, epochs=2, verbose=0,
                        shuffle=False)
    assert a.history == b.history and c.history == d.history


# ---- structures -------------------------------------------------------------------------------
def test_lists_and_dicts_of_arrays_are_sliced_alike_and_passed_through():
    ones = np.ones((10, 2))
    x = {"a": np.arange(10.0).reshape(10, 1), "b": [ones, 2 * ones]}
    adapter = da.get_adapter(model(), x, np.arange(10), batch_size=4, shuffle=True)
    rows = []
    for xb, yb, wb in adapter.batches():
        assert set(xb) == {"a", "b"} and isinstance(xb["b"], list) and wb is None
        assert xb["a"].dtype == np.float32 and np.array_equal(xb["a"][:, 0], yb)
        rows += list(yb)
    assert sorted(rows) == list(range(10)) and rows != list(range(10))
    with pytest.raises(ValueError, match=r"every array in x must have the same number of "
                                         r"samples, got \[9, 10\]"):
        da.get_adapter(model(), [np.ones((10, 2)), np.ones((9, 2))], np.ones(10))


# ---- bad input (issue 12) ---------------------------------------------------------------------
def test_generator_of_the_wrong_structure_names_what_it_expected_and_got():
    with pytest.raises(ValueError, match=r"fit: the generator must yield a tuple \(x, y\) or "
                                         r"\(x, y, sample_weight\); it yielded ndarray of "
                                         r"shape \(8, 3\)"):
        model().fit((xb for xb, _ in batches()), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"it yielded a tuple of 4 items"):
        model().fit(((xb, yb, yb, yb) for xb, yb in batches()), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"the PyDataset must yield .*; it yielded a dict"):
        class Dicts(Slices):
            def __getitem__(self, i):
                return {"x": X[:8], "y": Y[:8]}
        model().fit(Dicts(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"generator batch\): x and y must have the same "
                                         r"number of samples: x has 8, y has 7"):
        model().fit(((xb, yb[:7]) for xb, yb in batches()), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="y must not be given when x is a generator"):
        model().fit(batches(), Y, epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"x must be numeric, got an array of dtype object "
                                        r"\(pass a Python generator itself"):
        model().fit(np.array([batches(), batches()], dtype=object), Y[:2], verbose=0)


def test_one_shot_generator_exhausted_after_the_first_epoch_warns_and_stops():
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        h = model().fit(batches(), epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1                # no empty epochs logged


def test_steps_per_epoch_beyond_the_generator_warns_and_stops_after_that_epoch():
    steps = Steps()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = model().fit(batches(), steps_per_epoch=3, epochs=4, verbose=0, callbacks=[steps])
    assert steps.train == [3, 2] and len(h.history["loss"]) == 2


def test_sample_weight_of_the_wrong_length_and_class_weight_errors():
    with pytest.raises(ValueError, match=r"fit: sample_weight must have one weight per sample: "
                                         r"x has 40 samples, sample_weight has 39"):
        model().fit(X, Y, sample_weight=np.ones(39), verbose=0)
    labels = (Y[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=r"class_weight names classes \[2\] that never occur "
                                         r"in y \(classes present: \[0, 1\]\)"):
        model().fit(X, labels, class_weight={0: 1.0, 2: 5.0}, verbose=0)
    with pytest.raises(ValueError, match="class_weight keys must be class indices"):
        model().fit(X, labels, class_weight={"cat": 1.0}, verbose=0)
    with pytest.raises(ValueError, match="cannot use class_weight and sample_weight"):
        model().fit(X, labels, class_weight={0: 1.0}, sample_weight=np.ones(N), verbose=0)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        model().fit(batches(), validation_split=0.2, verbose=0)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch must be a positive integer"),
    ({"steps_per_epoch": 2.5}, TypeError, "steps_per_epoch must be a positive integer"),
    ({"validation_freq": 0}, ValueError, "validation_freq must be >= 1"),
    ({"validation_freq": "2"}, TypeError, "validation_freq must be an int or a list"),
    ({"validation_batch_size": -1}, ValueError, "batch_size must be a positive integer"),
])
def test_bad_fit_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        model().fit(X, Y, verbose=0, **kwargs)


def test_a_used_up_validation_generator_raises_clearly():
    with pytest.raises(ValueError, match=r"fit \(validation_data\): the data gave no batch"), \
            pytest.warns(UserWarning, match="ran out of data"):
        model().fit(X, Y, epochs=2, verbose=0, validation_data=batches())
