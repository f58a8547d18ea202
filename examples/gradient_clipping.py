"""Lecture listing "Gradient Clipping": SGD with every gradient entry clipped to [-1, 1]
(``clipvalue=1.0``), compiled with ``loss="mse"`` as written: a Dense(10) softmax layer
fitted to one-hot digit labels by mean squared error. MSE through a softmax gives small
gradients and SGD's default rate is 0.01, so the fit uses batches of 8 to take more steps.

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``), labels one-hot.

    python examples/gradient_clipping.py
"""
import os

import numpy as np

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "20"))


def main(epochs=None, verbose=1):
    keras.random.seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data(image_size=28)
    y_train_onehot = np.eye(10, dtype=np.float32)[y_train]

    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(10, activation="softmax")
    ])

    optimizer = keras.optimizers.SGD(clipvalue=1.0)
    model.compile(loss="mse", optimizer=optimizer)

    model.fit(x_train, y_train_onehot, epochs=epochs or EPOCHS, batch_size=8, verbose=verbose)

    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    print(f"gradient clipping (clipvalue=1.0, mse): test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
