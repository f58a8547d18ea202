"""Lecture listing "Early Stopping (2/2)": stop when the training accuracy improves by
less than 0.05 in an epoch (``patience=1``), on the Dropout listing's model.

Data: Fashion-MNIST when installed (55,000 training and 5,000 validation
images), else the shipped digits at 28x28 (``minigrad.datasets.lecture``; ``--dataset``),
for the listing's ``Flatten(input_shape=[28, 28])``. ``epochs=500`` as written: early
stopping ends it after a handful of epochs.

    python examples/early_stopping.py [--dataset fashion_mnist|digits] [--epochs N]
"""
import minigrad as tf
from minigrad.callbacks import EarlyStopping  # tensorflow.keras.callbacks in the lecture
from minigrad.datasets import lecture

BOOK_EPOCHS = 500      # on Fashion-MNIST: as written; the callback stops it
DIGITS_EPOCHS = 500    # the short run on the shipped digits


def main(epochs=None, verbose=1, dataset=None):
    tf.random.seed(0)
    data = lecture.load(dataset)
    (x_train, y_train), (x_test, y_test) = data.train, data.held

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=[28, 28]),
        tf.keras.layers.Dropout(rate=0.2),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(rate=0.2),
        tf.keras.layers.Dense(10, activation="softmax")
    ])

    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=['accuracy'])

    earlystop_callback = EarlyStopping(monitor='accuracy', min_delta=0.05, patience=1)

    history = model.fit(x_train, y_train,
                        epochs=epochs or data.epochs(BOOK_EPOCHS, DIGITS_EPOCHS),
                        callbacks=[earlystop_callback], verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"early stopping: stopped after {len(history.epoch)} epochs "
          f"(stopped_epoch={earlystop_callback.stopped_epoch}); {data.held_name} "
          f"loss {loss:.4f}, "
          f"accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    args = lecture.parse_args(__doc__.split("\n\n")[0])
    main(epochs=args.epochs, dataset=args.dataset)
