"""``python -m minigrad gradients``: the vanishing/exploding-gradient experiments.

One configuration: the per-layer report at initialisation, training with a GradientMonitor,
the report after training (``--epochs 0``: the report at initialisation only). ``--compare``:
the lecture's cases side by side over ``--seeds N`` seeds, run through
``minigrad.experiments.run_grid`` (the same trials as a sweep).
"""
import math
import sys

import numpy as np

from .. import activations as _activations
from .._checks import integer

# every registered activation that runs with its defaults (all but threshold); the
# experiments config checks a given name against the same registry
ACTIVATIONS = tuple(n for n in _activations.names() if _activations.entry(n).takes_defaults)
# command-line defaults of the keys a --compare case fixes (None on the parser, so that an
# explicit --activation beside --compare can be refused instead of ignored)
CASE_DEFAULTS = {"activation": "sigmoid", "init": "glorot_uniform"}


def parse_init(spec):
    """A Keras initializer name, or ``normal:STD`` for N(0, STD^2) (``normal:1.0`` = N(0,1)),
    ``uniform:LIMIT``, ``scaled_normal:S`` (N(0, S/n_in)), ``scaled_uniform:S``."""
    from ..experiments.config import initializer_spec, make_initializer
    return make_initializer(initializer_spec("--init", spec))


def load_dataset(name):
    """Flattened float32 ``(x_train, y_train), (x_test, y_test)``, int64 labels, for
    digits, digits28, mnist, fashion_mnist, moons, spirals (the experiments' data)."""
    from ..experiments.config import DATASETS
    from ..experiments.trial import load_data
    if name not in DATASETS:
        raise ValueError(f"--dataset {name!r}: valid: {', '.join(DATASETS)}")
    (xa, ya), (xb, yb) = load_data(name)
    return (xa.copy(), ya.copy()), (xb.copy(), yb.copy())     # the cache stays untouched


def build_model(n_in, depth, width, activation, init, batch_norm=False, n_out=10):
    """Input -> depth x [Dense(width, activation) | Dense, BatchNorm, Activation] -> logits,
    the layers named hidden_1 ... hidden_<depth>, output (the experiments' net).

    The output layer is linear and the loss takes logits: a softmax followed by Keras's
    clipped-probability cross-entropy has a zero gradient wherever a probability is
    clipped, which would hide an exploding network's gradients behind zeros."""
    from .. import layers, models
    from ..experiments import trial
    spec = init if isinstance(init, str) else "glorot_uniform"
    config = _config(depth=depth, width=width, activation=activation, initializer=spec,
                     batch_norm=batch_norm)
    blocks = trial.build_blocks(config, n_in, None if isinstance(init, str) else init)
    stack = [layers.Input((n_in,))] + [layer for b in blocks for layer in b.layers]
    return models.Sequential(stack + [layers.Dense(n_out, name="output")])


def _config(**keys):
    from ..experiments.config import canonical
    return canonical(keys)


def config_from_args(args):
    """The experiments config (API §11) of the command line's options."""
    keys = dict(dataset=args.dataset, depth=args.depth, width=args.width,
                activation=args.activation or CASE_DEFAULTS["activation"],
                initializer=args.init or CASE_DEFAULTS["init"], batch_norm=args.batch_norm,
                residual=args.residual, optimizer=args.optimizer, learning_rate=args.lr,
                clipnorm=args.clipnorm, batch_size=args.batch_size, epochs=args.epochs,
                target=args.target, seed=args.seed)
    return _config(**keys)


def describe(config):
    """One line naming a configuration (titles and table headers)."""
    net = f"{config['depth']} hidden layers of {config['width']}"
    parts = [net, f"{config['activation']} + {config['initializer']}"]
    if config["batch_norm"]:
        parts.append("batch norm")
    if config["residual"]:
        parts.append("residual")
    opt = f"{config['optimizer']} lr={config['learning_rate']:g}"
    if config["clipnorm"]:
        opt += f" clipnorm={config['clipnorm']:g}"
    return ", ".join(parts + [opt, f"{config['epochs']} epochs", config["dataset"]])


