"""Lecture listings "l1 and l2 Regularization": a 100-unit ReLU layer with an l1(0.1) or an
l2(0.01) kernel penalty (Keras's forms: ``l1 * sum|w|``, ``l2 * sum w^2``, no 1/2), whose
value is part of the reported loss. As written, l1(0.1) is far too strong for this layer:
at initialisation its penalty (0.1 * sum|w| over 78,400 weights, about 300) dwarfs the data
loss (about 2.3), so training drives the kernel to zero and the model to chance accuracy,
the over-regularised end of the trade-off; l2(0.01) regularises mildly.

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/l1_l2_regularization.py
"""
import os

import numpy as np

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def train(hidden, epochs, verbose):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        hidden,
        keras.layers.Dense(10, activation="softmax"),
    ])
    initial = float(np.abs(hidden.kernel.data).mean())
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    penalty = float(sum(term.data for term in model.losses))
    final = float(np.abs(hidden.kernel.data).mean())
    print(f"  test loss {loss:.4f} (penalty {penalty:.4f} of it), accuracy {accuracy:.4f}; "
          f"mean |w| {initial:.5f} -> {final:.5f}")
    return {"accuracy": accuracy, "initial_mean_abs_w": initial, "mean_abs_w": final}


def main(epochs=None, verbose=1):
    epochs = epochs or EPOCHS
    print("l1(0.1):")
    l1 = train(keras.layers.Dense(100, activation="relu",
                                  kernel_regularizer=keras.regularizers.l1(0.1)),
               epochs, verbose)
    print("l2(0.01):")
    l2 = train(keras.layers.Dense(100, activation="relu",
                                  kernel_regularizer=keras.regularizers.l2(0.01)),
               epochs, verbose)
    return {"l1": l1, "l2": l2}


if __name__ == "__main__":
    main()
