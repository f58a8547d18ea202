"""Augmentation layers: exact geometric cases against numpy, Keras's factor conventions and
fill modes, output statistics, seeding, inference identity and the differentiable path."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.layers.augmentation import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from minigrad.layers.base import LAYERS

FILL_MODES = ("reflect", "wrap", "nearest", "constant")
INTERPOLATIONS = ("bilinear", "nearest")


def _images(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def _shift_zeros(x, dy, dx):
    """Content moved dy rows down and dx columns right, zeros where nothing moved in."""
    out = np.zeros_like(x)
    h, w = x.shape[1:3]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, yd, xd] = x[:, ys, xs]
    return out


def _layers():
    return [RandomTranslation(0.2, 0.2), RandomRotation(0.1), RandomZoom(0.2),
            RandomFlip()]


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: type(layer).__name__)
def test_identity_at_inference(layer):
    x = _images((3, 6, 5))
    t = mg.Tensor(x)
    assert layer(t) is t
    assert layer(t, training=False) is t
    np.testing.assert_array_equal(layer(x).data, x)


@pytest.mark.parametrize("layer", _layers(), ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("shape", [(4, 7, 5), (4, 7, 5, 3)])
def test_shapes_and_dtypes(layer, shape):
    y = layer(_images(shape, dtype=np.float64), training=True)
    assert isinstance(y, mg.Tensor) and y.shape == shape and y.dtype == np.float32
    assert not y.requires_grad
    layer64 = type(layer).from_config({**layer.get_config(), "name": None, "dtype": "float64"})
    assert layer64(_images(shape), training=True).dtype == np.float64


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dy, dx", [(2, 1), (-1, 3), (0, -2)])
def test_integer_translation_with_constant_fill_is_a_shift(interpolation, dy, dx):
    x = _images((3, 6, 8, 2))
    layer = RandomTranslation((dy / 6, dy / 6), (dx / 8, dx / 8), fill_mode="constant",
                              interpolation=interpolation)
    y = layer(x, training=True).data
    np.testing.assert_allclose(y, _shift_zeros(x, dy, dx), atol=1e-6)


def test_fill_modes_follow_keras_patterns():
    # one row a b c d shifted right by 2: the two new pixels come from the fill mode
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]], dtype=np.float32)
    expected = {"reflect": [2, 1, 1, 2],      # (d c b a | a b c d)
                "wrap": [3, 4, 1, 2],         # (a b c d | a b c d)
                "nearest": [1, 1, 1, 2],      # (a a a a | a b c d)
                "constant": [9, 9, 1, 2]}     # (k k k k | a b c d), k = fill_value
    for mode, row in expected.items():
        layer = RandomTranslation(0.0, (0.5, 0.5), fill_mode=mode, fill_value=9.0)
        np.testing.assert_allclose(layer(x, training=True).data[0, 0], row, err_msg=mode)


def test_bilinear_constant_fill_blends_the_border():
    # a half-pixel shift: each output pixel is the mean of two inputs, the first with k
    x = np.array([[[2.0, 4.0, 6.0, 8.0]]], dtype=np.float32)
    layer = RandomTranslation(0.0, (0.125, 0.125), fill_mode="constant", fill_value=10.0)
    np.testing.assert_allclose(layer(x, training=True).data[0, 0], [6.0, 3.0, 5.0, 7.0])


@pytest.mark.parametrize("shape", [(5, 6, 6), (2, 5, 7, 3)])
def test_half_turn_rotation_is_a_180_degree_flip(shape):
    x = _images(shape)
    y = RandomRotation((0.5, 0.5), fill_mode="constant")(x, training=True).data
    np.testing.assert_allclose(y, x[:, ::-1, ::-1], atol=1e-5)


def test_quarter_turn_is_counter_clockwise():
    x = _images((2, 6, 6))
    y = RandomRotation((0.25, 0.25))(x, training=True).data
    np.testing.assert_allclose(y, np.rot90(x, 1, axes=(1, 2)), atol=1e-5)
    y = RandomRotation((-0.25, -0.25))(x, training=True).data
    np.testing.assert_allclose(y, np.rot90(x, -1, axes=(1, 2)), atol=1e-5)


def test_zoom_factor_zero_is_identity():
    x = _images((3, 5, 7, 2))
    for interpolation in INTERPOLATIONS:
        y = RandomZoom(0.0, interpolation=interpolation)(x, training=True).data
        np.testing.assert_array_equal(y, x)


def test_zoom_sign_convention():
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5) * np.ones((1, 5, 1), np.float32)
    # negative factor = zoom in: x' = 0.5*x + 1 -> columns 1, 1.5, 2, 2.5, 3
    y = RandomZoom(0.0, (-0.5, -0.5), interpolation="bilinear")(x, training=True).data
    np.testing.assert_allclose(y[0, 2], [1.0, 1.5, 2.0, 2.5, 3.0])
    # positive = zoom out: x' = 2*x - 2 -> -2, 0, 2, 4, 6 (outside: the fill value)
    y = RandomZoom(0.0, (1.0, 1.0), fill_mode="constant", fill_value=-1.0)(
        x, training=True).data
    np.testing.assert_allclose(y[0, 2], [-1.0, 0.0, 2.0, 4.0, -1.0])
    # width_factor=None zooms both axes by the same draw
    y = RandomZoom((-0.5, -0.5), interpolation="bilinear")(x.transpose(0, 2, 1),
                                                            training=True).data
    np.testing.assert_allclose(y[0, :, 2], [1.0, 1.5, 2.0, 2.5, 3.0])


@pytest.mark.parametrize("mode, flip", [("horizontal", lambda im: im[:, ::-1]),
                                        ("vertical", lambda im: im[::-1]),
                                        ("horizontal_and_vertical", lambda im: im[::-1, ::-1])])
def test_flip_matches_np_flip(mode, flip):
    x = _images((4000, 4, 5, 2))
    y = RandomFlip(mode, seed=1)(x, training=True).data
    flipped = np.array([np.array_equal(y[i], flip(x[i])) for i in range(len(x))])
    kept = np.array([np.array_equal(y[i], x[i]) for i in range(len(x))])
    assert np.all(flipped != kept)                       # each image exactly one of them
    # one fair coin per image: sigma of the fraction = sqrt(0.25 / 4000) = 0.0079, so the
    # window is 3.8 sigma (seeded, hence deterministic); p = 0.4 or 0.6 is 12.6 sigma out
    assert abs(flipped.mean() - 0.5) < 0.03


def test_translation_statistics():
    # ones shifted by u*H, v*W with u, v ~ U(-0.2, 0.2): the surviving fraction is
    # (1-|u|)(1-|v|), of mean 0.9 * 0.9; the shifts are spread over the whole range
    x = np.ones((2000, 10, 10), np.float32)
    mg.random.seed(3)
    y = RandomTranslation(0.2, 0.2, fill_mode="constant")(x, training=True).data
    frac = y.mean(axis=(1, 2))
    assert abs(frac.mean() - 0.81) < 0.01
    assert frac.min() < 0.68 and frac.max() > 0.98
    assert np.all((y >= -1e-6) & (y <= 1 + 1e-6))


def test_rotation_statistics():
    # reflect/wrap fill keeps a constant image constant; rotations of a ramp keep its mean
    x = np.full((50, 8, 8), 0.25, np.float32)
    for mode in ("reflect", "wrap", "nearest"):
        y = RandomRotation(0.5, fill_mode=mode, seed=0)(x, training=True).data
        np.testing.assert_allclose(y, 0.25, atol=1e-6)
    y = RandomRotation(0.5, fill_mode="constant", seed=0)(x, training=True).data
    assert 0.0 < y.mean() < 0.25


def test_flip_and_translation_preserve_values():
    x = _images((8, 5, 5))
    y = RandomFlip(seed=0)(x, training=True).data
    np.testing.assert_array_equal(np.sort(y.reshape(8, -1)), np.sort(x.reshape(8, -1)))
    # wrap-around integer shifts are permutations of the pixels
    y = RandomTranslation((0.4, 0.4), (-0.2, -0.2), fill_mode="wrap")(x, training=True).data
    np.testing.assert_allclose(y, np.roll(x, (2, -1), axis=(1, 2)), atol=1e-6)


@pytest.mark.parametrize("cls, args", [(RandomTranslation, (0.3, 0.3)), (RandomRotation, (0.2,)),
                                       (RandomZoom, (0.3,)), (RandomFlip, ())])
def test_seeding(cls, args):
    x = _images((6, 7, 7))
    a = cls(*args, seed=4)(x, training=True).data
    b = cls(*args, seed=4)(x, training=True).data
    np.testing.assert_array_equal(a, b)
    layer = cls(*args)
    mg.random.seed(11)
    c = layer(x, training=True).data
    mg.random.seed(11)
    np.testing.assert_array_equal(layer(x, training=True).data, c)
    assert not np.array_equal(layer(x, training=True).data, c)   # a fresh draw


@pytest.mark.parametrize("mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_kernel_matches_differentiable_path(mode, interpolation):
    x = _images((3, 6, 7, 2))
    for layer in (RandomRotation(0.3, mode, interpolation, seed=2, fill_value=0.5),
                  RandomZoom((-0.6, 0.8), (-0.5, 0.9), mode, interpolation, seed=2,
                             fill_value=0.5),
                  RandomTranslation(0.9, 0.9, mode, interpolation, seed=2, fill_value=0.5)):
        twin = type(layer).from_config({**layer.get_config(), "name": None})
        fast = layer(x, training=True)
        xt = mg.Tensor(x, requires_grad=True)
        slow = twin(xt, training=True)
        assert slow.requires_grad and not fast.requires_grad
        np.testing.assert_allclose(fast.data, slow.data, atol=1e-5)


def test_gradient_flows_through_a_shift():
    x = mg.Tensor(_images((2, 4, 5)), requires_grad=True)
    y = RandomTranslation((0.25, 0.25), 0.0, fill_mode="constant")(x, training=True)
    y.sum().backward()
    expected = np.ones((2, 4, 5), np.float32)
    expected[:, -1] = 0.0                 # the last row was shifted out of the image
    np.testing.assert_allclose(x.grad, expected, atol=1e-6)
    x = mg.Tensor(_images((2, 4, 5)), requires_grad=True)
    (RandomFlip(seed=0)(x, training=True) * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 4, 5), 2.0, np.float32))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="fill_mode"):
        RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="pair"):
        RandomTranslation((0.1, 0.2, 0.3), 0.1)
    with pytest.raises(ValueError, match="pair"):
        RandomRotation("big")
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"\(batch, height, width"):
        RandomFlip()(np.zeros((3, 4), np.float32), training=True)


def test_config_round_trip_and_registry():
    layer = RandomTranslation((-0.1, 0.3), 0.2, fill_mode="wrap", interpolation="nearest",
                              seed=7, fill_value=1.5, name="shift")
    cfg = layer.get_config()
    assert cfg["height_factor"] == [-0.1, 0.3] and cfg["seed"] == 7 and cfg["name"] == "shift"
    clone = RandomTranslation.from_config(cfg)
    assert clone.height_range == (-0.1, 0.3) and clone.width_range == (-0.2, 0.2)
    assert clone.fill_mode == "wrap" and clone.interpolation == "nearest"
    for name in ("RandomTranslation", "RandomRotation", "RandomZoom", "RandomFlip"):
        assert LAYERS.lookup(name).__name__ == name
    assert RandomRotation(-0.2).factor_range == (-0.2, 0.2)
    assert RandomZoom((0.3, -0.1)).height_range == (-0.1, 0.3)
