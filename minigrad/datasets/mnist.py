"""MNIST handwritten digits (LeCun, Cortes & Burges), read from local IDX files.

``load_data(path=None)`` -> ``(x_train, y_train), (x_test, y_test)``: uint8 images
(60000, 28, 28) and (10000, 28, 28) with pixels in 0..255, uint8 labels 0..9, as
``keras.datasets.mnist.load_data()`` returns them. The four files
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte`` (each raw or ``.gz``) are read from ``path``, else
``$MINIGRAD_DATA/mnist``, else ``~/.minigrad/datasets/mnist``, else
``/usr/share/datasets/mnist`` (for a system package that ships it there; Debian has none).
Never downloads.
"""

from minigrad.datasets import _idx

NAME = "mnist"


def load_data(path=None):
    """Read MNIST from ``path`` (see the module docstring); FileNotFoundError if absent."""
    return _idx.load(NAME, path)
