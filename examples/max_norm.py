"""Lecture listing "Max-Norm Regularization": after every step each unit's incoming weight
vector is clipped to norm <= 1 (``max_norm(1.)``, axis 0 of the Dense kernel).

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/max_norm.py
"""
import os

import numpy as np

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)

    hidden = keras.layers.Dense(100, activation="relu",
                                kernel_constraint=keras.constraints.max_norm(1.))
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        hidden,
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs or EPOCHS, verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    norms = np.linalg.norm(hidden.kernel.data, axis=0)
    print(f"max-norm: largest unit norm {norms.max():.4f} (limit 1); "
          f"test loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
