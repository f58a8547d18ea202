"""The BLAS threading policy (minigrad._threads): one thread for small GEMMs, an outer limit
caps it, decided once per step signature, fit restores the count it found."""
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import minigrad as mg
from minigrad import _threads
from minigrad import layers as L


class FakeLib:
    """A BLAS library controller that records every set."""

    def __init__(self, n):
        self.n, self.sets = n, []

    def get_num_threads(self):
        return self.n

    def set_num_threads(self, n):
        self.n = n
        self.sets.append(n)


@pytest.fixture
def fake():
    """The policy wired to a fake 2-thread BLAS (restored afterwards)."""
    saved = (_threads.policy._libs, _threads.policy.ours, _threads.policy.outer)
    lib = FakeLib(2)
    _threads.policy._libs, _threads.policy.ours, _threads.policy.outer = [lib], None, None
    yield lib
    _threads.policy._libs, _threads.policy.ours, _threads.policy.outer = saved


def _mlp(sizes, batch_in):
    model = mg.models.Sequential([L.Input((batch_in,))] +
                                 [L.Dense(u, activation="relu") for u in sizes])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_step_macs_is_the_largest_forward_gemm():
    ws = [np.zeros((784, 128)), np.zeros(128), np.zeros((128, 10)), np.zeros(10)]
    assert _threads.step_macs(ws, 32) == 32 * 784 * 128
    assert _threads.step_macs([np.zeros(5)], 32) == 0


def test_threads_for_the_crossover():
    t = _threads.TWO_THREADS_MIN_MACS
    assert _threads.threads_for(32 * 784 * 128, 2) == 1      # the lecture GEMM
    assert _threads.threads_for(t - 1, 2) == 1
    assert _threads.threads_for(t, 2) == 2
    assert _threads.threads_for(256 * 1024 * 2048, 4) == 4   # large: every core


def test_small_step_runs_on_one_thread_and_is_set_once(fake):
    model = _mlp([128, 10], 784)
    x, y = np.ones((32, 784), np.float32), np.ones((32, 10), np.float32)
    for _ in range(3):
        model.train_on_batch(x, y)
    assert fake.sets == [1]          # set once, left in place between calls
    assert fake.n == 1


def test_large_step_keeps_two_threads(fake):
    model = _mlp([512, 512], 512)
    x, y = np.ones((256, 512), np.float32), np.ones((256, 512), np.float32)
    model.train_on_batch(x, y)
    assert fake.n == 2 and fake.sets == []


def test_outer_limit_caps_and_is_followed_when_it_changes(fake):
    big = _mlp([512, 512], 512)
    x, y = np.ones((256, 512), np.float32), np.ones((256, 512), np.float32)
    fake.n = 1                        # a user's threadpool_limits(1) / a sweep trial's pin
    big.train_on_batch(x, y)
    assert fake.n == 1 and fake.sets == []
    fake.n = 2                        # the user's limit ended
    big.train_on_batch(x, y)
    assert fake.n == 2


def test_fit_restores_the_count_it_found(fake):
    model = _mlp([16, 4], 8)
    x, y = np.ones((64, 8), np.float32), np.ones((64, 4), np.float32)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert fake.sets == [1, 2] and fake.n == 2


def test_fit_restores_after_an_exception(fake):
    model = _mlp([16, 4], 8)
    x, y = np.ones((64, 8), np.float32), np.ones((64, 4), np.float32)

    class Boom(mg.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            assert fake.n == 1
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, batch_size=16, verbose=0, callbacks=[Boom()])
    assert fake.n == 2


def test_plan_is_cached_per_signature_and_counts_frozen_layers():
    model = _mlp([512, 512], 512)
    assert _threads.plan(model, 256) == _threads.threads_for(256 * 512 * 512,
                                                            os.cpu_count())
    assert _threads.plan(model, 2) == 1
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    # a frozen layer's forward GEMM still runs: the same plan
    assert _threads.plan(model, 256) == _threads.threads_for(256 * 512 * 512,
                                                            os.cpu_count())


def test_real_blas_respects_a_user_limit():
    """With the process's real BLAS: inside threadpool_limits(1) a large step stays on one
    thread, and the user's count is back when the limit ends."""
    _threads.policy.ours = None
    model = _mlp([512, 512], 512)
    x, y = np.ones((256, 512), np.float32), np.ones((256, 512), np.float32)
    with threadpool_limits(1, user_api="blas"):
        model.fit(x, y, batch_size=256, verbose=0)
        assert _threads.policy.current() == 1
    before = _threads.policy.current()
    model.fit(x, y, batch_size=256, verbose=0)
    assert _threads.policy.current() == before


def test_no_kernel_opens_a_numba_parallel_region():
    """The policy's premise: no kernel waits for a BLAS worker spinning after a 2-thread GEMM
    because none opens a numba parallel region (a new one must be placed with that in mind)."""
    import pathlib
    root = pathlib.Path(mg.__file__).parent
    users = [f.name for f in root.rglob("*.py")
             if "parallel=True" in f.read_text() or "prange" in f.read_text()]
    assert sorted(users) == ["_kernel.py", "_threads.py"]   # the decorator's and this note
