"""Lecture listing "Dropout (4/4)": dropout (rate 0.2) on the inputs and on the hidden
layer; active in ``fit`` only, identity in ``evaluate``/``predict``.

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/dropout.py
"""
import os

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)

    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dropout(rate=0.2),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(rate=0.2),
        keras.layers.Dense(10, activation="softmax")
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs or EPOCHS, verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"dropout: test loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