def run_case(config):
    """Train one configuration with a GradientMonitor; reports at init and after training
    (``epochs`` 0: the report at initialisation only, no training)."""
    from ..experiments import trial
    from .monitor import GradientMonitor
    from .report import gradient_report
    (xa, ya), (xb, yb) = trial.load_data(config["dataset"])
    from .. import random
    random.seed(config["seed"])
    model, _ = trial.build_model(config, xa.shape[1], int(ya.max()) + 1)
    trial.compile_model(model, config)
    probe_x, probe_y = xa[:trial.PROBE_BATCH], ya[:trial.PROBE_BATCH]
    monitor = GradientMonitor(every=1)
    out = {"monitor": monitor, "after": None, "val_accuracy": [], "history": {},
           "seconds": 0.0}
    # an exploding network overflows on purpose: the tables mark it, numpy need not warn
    with np.errstate(over="ignore", invalid="ignore"):
        out["before"] = gradient_report(model, probe_x, probe_y)
        if config["epochs"]:
            import time
            start = time.perf_counter()
            hist = model.fit(xa, ya, epochs=config["epochs"], batch_size=config["batch_size"],
                             verbose=0, validation_data=(xb, yb), callbacks=[monitor])
            out["seconds"] = time.perf_counter() - start
            out["after"] = gradient_report(model, probe_x, probe_y)
            out["history"] = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
            out["val_accuracy"] = out["history"]["val_accuracy"]
    return out


def _single(args):
    from .plot import plot_gradients
    config = config_from_args(args)
    r = run_case(config)
    print(describe(config) + "\n")
    print(r["before"].table().replace("gradients of one batch (no training)",
                                      "at initialisation (512 training samples)"))
    if r["after"] is not None:
        print()
        print(r["after"].table().replace("gradients of one batch (no training)",
                                         f"after {config['epochs']} epochs"))
        print("\nvalidation accuracy per epoch: "
              + " ".join(f"{a:.3f}" for a in r["val_accuracy"])
              + f"   ({r['seconds']:.1f} s)")
    else:
        print("\n--epochs 0: measured at initialisation only, no training")
    if args.plot:
        source = r["monitor"] if r["monitor"].steps else r["before"]
        plot_gradients(source, args.plot, title=describe(config))
        print(f"plot written to {args.plot}")
    if args.logdir:
        _log_single(args.logdir, config, r)
    return 0


def _log_single(logdir, config, r):
    """The run as one TensorBoard run, named as a sweep's trial would be."""
    from ..experiments.logdir import write_records
    from ..experiments.trial import empty_record, grad_rows
    parts = [config["activation"], config["initializer"]]
    parts += [name for key, name in (("batch_norm", "batch norm"), ("residual", "residual"))
              if config[key]]
    if config["clipnorm"]:
        parts.append(f"clip {config['clipnorm']:g}")
    record = empty_record(dict(config, case=" + ".join(parts)))
    record["grad_init"] = grad_rows(r["before"])
    if r["after"] is not None:
        record["grad_final"] = grad_rows(r["after"])
    record["history"] = r["history"]
    (name,) = write_records(logdir, [record])
    print(f"TensorBoard run written to {logdir}/{name}")


def _median_profile(records, when="init"):
    """Per layer, the median kernel gradient norm over the records' seeds."""
    rows = [r[f"grad_{when}"] for r in records if r.get(f"grad_{when}")]
    if not rows:
        return []
    values = np.array([[v["kernel_grad_norm"] for v in row.values()] for row in rows])
    with np.errstate(all="ignore"):
        return [float(np.median(col)) for col in values.T]


def _cell(v, width=8):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-".rjust(width)
    if not math.isfinite(v):
        return "EXPL".rjust(width)
    return f"{v:.1e}".rjust(width)


def compare_table(results):
    """Per-layer |grad| at initialisation (median over seeds) for every case."""
    groups = results.groups()
    profiles = {label: _median_profile(recs) for label, recs in groups.items()}
    n = max(len(p) for p in profiles.values())
    lab = max(len(s) for s in profiles) + 2
    head = "case".ljust(lab) + "".join(f"L{i + 1}".rjust(8) for i in range(n))
    seeds = max(len(recs) for recs in groups.values())
    out = [f"per-layer kernel gradient norm |dL/dW| at initialisation, median of {seeds} "
           f"seed{'s' if seeds > 1 else ''} (L1 = closest to the input)",
           head, "-" * len(head)]
    for label, profile in profiles.items():
        out.append(label.ljust(lab) + "".join(_cell(v) for v in profile))
    return "\n".join(out)


