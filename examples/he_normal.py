"""Lecture listing "Parameter Initialization Strategies (4/4)": a ReLU layer initialised
with He's normal initialisation (truncated normal, variance 2 / fan_in).

Data: Fashion-MNIST when installed (55,000 training and 5,000 validation
images), else the shipped digits at 28x28 (``minigrad.datasets.lecture``; ``--dataset``).

    python examples/he_normal.py [--dataset fashion_mnist|digits] [--epochs N]
"""
import numpy as np

import minigrad as keras
from minigrad.datasets import lecture

BOOK_EPOCHS = 10      # on Fashion-MNIST
DIGITS_EPOCHS = 10    # the short run on the shipped digits


def main(epochs=None, verbose=1, dataset=None):
    keras.random.seed(0)
    data = lecture.load(dataset)
    (x_train, y_train), (x_test, y_test) = data.train, data.held

    hidden = keras.layers.Dense(10, activation="relu", kernel_initializer="he_normal")
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        hidden,
        keras.layers.Dense(10, activation="softmax"),
    ])
    print(f"he_normal: initial kernel std {np.asarray(hidden.kernel).std():.4f}, "
          f"sqrt(2 / fan_in) = {np.sqrt(2 / 784):.4f}")
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs or data.epochs(BOOK_EPOCHS, DIGITS_EPOCHS),
              verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"he_normal: {data.held_name} loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    args = lecture.parse_args(__doc__.split("\n\n")[0])
    main(epochs=args.epochs, dataset=args.dataset)
