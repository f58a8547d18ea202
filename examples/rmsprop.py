"""Lecture listing "RMSProp (2/2)": RMSProp: ``s = rho*s + (1-rho)*g^2; w -= lr*g / sqrt(s + eps)``.
``lr=`` is the lecture's spelling; minigrad accepts it as an alias of ``learning_rate``.

Model and data: the lecture's Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax) on
Fashion-MNIST when installed (55,000 training and 5,000 validation
images), else the shipped digits at 28x28 (``minigrad.datasets.lecture``; ``--dataset``).

    python examples/rmsprop.py [--dataset fashion_mnist|digits] [--epochs N]
"""
import minigrad as keras
from minigrad.datasets import lecture

BOOK_EPOCHS = 10      # on Fashion-MNIST
DIGITS_EPOCHS = 10    # the short run on the shipped digits


def main(epochs=None, verbose=1, dataset=None):
    keras.random.seed(0)
    data = lecture.load(dataset)
    (x_train, y_train), (x_test, y_test) = data.train, data.held
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax")
    ])

    optimizer = keras.optimizers.RMSprop(lr=0.001, rho=0.9)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])

    model.fit(x_train, y_train, epochs=epochs or data.epochs(BOOK_EPOCHS, DIGITS_EPOCHS),
              verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"RMSprop: {data.held_name} loss {loss:.4f}, accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    args = lecture.parse_args(__doc__.split("\n\n")[0])
    main(epochs=args.epochs, dataset=args.dataset)
