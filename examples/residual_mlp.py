"""Skip connections against vanishing gradients: a deep sigmoid MLP with and without them.

The plain net is Input -> Dense(width, sigmoid) x depth -> Dense(10). The residual net has the
same layers, but every hidden layer after the first adds its input back: h <- h + f(h)
(API §11's definition: the first hidden layer changes the width and has no skip). Both start
from the same weights (Glorot uniform, seed 0) on the digits. At initialisation the table
shows each hidden layer's kernel-gradient norm relative to the last hidden layer's: in the
plain net the ratio falls by a factor of about four per sigmoid layer, so the first layers
barely learn; with skips the gradient reaches the first layer through the identity paths and
the ratio stays within a few times one.

    python examples/residual_mlp.py [--depth 20] [--width 32]
"""
import argparse

import minigrad as keras
from minigrad.diagnostics import gradient_report
from minigrad.diagnostics.cli import load_dataset


def mlp(n_in, depth, width, residual):
    """Functional sigmoid MLP; ``residual`` adds h + f(h) around hidden layers 2..depth."""
    inputs = keras.Input((n_in,), name="pixels")
    h = keras.layers.Dense(width, activation="sigmoid", name="hidden1")(inputs)
    for i in range(2, depth + 1):
        f = keras.layers.Dense(width, activation="sigmoid", name=f"hidden{i}")(h)
        h = keras.layers.Add(name=f"skip{i}")([h, f]) if residual else f
    outputs = keras.layers.Dense(10, name="logits")(h)
    model = keras.Model(inputs, outputs, name="residual" if residual else "plain")
    model.compile(optimizer="sgd",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def first_last_ratio(report):
    """|grad| of the first hidden layer over that of the last hidden layer."""
    hidden = [v["kernel_grad_norm"] for k, v in report.layers.items() if k.startswith("hidden")]
    return hidden[0] / hidden[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=32)
    args = parser.parse_args(argv)
    (x, y), _ = load_dataset("digits")
    x, y = x[:256], y[:256]
    ratios = {}
    for residual in (False, True):
        keras.random.seed(0)
        model = mlp(x.shape[1], args.depth, args.width, residual)
        report = gradient_report(model, x, y)
        ratios[model.name] = first_last_ratio(report)
        print(f"{model.name} net, depth {args.depth}:")
        print(report.table())
        print()
    print(f"first / last hidden-layer |grad| at initialisation, depth {args.depth}:")
    for name, ratio in ratios.items():
        print(f"  {name:<9} {ratio:.3e}")
    return ratios


if __name__ == "__main__":
    main()
