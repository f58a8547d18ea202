"""Command line: ``python -m minigrad demo`` and ``python -m minigrad gradients``."""
import argparse
import sys


def demo(args):
    """Train a small MLP on the shipped digits with Sequential.fit and the progress bar."""
    import minigrad as keras
    from minigrad.datasets import digits

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
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_split=0.1, verbose=args.verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m minigrad",
        description="minigrad: train deep feedforward networks and watch their gradients.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train an MLP on the shipped digits (no download)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=demo)
    from minigrad.diagnostics.cli import add_parser as add_gradients_parser
    add_gradients_parser(sub)
    from minigrad.bench import add_parser as add_bench_parser
    add_bench_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
