"""Lecture listings "Feedforward Network in TensorFlow" and "Regular Gradient Descent
Optimization" (the same code twice): a 2-4-3 network trained with plain SGD.

Data: 3 Gaussian blobs in 2-D (``minigrad.datasets.synthetic.make_blobs``), as the
listing's ``n_features = 2, n_output = 3``; 450 training and 150 test points.

    python examples/feedforward_network.py        (MINIGRAD_EXAMPLE_EPOCHS=5 to shorten)
"""
import os

import minigrad as keras
from minigrad.datasets.synthetic import make_blobs

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "30"))


def load_blobs():
    """450 training and 150 test points of 3 blobs in 2-D (fixed seed)."""
    X, y = make_blobs(n_samples=600, n_features=2, centers=3, cluster_std=1.5, seed=42)
    return (X[:450], y[:450]), (X[450:], y[450:])


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (X_train, y_train), (X_test, y_test) = load_blobs()

    n_output = 3
    n_hidden = 4
    n_features = 2

    model = keras.models.Sequential()
    model.add(keras.layers.Dense(n_hidden, input_shape=(n_features,), activation="relu"))
    model.add(keras.layers.Dense(n_output, activation="softmax"))

    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=epochs or EPOCHS, verbose=verbose)

    loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
    print(f"feedforward network (SGD): test loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
