"""Each lecture listing on Fashion-MNIST: minigrad beside real Keras 3, same code, same data.

Every listing in ``examples/`` (the 14 on 28x28 images) is run twice with the same epochs on
the book's split (55,000 training, 5,000 validation images): once as written (minigrad), once
with its ``keras`` name bound to real Keras 3 (``KERAS_BACKEND=torch``). For Keras the
listing's source gets only the edits Keras 3 needs: ``lr=`` becomes ``learning_rate=`` (Keras
3 dropped the alias), ``keras.random.seed`` is ``keras.utils.set_random_seed``, EarlyStopping
comes from ``keras.callbacks``, and the augmentation listing gets a channel axis (Keras's
image layers read (batch, h, w, c)). Prints a Markdown table of the validation accuracy of
each (a listing with several models gives one row per model) and the seconds each run took.

    python benchmarks/lecture_fashion.py [--epochs N] [--only a,b] [--no-keras]

``--epochs`` caps every listing's epochs (default: the book's, ``BOOK_EPOCHS`` in each file).
"""
import argparse
import contextlib
import importlib.util
import io
import os
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")   # before any keras import
# one thread each for BLAS and torch: on a shared 2-core machine spinning OpenMP workers
# stall each other (the figures are seconds of a whole run, not a speed contest)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minigrad.datasets import lecture  # noqa: E402

# the image listings: those taking --dataset (not the 2-D blobs network, the diagnostics'
# experiment or the residual-network example)
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.py")
                  if "lecture.parse_args(" in p.read_text())


def load_minigrad(name):
    spec = importlib.util.spec_from_file_location(f"mg_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keras_shim():
    """The ``keras`` module with the two names the listings use that Keras 3 spells
    differently: ``random.seed`` and ``keras.keras`` (the listings' ``tf.keras``)."""
    import keras
    shim = types.ModuleType("keras_shim")
    shim.__getattr__ = lambda name: getattr(keras, name)
    shim.random = types.SimpleNamespace(seed=keras.utils.set_random_seed)
    shim.keras = shim
    return shim, keras.__version__


def load_keras(name, shim):
    source = (ROOT / "examples" / f"{name}.py").read_text()
    source = (source.replace("import minigrad as keras\n", "")
              .replace("import minigrad as tf\n", "")
              .replace("from minigrad.callbacks import", "from keras.callbacks import")
              .replace("(lr=", "(learning_rate="))
    if name == "data_augmentation":
        source = source.replace("input_shape=[28, 28]", "input_shape=[28, 28, 1]")
    module = types.ModuleType(f"keras_{name}")
    module.__dict__.update(keras=shim, tf=shim, __name__=f"keras_{name}")
    exec(compile(source, f"examples/{name}.py (Keras)", "exec"), module.__dict__)
    if name == "data_augmentation":
        real_load = lecture.load

        def with_channel(dataset=None, announce=True):
            data = real_load(dataset, announce)
            data.train = (data.train[0][..., None], data.train[1])
            data.held = (data.held[0][..., None], data.held[1])
            return data
        module.lecture = types.SimpleNamespace(load=with_channel)
    return module


def accuracies(result):
    """{row: accuracy} from a listing's return value (a float or a dict of them)."""
    if isinstance(result, dict):
        return {k: float(v["accuracy"] if isinstance(v, dict) else v) for k, v in result.items()}
    return {"": float(result)}


def run(module, epochs):
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        result = module.main(epochs=epochs, verbose=0, dataset="fashion_mnist")
    return accuracies(result), time.perf_counter() - t0, out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--only", default=None)
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args(argv)
    if not lecture.installed():
        print(f"Fashion-MNIST is not installed: {lecture._idx.INSTALL_LINE}")
        return 1
    names = args.only.split(",") if args.only else EXAMPLES
    shim = version = None
    if not args.no_keras:
        try:
            shim, version = keras_shim()
        except ImportError as e:
            print(f"Keras: not available ({e})")
    rows = []
    for name in names:
        mg = load_minigrad(name)
        epochs = args.epochs or mg.BOOK_EPOCHS
        if args.epochs and name == "early_stopping":
            epochs = None  # as written (500): its callback decides
        mg_acc, mg_s, _ = run(mg, epochs)
        print(f"  {name}: minigrad {mg_acc} in {mg_s:.1f} s", file=sys.stderr, flush=True)
        k_acc, k_s = {}, float("nan")
        if shim is not None:
            import keras
            k_acc, k_s, _ = run(load_keras(name, shim), epochs)
            keras.backend.clear_session()
        for row, acc in mg_acc.items():
            label = f"{name} ({row})" if row else name
            shown = mg.BOOK_EPOCHS if epochs is None else epochs
            rows.append((label, shown, acc, k_acc.get(row, float("nan")), mg_s, k_s))
            print(f"| {label} | {shown} | {acc:.4f} | {rows[-1][3]:.4f} | {mg_s:.1f} | "
                  f"{k_s:.1f} |", flush=True)
    print(f"\nKeras {version} (torch backend); minigrad and Keras on the same split, "
          f"seconds are whole runs (load, build, fit, evaluate), machine shared, load average "
          f"{os.getloadavg()[0]:.2f}")
    print("| listing | epochs | minigrad val. acc | Keras val. acc | minigrad s | Keras s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, ep, a, b, s1, s2 in rows:
        print(f"| {label} | {ep} | {a:.4f} | {b:.4f} | {s1:.1f} | {s2:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