def _compare(args):
    from ..experiments import lecture_cases, run_grid
    from ..experiments.cases import case_grid
    fixed = [flag for flag, value in (("--activation", args.activation), ("--init", args.init),
                                      ("--batch-norm", args.batch_norm),
                                      ("--clipnorm", args.clipnorm),
                                      ("--residual", args.residual)) if value]
    if fixed:
        raise ValueError(f"--compare runs the lecture's fixed cases, each with its own "
                         f"activation, initializer, batch norm, clipping and skips; "
                         f"{', '.join(fixed)} cannot be combined with it (drop "
                         f"{'them' if len(fixed) > 1 else 'it'}, or run without --compare)")
    base = config_from_args(args)
    common = {k: base[k] for k in ("dataset", "depth", "width", "optimizer", "learning_rate",
                                   "batch_size", "epochs", "target")}
    grid = case_grid(lecture_cases(), range(args.seed, args.seed + args.seeds), **common)
    results = run_grid(grid, workers=args.workers, progress=sys.stderr.isatty())
    title = (f"{base['depth']} hidden layers of {base['width']} units, {base['optimizer']} "
             f"lr={base['learning_rate']:g}, {base['epochs']} epochs, dataset "
             f"{base['dataset']}, {args.seeds} seed{'s' if args.seeds > 1 else ''}")
    print(title + "\n")
    print(compare_table(results))
    print()
    print(results.summary())
    if args.plot:
        results.plot(args.plot, title=f"kernel gradient norm at initialisation: {title}")
        print(f"\nplot written to {args.plot}")
    if args.logdir:
        from ..experiments.logdir import write_records
        names = write_records(args.logdir, results)
        print(f"{len(names)} TensorBoard runs written to {args.logdir}")
    return 0


def command(args):
    """Entry point of the ``gradients`` subcommand."""
    from .plot import check_path
    for name in ("depth", "width", "epochs", "batch_size", "seeds", "workers"):
        value = getattr(args, name)
        if value is not None:
            integer(f"--{name.replace('_', '-')}", "the value", value,
                    0 if name == "epochs" else 1)
    if args.plot:
        check_path(args.plot)          # fail before training, not after
    if args.logdir:
        from ..experiments.logdir import writer
        writer()                       # the tensorboard extra: checked before training too
    if args.seeds != 1 and not args.compare:
        raise ValueError("--seeds runs the --compare cases over several seeds; for one "
                         "configuration over seeds use a sweep (python -m minigrad sweep)")
    return _compare(args) if args.compare else _single(args)


def add_parser(subparsers):
    """Register the ``gradients`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser("gradients", help="watch gradients vanish or explode per layer")
    p.add_argument("--depth", type=int, default=10, help="hidden layers (default 10)")
    p.add_argument("--width", type=int, default=32, help="units per hidden layer")
    p.add_argument("--activation", default=None,
                   help=f"{', '.join(ACTIVATIONS)} (default sigmoid)")
    p.add_argument("--init", default=None,
                   help="Keras initializer name, normal:STD (normal:1.0 = N(0,1)), "
                        "uniform:LIMIT, scaled_normal:S or scaled_uniform:S "
                        "(default glorot_uniform)")
    p.add_argument("--batch-norm", action="store_true", help="BatchNormalization after Dense")
    p.add_argument("--residual", action="store_true",
                   help="skip connections h + f(h) around hidden layers 2..depth")
    p.add_argument("--optimizer", default="sgd", help="sgd, adagrad, rmsprop, adam")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--clipnorm", type=float, default=None)
    p.add_argument("--epochs", type=int, default=20,
                   help="training epochs (0: the report at initialisation only)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dataset", default="digits",
                   help="digits (8x8), digits28, mnist, fashion_mnist, moons, spirals")
    p.add_argument("--target", type=float, default=0.8, help="accuracy for 'epochs to target'")
    p.add_argument("--seed", type=int, default=0, help="(first) seed")
    p.add_argument("--seeds", type=int, default=1, help="--compare: seeds per case")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="--compare: worker processes (default: the number of cores)")
    p.add_argument("--plot", metavar="PATH", help="write a PNG of the gradient norms")
    p.add_argument("--logdir", metavar="DIR", help="write TensorBoard event files per run")
    p.add_argument("--compare", action="store_true", help="run the lecture's cases side by side")
    p.set_defaults(func=guarded(command, "gradients"))
    return p


def guarded(fn, name):
    """``fn(args)`` with user mistakes turned into one line on stderr and exit code 2."""
    def run(args):
        try:
            return fn(args)
        except (ValueError, TypeError, FileNotFoundError, ImportError, OSError) as e:
            print(f"minigrad {name}: error: {e}", file=sys.stderr)
            return 2
    return run
