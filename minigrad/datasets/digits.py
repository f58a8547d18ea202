"""The UCI handwritten digits: 1,797 real 8x8 images, shipped inside the package.

Source: the test set of "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak,
1998, UCI Machine Learning Repository, doi:10.24432/C50P49, CC BY 4.0); see
data/DIGITS_LICENSE.txt for the attribution and how data/digits.npz was made. Each pixel is
the count of "on" pixels in a 4x4 block of a 32x32 bitmap, an integer 0..16.

The file stores the rows already in their final order: a class-stratified permutation, so
the fixed split (the first 1,500 rows train, the last 297 test) holds every class in both
parts, 145..153 train and 29..30 test images per class. Nothing is shuffled at load time, so
the split is the same on every numpy version.

``load_data(image_size=8)`` -> ``(x_train, y_train), (x_test, y_test)``:
    x: float32 pixels / 16, in [0, 1], shape (n, 8, 8);
    y: uint8 labels 0..9, shape (n,)  (uint8 like keras.datasets.mnist).
``image_size=28`` gives (n, 28, 28) for listings written for MNIST's
``Flatten(input_shape=[28, 28])``: each pixel becomes a 3x3 block (nearest-neighbour,
8 -> 24) and 2 zero pixels pad every side (24 + 2 + 2 = 28):
    x28[n, 2 + i, 2 + j] = x8[n, i // 3, j // 3]  for 0 <= i, j < 24, else 0.
"""

from pathlib import Path

import numpy as np

from minigrad import _checks

N_TRAIN = 1500
N_TEST = 297
IMAGE_SIZES = (8, 28)
_FILE = Path(__file__).with_name("data") / "digits.npz"
_raw = None  # (images uint8 (1797, 8, 8), labels uint8 (1797,)), decompressed once


def _load_raw():
    """The stored uint8 images and labels, read once per process and cached."""
    global _raw
    if _raw is None:
        with np.load(_FILE, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
        if images.shape != (N_TRAIN + N_TEST, 8, 8) or labels.shape != (N_TRAIN + N_TEST,):
            raise ValueError(
                f"digits.load_data: {_FILE} holds images {images.shape} and labels "
                f"{labels.shape}, expected ({N_TRAIN + N_TEST}, 8, 8) and ({N_TRAIN + N_TEST},)"
            )
        _raw = images, labels
    return _raw


def upscale_28(x):
    """(n, 8, 8) -> (n, 28, 28): 3x nearest-neighbour upscale to 24x24, then a 2-pixel zero pad."""
    big = x.repeat(3, axis=1).repeat(3, axis=2)
    return np.pad(big, ((0, 0), (2, 2), (2, 2)))


def load_data(image_size=8):
    """Return ``(x_train, y_train), (x_test, y_test)`` (1,500 / 297), fresh arrays each call.

    x is float32 ``pixel / 16`` in [0, 1] of shape (n, image_size, image_size); y is uint8.
    ``image_size`` must be 8 (the original images) or 28 (see ``upscale_28``).
    """
    _checks.choice("digits.load_data", "image_size", image_size, IMAGE_SIZES)
    images, labels = _load_raw()
    x = images.astype(np.float32) / np.float32(16.0)  # a new array: the cache stays untouched
    if image_size == 28:
        x = upscale_28(x)
    y = labels.copy()
    return (x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:], y[N_TRAIN:])
