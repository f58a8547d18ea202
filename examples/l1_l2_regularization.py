"""Lecture listings "l1 and l2 Regularization": a 100-unit ReLU layer with an l1(0.1) or an
l2(0.01) kernel penalty (Keras's forms: ``l1 * sum|w|``, ``l2 * sum w^2``, no 1/2), whose
value is part of the reported loss. As written, l1(0.1) is far too strong for this layer:
at initialisation its penalty (0.1 * sum|w| over 78,400 weights, about 300) dwarfs the data
loss (about 2.3), so training drives the kernel to zero and the model to chance accuracy,
the over-regularised end of the trade-off; l2(0.01) regularises mildly.

Data: Fashion-MNIST when installed (55,000 training and 5,000 validation
images), else the shipped digits at 28x28 (``minigrad.datasets.lecture``; ``--dataset``).

    python examples/l1_l2_regularization.py [--dataset fashion_mnist|digits] [--epochs N]
"""
import numpy as np

import minigrad as keras
from minigrad.datasets import lecture

BOOK_EPOCHS = 2      # on Fashion-MNIST
DIGITS_EPOCHS = 10    # the short run on the shipped digits


def train(hidden, data, epochs, verbose):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = data.train, data.held
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        hidden,
        keras.layers.Dense(10, activation="softmax"),
    ])
    initial = float(np.abs(np.asarray(hidden.kernel)).mean())
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    penalty = float(sum(keras.ops.convert_to_numpy(term) for term in model.losses))
    final = float(np.abs(np.asarray(hidden.kernel)).mean())
    print(f"  {data.held_name} loss {loss:.4f} (penalty {penalty:.4f} of it), "
          f"accuracy {accuracy:.4f}; "
          f"mean |w| {initial:.5f} -> {final:.5f}")
    return {"accuracy": accuracy, "initial_mean_abs_w": initial, "mean_abs_w": final}


def main(epochs=None, verbose=1, dataset=None):
    data = lecture.load(dataset)
    epochs = epochs or data.epochs(BOOK_EPOCHS, DIGITS_EPOCHS)
    print("l1(0.1):")
    l1 = train(keras.layers.Dense(100, activation="relu",
                                  kernel_regularizer=keras.regularizers.l1(0.1)),
               data, epochs, verbose)
    print("l2(0.01):")
    l2 = train(keras.layers.Dense(100, activation="relu",
                                  kernel_regularizer=keras.regularizers.l2(0.01)),
               data, epochs, verbose)
    return {"l1": l1, "l2": l2}


if __name__ == "__main__":
    args = lecture.parse_args(__doc__.split("\n\n")[0])
    main(epochs=args.epochs, dataset=args.dataset)
