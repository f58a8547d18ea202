"""minigrad.backend (and the settings of minigrad.config it shares): clear_session, floatx,
epsilon, image_data_format, as Keras 3's keras.backend."""
import numpy as np
import pytest

import minigrad as keras
from minigrad import backend, config


@pytest.fixture(autouse=True)
def _restore_settings():
    eps, fmt = config.epsilon(), config.image_data_format()
    yield
    config.set_epsilon(eps)
    config.set_image_data_format(fmt)


def test_clear_session_resets_the_layer_name_counters():
    """Keras's docstring example: after clear_session the next Dense is "dense" again."""
    backend.clear_session()
    names = [keras.layers.Dense(10).name for _ in range(3)]
    assert names == ["dense", "dense_1", "dense_2"]
    assert keras.models.Sequential().name == "sequential"
    backend.clear_session(free_memory=False)
    assert keras.layers.Dense(10).name == "dense"
    assert keras.models.Sequential().name == "sequential"


def test_floatx_is_the_config_setting(float64_default):
    assert backend.floatx() == "float64" and keras.Tensor([1.0]).dtype == np.float64
    backend.set_floatx("float32")
    assert config.floatx() == "float32" and keras.Tensor([1.0]).dtype == np.float32
    with pytest.raises(ValueError, match="set_floatx"):
        backend.set_floatx("float16")


def test_epsilon_defaults_to_keras_value_and_drives_the_loss_clipping():
    assert backend.epsilon() == 1e-7
    backend.set_epsilon(1e-3)
    assert config.epsilon() == 1e-3
    # a probability of 0 is clipped to epsilon: -log(1e-3) per sample
    loss = keras.losses.sparse_categorical_crossentropy(
        np.array([1]), keras.Tensor(np.array([[1.0, 0.0]])))
    np.testing.assert_allclose(loss.data, -np.log(1e-3), rtol=1e-6)
    for bad, err in ((0.0, ValueError), (0.7, ValueError), (float("nan"), ValueError),
                     ("a", TypeError), (True, TypeError)):
        with pytest.raises(err, match="set_epsilon"):
            backend.set_epsilon(bad)


def test_image_data_format():
    assert backend.image_data_format() == "channels_last"
    backend.set_image_data_format("channels_first")
    assert backend.image_data_format() == "channels_first" == config.image_data_format()
    with pytest.raises(ValueError, match="channels_last"):
        backend.set_image_data_format("nhwc")
    with pytest.raises(TypeError, match="set_image_data_format"):
        backend.set_image_data_format(None)


def test_backend_is_reachable_as_keras_backend():
    import minigrad as tf
    assert tf.keras.backend.clear_session is backend.clear_session
