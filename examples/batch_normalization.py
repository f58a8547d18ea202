"""Lecture listing "Batch Normalization (4/4)": BatchNormalization on the inputs and on the
hidden layer (batch statistics in ``fit``, moving statistics in ``evaluate``).

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/batch_normalization.py
"""
import os

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)

    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(10, activation="softmax")
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs or EPOCHS, verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"batch normalization: test loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
