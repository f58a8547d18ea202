"""Command line: ``python -m minigrad`` (or the ``minigrad`` console script) with the
subcommands ``demo``, ``gradients``, ``sweep`` and ``reproduce``."""
import argparse
import os
import sys


def demo(args):
    """Train a small MLP on the shipped digits with Sequential.fit and the progress bar."""
    import minigrad as keras
    from minigrad._checks import integer
    from minigrad.datasets import digits, lecture

    if args.epochs is not None:
        integer("demo", "--epochs", args.epochs, 1)
    integer("demo", "--batch-size", args.batch_size, 1)
    if args.dataset == "fashion_mnist":  # the book's model on its dataset (datasets/lecture.py)
        lecture.book_demo(args.epochs, args.batch_size, args.seed, args.verbose)
        return 0
    keras.random.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=[8, 8]),
        keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.005),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10 if args.epochs is None else args.epochs,
              batch_size=args.batch_size, validation_split=0.1, verbose=args.verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return 0


def prog_name():
    """``minigrad`` for the console script, ``python -m minigrad`` otherwise."""
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "minigrad" if script in ("minigrad", "minigrad.exe") else "python -m minigrad"


def build_parser():
    from minigrad import __version__
    from minigrad.diagnostics.cli import add_parser as add_gradients_parser
    from minigrad.diagnostics.cli import guarded
    from minigrad.experiments.cli import add_parser as add_sweep_parser
    from minigrad.experiments.studies.cli import add_parser as add_reproduce_parser
    parser = argparse.ArgumentParser(
        prog=prog_name(),
        description="minigrad: train deep feedforward networks and watch their gradients.")
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train an MLP on the shipped digits (no download)")
    p.add_argument("--epochs", type=int, default=None,
                   help="default: 10 on digits, the book's 30 on fashion_mnist")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dataset", choices=("digits", "fashion_mnist"), default="digits",
                   help="fashion_mnist: the book's 300-100-10 SGD model on Fashion-MNIST")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=guarded(demo, "demo"))
    add_gradients_parser(sub)
    add_sweep_parser(sub)
    add_reproduce_parser(sub)
    from minigrad.bench import add_parser as add_bench_parser
    add_bench_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
