"""minigrad.random: the global generator, seeding, private generators and their listing."""
import gc
import math

import numpy as np
import pytest
from replays import count_replays

import minigrad as mg


def test_seed_reproduces_draws_and_private_generators_are_independent():
    mg.random.seed(42)
    a = mg.random.generator().standard_normal(5)
    mg.random.seed(42)
    b = mg.random.generator().standard_normal(5)
    np.testing.assert_array_equal(a, b)
    mg.manual_seed(42)
    np.testing.assert_array_equal(mg.random.generator().standard_normal(5), a)
    assert mg.random.make_generator(None) is mg.random.generator()
    mg.random.seed(1)
    private = mg.random.make_generator(7).standard_normal(5)
    state = mg.random.get_state()
    mg.random.seed(2)
    np.testing.assert_array_equal(mg.random.make_generator(7).standard_normal(5), private)
    mg.random.set_state(state)      # a private generator did not advance the global one
    mg.random.seed(1)
    np.testing.assert_array_equal(mg.random.get_state()["state"], state["state"])
    with pytest.raises(ValueError, match="seed"):
        mg.random.seed(-1)


def test_private_generators_are_listed_while_alive_and_draw_as_default_rng():
    gen = mg.random.make_generator(123)
    assert isinstance(gen, np.random.Generator)
    assert any(g is gen for g in mg.random.private_generators())
    assert all(g is not mg.random.generator() for g in mg.random.private_generators())
    np.testing.assert_array_equal(gen.standard_normal(4),
                                  np.random.default_rng(123).standard_normal(4))
    n = len(mg.random.private_generators())
    del gen
    gc.collect()
    assert len(mg.random.private_generators()) == n - 1     # listed weakly, not kept alive


def test_gradient_report_restores_a_layers_private_generator():
    """The seam that replaced a scan of the layers' attributes: a Dropout(seed=k) layer's own
    generator is advanced by the report's training-mode forward and restored afterwards."""
    from minigrad.diagnostics.report import gradient_report
    mg.random.seed(0)
    model = mg.Sequential([mg.layers.Input((4,)), mg.layers.Dense(3, activation="relu"),
                           mg.layers.Dropout(0.5, seed=7),
                           mg.layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 1])

    def states():
        return [g.bit_generator.state["state"] for g in mg.random.private_generators()]

    before = states()
    gradient_report(model, x, y)
    assert states() == before
    model(x, training=True)       # the layer does draw from a listed generator
    assert states() != before


# ---- keras.random: distributions, seeds, SeedGenerator, the draw as an op ------------------

N = 200_000


