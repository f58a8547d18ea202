"""Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017), read from local IDX files.

``load_data(path=None)`` -> ``(x_train, y_train), (x_test, y_test)``: uint8 images
(60000, 28, 28) and (10000, 28, 28), uint8 labels 0..9 (see CLASS_NAMES), as
``keras.datasets.fashion_mnist.load_data()`` returns them. Same four IDX file names as MNIST
(each raw or ``.gz``), read from ``path``, else ``$MINIGRAD_DATA/fashion_mnist``, else
``~/.minigrad/datasets/fashion_mnist``, else ``/usr/share/datasets/fashion-mnist`` (installed
by ``apt-get install dataset-fashion-mnist`` on Debian). Never downloads.
"""

from minigrad.datasets import _idx

NAME = "fashion_mnist"
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def load_data(path=None):
    """Read Fashion-MNIST from ``path`` (see the module docstring); FileNotFoundError if absent."""
    return _idx.load(NAME, path)
