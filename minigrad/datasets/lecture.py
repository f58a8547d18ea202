"""The data behind the lecture's listings: Fashion-MNIST when it is installed, else digits.

The listings (``Flatten(input_shape=[28, 28])``, Dense layers, 10 classes) come from a book
that runs them on Fashion-MNIST with its first 5,000 training images held out for
validation. ``load("fashion_mnist")`` gives exactly that split, pixels scaled to [0, 1]:
55,000 training and 5,000 validation images. ``load("digits")`` gives the shipped 1,500
training digits at 28x28 and their 297 test images as the held-out split, so every listing
runs on a fresh machine. ``default()`` picks Fashion-MNIST when ``fashion_mnist.load_data()``
would find it (``apt-get install dataset-fashion-mnist`` on Debian), else digits.
"""
import argparse
import os

import numpy as np

from minigrad.datasets import _idx, digits, fashion_mnist

DATASETS = ("fashion_mnist", "digits")
N_VALID = 5000  # the book's validation split: the first 5,000 training images


def installed(name="fashion_mnist"):
    """True when ``<name>.load_data()`` without a path would find all four IDX files."""
    return _idx.complete_dir(name) is not None


def default():
    """"fashion_mnist" when installed, else "digits"."""
    return "fashion_mnist" if installed() else "digits"


class LectureData:
    """One listing's data: ``train`` and ``held`` as (x, y) pairs, ``held_name``
    ("validation" or "test") and ``name`` (the dataset chosen)."""

    def __init__(self, name, train, held, held_name, test=None):
        self.name, self.train, self.held, self.held_name = name, train, held, held_name
        self.test = test     # Fashion-MNIST's 10,000 test images (scaled), read once with the rest

    def epochs(self, book_epochs, digits_epochs):
        """The run length: $MINIGRAD_EXAMPLE_EPOCHS when set, else the book's epochs on
        Fashion-MNIST and the short digits run otherwise."""
        env = os.environ.get("MINIGRAD_EXAMPLE_EPOCHS")
        if env:
            return int(env)
        return book_epochs if self.name == "fashion_mnist" else digits_epochs


def load(dataset=None, announce=True):
    """The data of a lecture listing, as a LectureData.

    fashion_mnist: ``images[5000:] / 255`` for training, ``images[:5000] / 255`` held out
    ("validation"; the book's split), float32, labels uint8. digits:
    ``digits.load_data(image_size=28)`` with its test split held out ("test").
    ``dataset=None`` means ``default()``; the choice (and why) is printed when ``announce``.
    """
    chosen = default() if dataset is None else dataset
    if chosen not in DATASETS:
        raise ValueError(f"lecture.load: dataset must be one of {DATASETS}, got {chosen!r}")
    if chosen == "fashion_mnist":
        (x, y), (xt, yt) = fashion_mnist.load_data()
        x = x.astype(np.float32) / np.float32(255)
        data = LectureData(chosen, (x[N_VALID:], y[N_VALID:]), (x[:N_VALID], y[:N_VALID]),
                           "validation", test=(xt.astype(np.float32) / np.float32(255), yt))
    else:
        train, held = digits.load_data(image_size=28)
        data = LectureData(chosen, train, held, "test")
    if announce:
        why = "" if dataset is not None else (
            " (the default: it is installed)" if chosen == "fashion_mnist"
            else f" (the default: Fashion-MNIST is not installed; `{_idx.INSTALL_LINE}`)")
        print(f"dataset: {chosen}{why}: {len(data.train[0])} training and "
              f"{len(data.held[0])} {data.held_name} images of 28x28")
    return data


def parse_args(description, argv=None):
    """A listing's command line: ``--dataset fashion_mnist|digits`` and ``--epochs N``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help="default: fashion_mnist when installed, else digits")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: the book's epochs on fashion_mnist, fewer on digits")
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    return args


def book_model(seed=0):
    """The book's Fashion-MNIST classifier, compiled: Flatten(28x28) -> Dense(300, relu) ->
    Dense(100, relu) -> Dense(10, softmax), SGD (learning rate 0.01), sparse categorical
    cross-entropy, accuracy."""
    import minigrad as keras
    keras.random.seed(seed)
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(300, activation="relu"),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    return model


def book_demo(epochs=None, batch_size=32, seed=0, verbose=1):
    """``python -m minigrad demo --dataset fashion_mnist``: the book's model (book_model) for
    ``epochs`` (default 30, the book's) on its split, validated on the 5,000 held-out images
    each epoch, then scored on the 10,000 test images. Returns the test accuracy."""
    data = load("fashion_mnist")
    model = book_model(seed)
    model.summary()
    model.fit(*data.train, epochs=30 if epochs is None else epochs, batch_size=batch_size,
              validation_data=data.held, verbose=verbose)
    loss, accuracy = model.evaluate(*data.test, verbose=0)
    print(f"Fashion-MNIST test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return accuracy