def _moments(x, mean, var, what):
    """The sample mean within 5 standard errors of ``mean`` (SE = sqrt(var/n)) and the sample
    variance within 5 standard errors of ``var`` (SE = sqrt((m4 - var^2)/n), m4 the sample's
    fourth central moment)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    m = x.mean()
    assert abs(m - mean) < 5 * np.sqrt(var / n), (what, m, mean)
    v = x.var()
    m4 = np.mean((x - m) ** 4)
    assert abs(v - var) < 5 * np.sqrt((m4 - v * v) / n), (what, v, var)


def test_normal_moments_dtype_and_shape():
    mg.random.seed(0)
    x = mg.random.normal((N // 100, 100), mean=2.0, stddev=3.0)
    assert isinstance(x, mg.Tensor) and x.shape == (N // 100, 100)
    assert x.dtype == np.float32 and not x.requires_grad
    _moments(x.data, 2.0, 9.0, "normal")
    assert mg.random.normal((3,), dtype="float64").dtype == np.float64
    assert mg.random.normal(()).shape == ()
    assert mg.random.normal(4).shape == (4,)


def test_dtype_defaults_to_floatx(float64_default):
    for fn in (mg.random.normal, mg.random.uniform, mg.random.truncated_normal):
        assert fn((2,)).dtype == np.float64
    assert mg.random.gamma((2,), 1.0).dtype == np.float64
    assert mg.random.beta((2,), 1.0, 2.0).dtype == np.float64
    assert mg.random.binomial((2,), 3, 0.5).dtype == np.float64


def test_uniform_range_and_moments():
    mg.random.seed(1)
    x = mg.random.uniform((N,), minval=-1.0, maxval=3.0).data
    assert x.min() >= -1.0 and x.max() < 3.0
    _moments(x, 1.0, 16.0 / 12.0, "uniform")
    x01 = mg.random.uniform((N,)).data
    assert x01.min() >= 0.0 and x01.max() < 1.0
    _moments(x01, 0.5, 1.0 / 12.0, "uniform default")


def test_truncated_normal_stays_within_two_stddev_with_the_truncated_moments():
    mg.random.seed(2)
    mean, sd = 1.0, 2.0
    x = mg.random.truncated_normal((N,), mean=mean, stddev=sd).data.astype(np.float64)
    assert x.min() >= mean - 2 * sd and x.max() <= mean + 2 * sd
    # the variance of N(0, 1) truncated to [-b, b]: 1 - 2 b phi(b) / (2 Phi(b) - 1)
    b = 2.0
    phi = math.exp(-b * b / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(b / math.sqrt(2))
    _moments(x, mean, sd * sd * (1 - 2 * b * phi / mass), "truncated_normal")


def test_randint_bounds_dtype_and_frequencies():
    mg.random.seed(3)
    x = mg.random.randint((N,), 3, 9)
    assert x.dtype == np.int32
    counts = np.bincount(x.data - 3, minlength=6)
    assert x.data.min() == 3 and x.data.max() == 8 and counts.size == 6
    p = 1 / 6
    assert np.all(np.abs(counts / N - p) < 5 * np.sqrt(p * (1 - p) / N)), counts
    assert mg.random.randint((4,), 0, 200, dtype="uint8").dtype == np.uint8
    assert mg.random.randint((4,), -5, 5, dtype="int64").dtype == np.int64
    with pytest.raises(ValueError, match="randint requires an integer dtype"):
        mg.random.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="minval must be below maxval"):
        mg.random.randint((2,), 3, 3)
    with pytest.raises(ValueError, match="does not fit in dtype uint8"):
        mg.random.randint((2,), 0, 300, dtype="uint8")


def test_categorical_frequencies_follow_the_softmax_of_the_logits():
    mg.random.seed(4)
    logits = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]], dtype=np.float32)
    ids = mg.random.categorical(logits, N // 2)
    assert ids.shape == (2, N // 2) and ids.dtype == np.int32
    z = logits.astype(np.float64)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = N // 2
    for row in range(2):
        freq = np.bincount(ids.data[row], minlength=3) / n
        se = np.sqrt(probs[row] * (1 - probs[row]) / n)
        assert np.all(np.abs(freq - probs[row]) < 5 * se), (row, freq, probs[row])
    # a class of probability 0 (logit -inf) is never drawn
    never = mg.random.categorical(np.array([[0.0, -np.inf, 0.0]]), 1000, dtype="int64")
    assert never.dtype == np.int64 and not np.any(never.data == 1)
    with pytest.raises(ValueError, match="2-D tensor"):
        mg.random.categorical(np.zeros(3), 2)


def test_shuffle_is_a_permutation_of_slices_and_keeps_the_gradient():
    mg.random.seed(5)
    x = mg.Tensor(np.arange(40.0).reshape(10, 4), requires_grad=True)
    y = mg.random.shuffle(x)
    assert sorted(map(tuple, y.data)) == sorted(map(tuple, x.data))    # rows stay whole
    assert not np.array_equal(y.data, x.data)           # 1 chance in 10! to fail
    w = np.random.default_rng(0).normal(size=(10, 4))
    (y * w).sum().backward()
    # y[i] = x[perm[i]], so dL/dx[perm[i]] = w[i]
    perm = (y.data[:, 0] / 4).astype(int)
    expect = np.empty_like(w)
    expect[perm] = w
    np.testing.assert_allclose(x.grad, expect)
    cols = mg.random.shuffle(np.arange(12.0).reshape(2, 6), axis=-1).data
    assert sorted(cols[0]) == list(range(6)) and np.array_equal(cols[1] - cols[0], [6] * 6)


def test_dropout_rate_scale_noise_shape_and_gradient():
    mg.random.seed(6)
    rate = 0.3
    x = mg.Tensor(np.ones((N // 100, 100), dtype=np.float32), requires_grad=True)
    for seed in (None, 7, mg.random.SeedGenerator(8)):
        y = mg.random.dropout(x, rate, seed=seed)
        zero = (y.data == 0).mean()
        assert abs(zero - rate) < 5 * np.sqrt(rate * (1 - rate) / N), (seed, zero)
        np.testing.assert_allclose(y.data[y.data != 0], np.float32(1 / (1 - rate)), rtol=1e-6)
        x.zero_grad()
        (y * 2.0).sum().backward()
        np.testing.assert_allclose(x.grad, 2.0 * y.data, rtol=1e-6)
    y = mg.random.dropout(np.ones((500, 6), dtype=np.float32), 0.5, noise_shape=(None, 1))
    assert np.all(y.data == y.data[:, :1])          # one draw per row, broadcast
    assert 0 < (y.data[:, 0] == 0).mean() < 1
    assert mg.random.dropout(x, 0.0) is x
    y = mg.random.dropout(x, 1.0)
    x.zero_grad()
    y.sum().backward()
    assert not y.data.any() and not x.grad.any()
    with pytest.raises(ValueError, match="noise_shape"):
        mg.random.dropout(x, 0.5, noise_shape=(3, 100))
    with pytest.raises(ValueError, match="rate"):
        mg.random.dropout(x, 1.5)


def test_dropout_without_seed_draws_the_framework_dropout_mask():
    """seed=None without noise_shape is the Dropout op: the mask of F.dropout at the same
    state of the global generator."""
    x = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    mg.random.seed(9)
    a = mg.random.dropout(x, 0.4)
    mg.random.seed(9)
    b = mg.functional.dropout(x, 0.4, training=True)
    np.testing.assert_array_equal(a.data, b.data)


def test_gamma_binomial_beta_moments():
    mg.random.seed(10)
    alpha = 2.5
    g = mg.random.gamma((N,), alpha).data
    assert g.min() > 0
    _moments(g, alpha, alpha, "gamma")
    n, p = 10, 0.3
    b = mg.random.binomial((N,), n, p).data
    assert b.dtype == np.float32 and np.all(b == np.round(b)) and b.min() >= 0 and b.max() <= n
    _moments(b, n * p, n * p * (1 - p), "binomial")
    a, c = 2.0, 5.0
    x = mg.random.beta((N,), a, c).data
    assert x.min() > 0 and x.max() < 1
    _moments(x, a / (a + c), a * c / ((a + c) ** 2 * (a + c + 1)), "beta")
    with pytest.raises(ValueError, match="alpha must be positive"):
        mg.random.gamma((2,), 0.0)
    with pytest.raises(ValueError, match="probabilities"):
        mg.random.binomial((2,), 3, 1.5)


def test_int_seeds_repeat_their_values_and_leave_the_global_generator_alone():
    mg.random.seed(11)
    state = mg.random.get_state()
    for fn, args in [(mg.random.normal, ((5,),)), (mg.random.uniform, ((5,),)),
                     (mg.random.truncated_normal, ((5,),)), (mg.random.randint, ((5,), 0, 99)),
                     (mg.random.gamma, ((5,), 2.0)), (mg.random.beta, ((5,), 2.0, 3.0)),
                     (mg.random.binomial, ((5,), 9, 0.5)),
                     (mg.random.shuffle, (np.arange(20.0),)),
                     (mg.random.dropout, (np.ones(20, dtype=np.float32), 0.5)),
                     (mg.random.categorical, (np.zeros((1, 9)), 5))]:
        a, b = fn(*args, seed=123), fn(*args, seed=123)
        np.testing.assert_array_equal(a.data, b.data, err_msg=fn.__name__)
        assert not np.array_equal(a.data, fn(*args, seed=124).data), fn.__name__
    assert mg.random.get_state() == state
    # the seeded stream is Keras's numpy backend's: default_rng([seed, 0]), float64 then cast
    np.testing.assert_array_equal(
        mg.random.normal((4,), seed=3).data,
        np.random.default_rng([3, 0]).normal(size=(4,)).astype(np.float32))


def test_global_seeding_fixes_unseeded_draws():
    mg.random.seed(12)
    a = [mg.random.normal((3,)).data, mg.random.categorical(np.zeros((2, 4)), 3).data]
    mg.random.seed(12)
    b = [mg.random.normal((3,)).data, mg.random.categorical(np.zeros((2, 4)), 3).data]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(mg.random.normal((3,)).data, a[0])     # the stream moved on


def test_seed_generator_sequences_are_reproducible_and_distinct():
    g1, g2, other = (mg.random.SeedGenerator(42), mg.random.SeedGenerator(42),
                     mg.random.SeedGenerator(43))
    s1 = [mg.random.normal((4,), seed=g1).data for _ in range(3)]
    s2 = [mg.random.normal((4,), seed=g2).data for _ in range(3)]
    s3 = [mg.random.normal((4,), seed=other).data for _ in range(3)]
    for a, b, c in zip(s1, s2, s3):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    assert not np.array_equal(s1[0], s1[1]) and not np.array_equal(s1[1], s1[2])
    gen = mg.random.SeedGenerator(7)
    np.testing.assert_array_equal(gen.next(), [7, 0])
    np.testing.assert_array_equal(gen.next(), [7, 1])
    np.testing.assert_array_equal(gen.state.data, [7, 2])
    assert gen.state.dtype == np.uint32 and not gen.state.trainable
    gen.next(ordered=False)     # Keras's unordered step: (state + 1) * 5387 % 933199
    np.testing.assert_array_equal(gen.state.data, [(7 + 1) * 5387 % 933199, 3 * 5387])
    cfg = gen.get_config()
    assert cfg == {"seed": 7, "name": gen.name}
    clone = mg.random.SeedGenerator.from_config({**cfg, "name": "clone"})
    np.testing.assert_array_equal(clone.next(), [7, 0])
    unseeded = mg.random.SeedGenerator()
    assert unseeded.get_config()["seed"] is None and 1 <= unseeded.state.data[0] <= 1e9
    with pytest.raises(TypeError, match="seed must be an integer"):
        mg.random.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="unrecognized"):
        mg.random.SeedGenerator(1, bogus=2)


def test_bad_arguments_name_the_function():
    with pytest.raises(ValueError, match="uniform requires a floating point dtype"):
        mg.random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="normal requires a floating point dtype"):
        mg.random.normal((2,), dtype="int64")
    with pytest.raises(TypeError, match="random.normal: seed must be None, an integer or"):
        mg.random.normal((2,), seed="abc")
    with pytest.raises(ValueError, match=r"random.normal: seed must be an integer in \[0"):
        mg.random.normal((2,), seed=-1)
    with pytest.raises(ValueError, match=r"fully defined, without None"):
        mg.random.normal((None, 2))
    with pytest.raises(ValueError, match="stddev must be non-negative"):
        mg.random.truncated_normal((2,), stddev=-1.0)


def test_draws_inside_a_custom_layer_are_replayed_by_the_captured_step(monkeypatch):
    """A custom layer drawing with keras.random (global generator, int-free SeedGenerator
    and dropout) trained 30 steps with jit_compile=True equals jit_compile=False bit for bit,
    and the captured step really ran: the draws are ops, drawn anew at every replay."""
    replays = count_replays(monkeypatch)

    class Noisy(mg.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = mg.random.SeedGenerator(1337)

        def call(self, x, training=False):
            if not training:
                return x
            x = x + mg.random.normal(x.shape, stddev=0.1)
            x = mg.random.dropout(x, 0.2, seed=self.seed_generator)
            return mg.random.dropout(x, 0.1)

    r = np.random.default_rng(0)
    x = r.normal(size=(240, 6)).astype(np.float32)
    y = r.integers(0, 3, 240)

    def train(jit):
        mg.random.seed(3)
        model = mg.Sequential([mg.layers.Input((6,)), mg.layers.Dense(8, activation="relu"),
                               Noisy(), mg.layers.Dense(3)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      jit_compile=jit)
        hist = model.fit(x, y, batch_size=24, epochs=3, verbose=0)      # 30 steps
        return model, hist.history["loss"]

    eager, loss_eager = train(False)
    assert replays[0] == 0
    captured, loss_captured = train(True)
    assert replays[0] == 30 - 3           # one eager step, two recorded, then replays
    assert loss_captured == loss_eager
    for a, b in zip(captured.weights, eager.weights):
        np.testing.assert_array_equal(a.data, b.data, err_msg=a.name)
