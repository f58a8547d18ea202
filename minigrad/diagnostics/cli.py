"""``python -m minigrad gradients``: the vanishing/exploding-gradient experiments."""
import math
import time

import numpy as np

from .. import activations as _activations

# every name of the activation registry whose function runs with its defaults
ACTIVATIONS = tuple(n for n in _activations.names() if _activations.entry(n).takes_defaults)

# the lecture's cases: (label, activation, init, batch_norm, clipnorm)
COMPARE_CASES = (
    ("sigmoid + glorot_uniform", "sigmoid", "glorot_uniform", False, None),
    ("sigmoid + normal:1.0", "sigmoid", "normal:1.0", False, None),
    ("tanh + glorot_uniform", "tanh", "glorot_uniform", False, None),
    ("relu + he_normal", "relu", "he_normal", False, None),
    ("leaky_relu + he_normal", "leaky_relu", "he_normal", False, None),
    ("elu + he_normal", "elu", "he_normal", False, None),
    ("selu + lecun_normal", "selu", "lecun_normal", False, None),
    ("sigmoid + batch norm", "sigmoid", "glorot_uniform", True, None),
    ("relu + normal:1.0", "relu", "normal:1.0", False, None),
    ("relu + normal:1.0 + clip 1", "relu", "normal:1.0", False, 1.0),
)


def parse_init(spec):
    """A Keras initializer name, or ``normal:STD`` for N(0, STD^2) (``normal:1.0`` = N(0,1))."""
    from .. import initializers
    if spec.startswith("normal:"):
        try:
            std = float(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"--init {spec!r}: expected normal:STD with a number, e.g. "
                             f"normal:1.0") from None
        if not std > 0:
            raise ValueError(f"--init {spec!r}: the standard deviation must be positive")
        return initializers.RandomNormal(mean=0.0, stddev=std)
    initializers.get(spec)   # raises ValueError listing the valid names
    return spec


def check_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"--activation {name!r}: unknown; valid: {', '.join(ACTIVATIONS)}")
    return name


def load_dataset(name):
    """Flattened (x_train, y_train), (x_test, y_test) for ``digits``, ``digits28``, ``mnist``."""
    from ..datasets import digits, mnist
    if name == "mnist":
        (xa, ya), (xb, yb) = mnist.load_data()
        xa, xb = xa / np.float32(255), xb / np.float32(255)
    elif name in ("digits", "digits28"):
        (xa, ya), (xb, yb) = digits.load_data(image_size=28 if name == "digits28" else 8)
    else:
        raise ValueError(f"--dataset {name!r}: valid: digits, digits28, mnist")
    return (_flat(xa), ya.astype(np.int64)), (_flat(xb), yb.astype(np.int64))


def _flat(images):
    return images.reshape(len(images), -1).astype(np.float32)


def build_model(n_in, depth, width, activation, init, batch_norm=False, n_out=10):
    """Input -> depth x [Dense(width, activation) | Dense, BatchNorm, Activation] -> logits.

    The output layer is linear and the loss takes logits: a softmax followed by Keras's
    clipped-probability cross-entropy has a zero gradient wherever a probability is
    clipped, which would hide an exploding network's gradients behind zeros."""
    from .. import layers, models
    stack = [layers.Input((n_in,))]
    for _ in range(depth):
        if batch_norm:
            stack += [layers.Dense(width, kernel_initializer=init),
                      layers.BatchNormalization(), layers.Activation(activation)]
        else:
            stack.append(layers.Dense(width, activation=activation, kernel_initializer=init))
    stack.append(layers.Dense(n_out))
    return models.Sequential(stack)


