"""minigrad.random: the global generator, seeding, private generators and their listing."""
import gc

import numpy as np
import pytest

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
