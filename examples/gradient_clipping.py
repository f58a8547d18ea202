"""Lecture listing "Gradient Clipping": SGD with every gradient entry clipped to [-1, 1]
(``clipvalue=1.0``), compiled with ``loss="mse"`` as written: a Dense(10) softmax layer
fitted to one-hot digit labels by mean squared error. MSE through a softmax gives small
gradients and SGD's default rate is 0.01, so the fit uses batches of 8 to take more steps.

Data: Fashion-MNIST when installed (55,000 training and 5,000 validation
images), else the shipped digits at 28x28 (``minigrad.datasets.lecture``; ``--dataset``),
labels one-hot.

    python examples/gradient_clipping.py [--dataset fashion_mnist|digits] [--epochs N]
"""
import numpy as np

import minigrad as keras
from minigrad.datasets import lecture

BOOK_EPOCHS = 10      # on Fashion-MNIST
DIGITS_EPOCHS = 20    # the short run on the shipped digits


def main(epochs=None, verbose=1, dataset=None):
    keras.random.seed(0)
    data = lecture.load(dataset)
    (x_train, y_train), (x_test, y_test) = data.train, data.held
    y_train_onehot = np.eye(10, dtype=np.float32)[y_train]

    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(10, activation="softmax")
    ])

    optimizer = keras.optimizers.SGD(clipvalue=1.0)
    model.compile(loss="mse", optimizer=optimizer)

    model.fit(x_train, y_train_onehot, epochs=epochs or data.epochs(BOOK_EPOCHS, DIGITS_EPOCHS),
              batch_size=8, verbose=verbose)

    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    print(f"gradient clipping (clipvalue=1.0, mse): {data.held_name} accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    args = lecture.parse_args(__doc__.split("\n\n")[0])
    main(epochs=args.epochs, dataset=args.dataset)
