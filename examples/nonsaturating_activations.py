"""Lecture listings "Nonsaturating Activation Functions (4/4)": a Dense layer with
``activation="elu"``, the leaky-ReLU model as written (a linear Dense with he_normal, then a
``LeakyReLU()`` layer, slope 0.3), and the same model with ``PReLU()`` (slopes learned,
starting at 0) in place of LeakyReLU.

Data: the shipped digits at 28x28 (``digits.load_data(image_size=28)``).

    python examples/nonsaturating_activations.py
"""
import os

import minigrad as keras

EPOCHS = int(os.environ.get("MINIGRAD_EXAMPLE_EPOCHS", "10"))


def fit_and_score(model, data, epochs, verbose):
    (x_train, y_train), (x_test, y_test) = data
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def main(epochs=None, verbose=1):
    epochs = epochs or EPOCHS
    keras.random.seed(0)
    data = keras.datasets.digits.load_data(image_size=28)
    results = {}

    # elu
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(10, activation="elu"),
        keras.layers.Dense(10, activation="softmax")
    ])
    results["elu"] = fit_and_score(model, data, epochs, verbose)

    # leaky relu
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(128, kernel_initializer="he_normal"),
        keras.layers.LeakyReLU(),
        keras.layers.Dense(10, activation="softmax")
    ])
    results["leaky_relu"] = fit_and_score(model, data, epochs, verbose)

    # parametric leaky relu: the slope is a weight
    prelu = keras.layers.PReLU()
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(128, kernel_initializer="he_normal"),
        prelu,
        keras.layers.Dense(10, activation="softmax")
    ])
    results["prelu"] = fit_and_score(model, data, epochs, verbose)

    for name, accuracy in results.items():
        print(f"{name}: test accuracy {accuracy:.4f}")
    print(f"prelu: learned slopes in [{prelu.weights[0].data.min():.3f}, "
          f"{prelu.weights[0].data.max():.3f}]")
    return results


if __name__ == "__main__":
    main()
