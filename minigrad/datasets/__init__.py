"""minigrad.datasets: data for the lecture's examples, numpy only, never downloaded.

- ``digits``: the real 1,797 UCI 8x8 handwritten digits, shipped in the package
  (``load_data(image_size=8 | 28)``, fixed 1,500 / 297 split).
- ``mnist``, ``fashion_mnist``: ``load_data(path=None)`` reads the standard IDX files from
  ``path``, ``$MINIGRAD_DATA/<name>``, ``~/.minigrad/datasets/<name>`` or
  ``/usr/share/datasets/<name>`` (``apt-get install dataset-fashion-mnist``).
- ``lecture``: the lecture listings' data choice (Fashion-MNIST when installed, else digits).
- ``synthetic``: ``make_blobs``, ``make_moons``, ``make_spirals``.
"""

from minigrad.datasets import digits, fashion_mnist, mnist, synthetic

__all__ = ["digits", "fashion_mnist", "mnist", "synthetic"]
