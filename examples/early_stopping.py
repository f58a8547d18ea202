"""Lecture listing "Early Stopping (2/2)": stop when the training accuracy improves by
less than 0.05 in an epoch (``patience=1``), on the Dropout listing's model.

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``), for the listing's
``Flatten(input_shape=[28, 28])``. ``epochs=500`` as written: early stopping ends it after a
handful of epochs.

    python examples/early_stopping.py
"""
import os

import minigrad as tf
from minigrad.callbacks import EarlyStopping  # tensorflow.keras.callbacks in the lecture

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "500"))


def main(epochs=None, verbose=1):
    tf.random.seed(0)
    (x_train, y_train), (x_test, y_test) = tf.datasets.digits.load_data(image_size=28)

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=[28, 28]),
        tf.keras.layers.Dropout(rate=0.2),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(rate=0.2),
        tf.keras.layers.Dense(10, activation="softmax")
    ])

    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=['accuracy'])

    earlystop_callback = EarlyStopping(monitor='accuracy', min_delta=0.05, patience=1)

    history = model.fit(x_train, y_train, epochs=epochs or EPOCHS,
                        callbacks=[earlystop_callback], verbose=verbose)

    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"early stopping: stopped after {len(history.epoch)} epochs "
          f"(stopped_epoch={earlystop_callback.stopped_epoch}); test loss {loss:.4f}, "
          f"accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
