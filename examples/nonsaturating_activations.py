"""Lecture listings "Nonsaturating Activation Functions (4/4)": a Dense layer with
``activation="elu"``, the leaky-ReLU model as written (a linear Dense with he_normal, then a
``LeakyReLU()`` layer, slope 0.3), and the same model with ``PReLU()`` (slopes learned,
starting at 0) in place of LeakyReLU.

Data: Fashion-MNIST when installed (55,000 training and 5,000 validation
images), else the shipped digits at 28x28 (``minigrad.datasets.lecture``; ``--dataset``).

    python examples/nonsaturating_activations.py [--dataset fashion_mnist|digits] [--epochs N]
"""
import numpy as np

import minigrad as keras
from minigrad.datasets import lecture

BOOK_EPOCHS = 10      # on Fashion-MNIST
DIGITS_EPOCHS = 10    # the short run on the shipped digits


def fit_and_score(model, data, epochs, verbose):
    (x_train, y_train), (x_test, y_test) = data.train, data.held
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def main(epochs=None, verbose=1, dataset=None):
    keras.random.seed(0)
    data = lecture.load(dataset)
    epochs = epochs or data.epochs(BOOK_EPOCHS, DIGITS_EPOCHS)
    results = {}

    # elu
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(10, activation="elu"),
        keras.layers.Dense(10, activation="softmax")
    ])
    results["elu"] = fit_and_score(model, data, epochs, verbose)

    # leaky relu
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(128, kernel_initializer="he_normal"),
        keras.layers.LeakyReLU(),
        keras.layers.Dense(10, activation="softmax")
    ])
    results["leaky_relu"] = fit_and_score(model, data, epochs, verbose)

    # parametric leaky relu: the slope is a weight
    prelu = keras.layers.PReLU()
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(128, kernel_initializer="he_normal"),
        prelu,
        keras.layers.Dense(10, activation="softmax")
    ])
    results["prelu"] = fit_and_score(model, data, epochs, verbose)

    for name, accuracy in results.items():
        print(f"{name}: {data.held_name} accuracy {accuracy:.4f}")
    print(f"prelu: learned slopes in [{np.asarray(prelu.weights[0]).min():.3f}, "
          f"{np.asarray(prelu.weights[0]).max():.3f}]")
    return results


if __name__ == "__main__":
    args = lecture.parse_args(__doc__.split("\n\n")[0])
    main(epochs=args.epochs, dataset=args.dataset)
