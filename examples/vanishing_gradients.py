"""Nielsen, "Neural Networks and Deep Learning", chapter 5, on the shipped digits.

Sigmoid networks n_in-30-...-30-10 with Nielsen's network2 initialisation (weights
N(0, 1/n_in), biases N(0, 1)), sigmoid outputs and cross-entropy. At initialisation the norm
of the bias gradient (= the delta, Nielsen's "speed of learning") shrinks towards the input
layer by a factor of about 4-5 per layer; during training the early layers keep learning
more slowly. Nielsen used MNIST (784 inputs); MNIST cannot be downloaded here, so this
uses the 1,797 digits (64 inputs) unless MNIST's IDX files are present locally
(``--dataset mnist``). Nielsen's MNIST figures, for comparison: [0.07, 0.31] (two hidden
layers), [0.012, 0.060, 0.283] (three), [0.003, 0.017, 0.070, 0.285] (four).

    python examples/vanishing_gradients.py [--epochs 30] [--plot speed.png]
"""
import argparse
import math

import numpy as np

import minigrad as keras
from minigrad.diagnostics import GradientMonitor, gradient_report
from minigrad.diagnostics.cli import load_dataset


def nielsen_network(n_in, hidden):
    """Sigmoid layers with weights N(0, 1/n_in) and biases N(0, 1), as network2.py."""
    model = keras.models.Sequential([keras.layers.Input((n_in,))])
    fan_in = n_in
    for units in list(hidden) + [10]:
        model.add(keras.layers.Dense(
            units, activation="sigmoid",
            kernel_initializer=keras.initializers.RandomNormal(stddev=1 / math.sqrt(fan_in)),
            bias_initializer=keras.initializers.RandomNormal(stddev=1.0)))
        fan_in = units
    # network2's cross-entropy cost on sigmoid outputs and one-hot targets
    # Keras averages binary cross-entropy over the 10 outputs where Nielsen sums them: lr 1.0
    # here is his eta = 0.1
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss="binary_crossentropy", metrics=["categorical_accuracy"])
    return model


def speeds(report):
    """Nielsen's per-layer speed of learning: |dC/db| of each hidden layer."""
    return [values["bias_grad_norm"] for values in list(report.layers.values())[:-1]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--plot", help="PNG of the per-layer learning speed during training")
    args = parser.parse_args(argv)
    (xa, ya), (xb, yb) = load_dataset(args.dataset)
    onehot = np.eye(10, dtype=np.float32)
    print(f"dataset {args.dataset}: {xa.shape[1]} inputs, {len(xa)} training images\n")
    print("hidden layers   |dC/db| per hidden layer at initialisation (input side first)")
    results = {}
    for depth in (2, 3, 4):
        keras.random.seed(1)
        model = nielsen_network(xa.shape[1], [30] * depth)
        r = speeds(gradient_report(model, xa, onehot[ya]))
        results[depth] = model
        steps = [r[i + 1] / r[i] for i in range(len(r) - 1)]
        print(f"{depth:>13}   [{', '.join(f'{v:.4f}' for v in r)}]   "
              f"(x{np.mean(steps):.1f} per layer)")
    print(f"\ntraining each for {args.epochs} epochs of SGD (lr 1.0, batch 10): the layers "
          f"near the input learn slowest, and the deeper the net, the slower it learns")
    monitor = None
    for depth in (2, 3, 4):
        keras.random.seed(1)
        model = nielsen_network(xa.shape[1], [30] * depth)
        monitor = GradientMonitor(every=10)
        model.fit(xa, onehot[ya], epochs=args.epochs, batch_size=10, verbose=0,
                  validation_data=(xb, onehot[yb]), callbacks=[monitor])
        names = list(monitor.history)[:-1]
        last = [monitor.history[n]["bias_grad_norm"][-1] for n in names]
        acc = model.evaluate(xb, onehot[yb], verbose=0)[1]
        print(f"  {depth} hidden layers: test accuracy {acc:.3f}; |dC/db| at the last step "
              f"[{', '.join(f'{v:.4f}' for v in last)}]")
        results[depth] = model
    if args.plot:
        keras.diagnostics.plot_gradients(monitor, args.plot, metric="bias_grad_norm")
        print(f"plot of the 4-hidden-layer run written to {args.plot}")
    return results


if __name__ == "__main__":
    main()
