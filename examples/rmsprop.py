"""Lecture listing "RMSProp (2/2)": RMSProp: ``s = rho*s + (1-rho)*g^2; w -= lr*g / sqrt(s + eps)``.
``lr=`` is the lecture's spelling; minigrad accepts it as an alias of ``learning_rate``.

Model and data: the lecture's Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax) on
the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/rmsprop.py
"""
import os

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax")
    ])

    optimizer = keras.optimizers.RMSprop(lr=0.001, rho=0.9)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])

    model.fit(x_train, y_train, epochs=epochs or EPOCHS, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"RMSprop: test loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