def run_case(data, depth, width, activation, init, batch_norm=False, clipnorm=None,
             optimizer="sgd", lr=0.1, epochs=5, batch_size=32, seed=0, target=0.8):
    """Train one configuration; gradient reports at init and after training, the monitor,
    accuracy per epoch and the first epoch reaching ``target`` validation accuracy."""
    from .. import losses, optimizers, random
    from .monitor import GradientMonitor
    from .report import gradient_report
    (xa, ya), (xb, yb) = data
    random.seed(seed)
    model = build_model(xa.shape[1], depth, width, check_activation(activation),
                        parse_init(init), batch_norm)
    opt_cls = optimizers.get(optimizer).__class__
    opt = opt_cls(learning_rate=lr, clipnorm=clipnorm)
    model.compile(optimizer=opt, metrics=["accuracy"],
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    probe_x, probe_y = xa[:512], ya[:512]
    monitor = GradientMonitor(every=1)
    # an exploding network overflows on purpose: the tables mark it, numpy need not warn
    with np.errstate(over="ignore", invalid="ignore"):
        before = gradient_report(model, probe_x, probe_y)
        start = time.perf_counter()
        hist = model.fit(xa, ya, epochs=epochs, batch_size=batch_size, verbose=0,
                         validation_data=(xb, yb), callbacks=[monitor])
        seconds = time.perf_counter() - start
        after = gradient_report(model, probe_x, probe_y)
    acc = [float(a) for a in hist.history["val_accuracy"]]
    reached = next((i + 1 for i, a in enumerate(acc) if a >= target), None)
    return {"before": before, "after": after, "monitor": monitor, "val_accuracy": acc,
            "epochs_to_target": reached, "seconds": seconds}


def _norms(report, metric="kernel_grad_norm"):
    return [v[metric] for v in report.layers.values()]


def _ratio(values):
    first, last = values[0], values[-1]
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0:
        return math.nan if math.isfinite(first) and math.isfinite(last) else math.inf
    return first / last


def _cell(v, width=8):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-".rjust(width)
    if not math.isfinite(v):
        return "EXPL".rjust(width)
    return f"{v:.1e}".rjust(width)


def compare_table(results, target):
    """Two tables: per-layer |grad| at init, then the summary per case."""
    labels = list(results)
    n = len(_norms(results[labels[0]]["before"]))
    lab = max(len(s) for s in labels) + 2
    head = "case".ljust(lab) + "".join(f"L{i + 1}".rjust(8) for i in range(n))
    out = ["per-layer kernel gradient norm |dL/dW| at initialisation "
           "(L1 = closest to the input)", head, "-" * len(head)]
    for label in labels:
        out.append(label.ljust(lab) + "".join(_cell(v) for v in _norms(results[label]["before"])))
    out.append("")
    head2 = (f"{'case'.ljust(lab)}{'L1/Llast init':>14}{'L1/Llast end':>14}"
             f"{'max|delta|':>12}{'final acc':>10}{f'ep>={target:.2f}':>10}")
    out += ["summary: ratio of first to last layer, largest delta norm at init, accuracy",
            head2, "-" * len(head2)]
    for label in labels:
        r = results[label]
        deltas = _norms(r["before"], "delta_norm")
        biggest = max(deltas, key=lambda d: (not math.isfinite(d), d))
        reached = r["epochs_to_target"]
        out.append(f"{label.ljust(lab)}{_cell(_ratio(_norms(r['before'])), 14)}"
                   f"{_cell(_ratio(_norms(r['after'])), 14)}{_cell(biggest, 12)}"
                   f"{r['val_accuracy'][-1]:>10.3f}{(str(reached) if reached else '-'):>10}")
    return "\n".join(out)


def command(args):
    """Entry point of the ``gradients`` subcommand."""
    from .plot import check_path, plot_gradients, plot_profiles
    if args.plot:
        check_path(args.plot)          # fail before training, not after
    if not args.compare:
        parse_init(args.init)
        check_activation(args.activation)
    data = load_dataset(args.dataset)
    common = dict(depth=args.depth, width=args.width, optimizer=args.optimizer, lr=args.lr,
                  epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                  target=args.target)
    if args.compare:
        results = {}
        for label, act, init, bn, clip in COMPARE_CASES:
            results[label] = run_case(data, activation=act, init=init, batch_norm=bn,
                                      clipnorm=clip, **common)
        print(f"{args.depth} hidden layers of {args.width} units, {args.optimizer} "
              f"lr={args.lr}, {args.epochs} epochs, dataset {args.dataset}\n")
        print(compare_table(results, args.target))
        if args.plot:
            plot_profiles({k: _norms(v["before"]) for k, v in results.items()}, args.plot,
                          title="kernel gradient norm at initialisation")
            print(f"\nplot written to {args.plot}")
        return 0
    r = run_case(data, activation=args.activation, init=args.init, batch_norm=args.batch_norm,
                 clipnorm=args.clipnorm, **common)
    print(r["before"].table().replace("gradients of one batch (no training)",
                                      "at initialisation (512 training samples)"))
    print()
    print(r["after"].table().replace("gradients of one batch (no training)",
                                     f"after {args.epochs} epochs"))
    print("\nvalidation accuracy per epoch: "
          + " ".join(f"{a:.3f}" for a in r["val_accuracy"])
          + f"   ({r['seconds']:.1f} s)")
    if args.plot:
        plot_gradients(r["monitor"], args.plot)
        print(f"plot written to {args.plot}")
    return 0


def add_parser(subparsers):
    """Register the ``gradients`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser("gradients", help="watch gradients vanish or explode per layer")
    p.add_argument("--depth", type=int, default=10, help="hidden layers (default 10)")
    p.add_argument("--width", type=int, default=32, help="units per hidden layer")
    p.add_argument("--activation", default="sigmoid", help=", ".join(ACTIVATIONS))
    p.add_argument("--init", default="glorot_uniform",
                   help="Keras initializer name or normal:STD (normal:1.0 = N(0,1))")
    p.add_argument("--batch-norm", action="store_true", help="BatchNormalization after Dense")
    p.add_argument("--optimizer", default="sgd", help="sgd, adagrad, rmsprop, adam")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--clipnorm", type=float, default=None)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dataset", default="digits", help="digits (8x8), digits28, mnist")
    p.add_argument("--target", type=float, default=0.8, help="accuracy for 'epochs to target'")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="PATH", help="write a PNG of the gradient norms")
    p.add_argument("--compare", action="store_true", help="run the lecture's cases side by side")
    p.set_defaults(func=_guarded)
    return p


def _guarded(args):
    """Turn user mistakes into a one-line error and exit code 2 instead of a traceback."""
    import sys
    try:
        return command(args)
    except (ValueError, FileNotFoundError, ImportError) as e:
        print(f"minigrad gradients: error: {e}", file=sys.stderr)
        return 2
