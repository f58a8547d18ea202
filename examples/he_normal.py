"""Lecture listing "Parameter Initialization Strategies (4/4)": a ReLU layer initialised
with He's normal initialisation (truncated normal, variance 2 / fan_in).

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/he_normal.py
"""
import os

import numpy as np

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)

    hidden = keras.layers.Dense(10, activation="relu", kernel_initializer="he_normal")
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        hidden,
        keras.layers.Dense(10, activation="softmax"),
    ])
    print(f"he_normal: initial kernel std {hidden.kernel.data.std():.4f}, "
          f"sqrt(2 / fan_in) = {np.sqrt(2 / 784):.4f}")
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs or EPOCHS, verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"he_normal: test loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
