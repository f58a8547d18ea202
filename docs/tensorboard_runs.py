"""Write the TensorBoard runs behind docs/tensorboard_gradients.png.

The lecture's vanishing-gradient experiment (10 hidden Dense(32) layers, SGD lr 0.1, batch
32, the digits, a linear output with a from-logits cross-entropy), once with sigmoid +
glorot_uniform and once with relu + he_normal, logged by the TensorBoard callback with
``gradient_freq=5``. Then::

    tensorboard --logdir runs/gradients --host 127.0.0.1 --port 6006

    PYTHONPATH=. python docs/tensorboard_runs.py runs/gradients
"""
import sys

import numpy as np

import minigrad as mg

CASES = (("sigmoid+glorot_uniform", "sigmoid", "glorot_uniform"),
         ("relu+he_normal", "relu", "he_normal"))


def build(activation, init, depth=10, width=32):
    # fixed layer names, so that both runs share their tags (gradients/L01/..., ...)
    stack = [mg.layers.Input((64,))]
    stack += [mg.layers.Dense(width, activation=activation, kernel_initializer=init,
                              name=f"L{i + 1:02d}") for i in range(depth)]
    stack.append(mg.layers.Dense(10, name=f"L{depth + 1:02d}"))
    model = mg.models.Sequential(stack)
    model.compile(optimizer=mg.optimizers.SGD(learning_rate=0.1), metrics=["accuracy"],
                  loss=mg.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(logdir):
    (xa, ya), (xb, yb) = mg.datasets.digits.load_data()
    xa, xb = xa.reshape(len(xa), -1), xb.reshape(len(xb), -1)
    ya, yb = ya.astype(np.int64), yb.astype(np.int64)
    for run, activation, init in CASES:
        mg.random.seed(0)
        model = build(activation, init)
        tb = mg.callbacks.TensorBoard(f"{logdir}/{run}", histogram_freq=5, gradient_freq=5)
        history = model.fit(xa, ya, epochs=20, batch_size=32, validation_data=(xb, yb),
                            verbose=0, callbacks=[tb])
        print(f"{run}: val_accuracy {history.history['val_accuracy'][-1]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/gradients")
