"""Seconds per epoch of ``fit`` on the lecture model, minigrad vs Keras 3 (torch) vs PyTorch.

The model: Flatten(28x28) -> Dense(128, relu) -> Dense(10, softmax), Adam(1e-3), sparse
categorical cross-entropy, accuracy, batch 32, on the 1,500 training digits at 28x28
(``digits.load_data(image_size=28)``: 47 steps per epoch, the last one partial).

- minigrad ``fit`` with verbose=0 and with verbose=1 (the progress bar written to a
  non-terminal stream, so its cost is measured, not the terminal's), and verbose=0 again in
  a child process limited to one BLAS thread (small GEMMs often run faster on one);
- the same step by hand: numpy around minigrad's kernels, no graph, layers or checks (the
  floor set by the GEMMs, the Adam pass and the batch gather; fit's overhead sits on it);
- Keras 3 on the torch backend, ``fit(verbose=0)``, when ``keras`` and ``torch`` import;
- a hand-written PyTorch loop (shuffle, zero_grad, forward, cross-entropy, backward, Adam
  step, running loss and accuracy read back per batch) when ``torch`` imports.

Each timing: one warm-up epoch (numba compiles, torch allocates), then the best of
``--repeats`` runs of ``fit(epochs=--epochs)``, divided by the epoch count. Neither torch nor
keras is a dependency of minigrad: absent ones are reported and skipped.

Then, where Fashion-MNIST is installed (``apt-get install dataset-fashion-mnist``), one epoch
of the book's model (Flatten -> Dense(300, relu) -> Dense(100, relu) -> Dense(10, softmax),
SGD(0.01), batch 32) on the 55,000 training images (1,719 steps), minigrad vs Keras 3 (torch)
vs a PyTorch loop, each after a warm-up fit on 2,000 images, with the validation accuracy on
the 5,000 held-out images after that epoch. Targets (issue 18): <= 0.1x Keras, <= 0.5x the
PyTorch loop. ``--fashion-only`` runs just this part.

    python benchmarks/bench_fit.py [--epochs 5] [--repeats 3] [--fashion-only]
"""
import argparse
import contextlib
import io
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")   # before any keras import
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo

import numpy as np
from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

import minigrad as mg
from minigrad.datasets import digits


def best_epoch_time(run_epochs, epochs, repeats):
    """Warm up with one epoch, then the best of ``repeats`` timings of ``epochs`` epochs."""
    run_epochs(1)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_epochs(epochs)
        best = min(best, time.perf_counter() - t0)
    return best / epochs


# ---- minigrad ---------------------------------------------------------------------------
def minigrad_model():
    mg.random.seed(0)
    model = mg.models.Sequential([
        mg.layers.Flatten(input_shape=[28, 28]),
        mg.layers.Dense(128, activation="relu"),
        mg.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=mg.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def bench_minigrad(x, y, x_test, y_test, epochs, repeats, verbose):
    model = minigrad_model()
    sink = io.StringIO()    # not a terminal: the bar prints at most one line per 50 ms

    def run(n):
        with contextlib.redirect_stdout(sink):
            model.fit(x, y, batch_size=32, epochs=n, verbose=verbose)

    seconds = best_epoch_time(run, epochs, repeats)
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    return seconds, acc


# ---- Keras 3 on torch -------------------------------------------------------------------
def bench_keras(x, y, x_test, y_test, epochs, repeats):
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def run(n):
        model.fit(x, y, batch_size=32, epochs=n, verbose=0)

    seconds = best_epoch_time(run, epochs, repeats)
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    return seconds, acc, keras.__version__


# ---- hand-written PyTorch ---------------------------------------------------------------
def torch_epoch(torch, model, opt, loss_fn, xt, yt, n, batch=32):
    """One shuffled epoch over the first ``n`` rows, with the loss and accuracy sums a fit
    loop keeps (what Keras and minigrad compute per step too)."""
    perm = torch.randperm(n)
    loss_sum, correct = 0.0, 0
    for start in range(0, n, batch):
        idx = perm[start:start + batch]
        xb, yb = xt[idx], yt[idx]
        opt.zero_grad()
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(idx)
        correct += (logits.argmax(1) == yb).sum().item()
    return loss_sum, correct


def bench_torch(x, y, x_test, y_test, epochs, repeats):
    import torch
    from torch import nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def run(n):
        model.train()
        for _ in range(n):
            torch_epoch(torch, model, opt, loss_fn, xt, yt, len(xt))

    seconds = best_epoch_time(run, epochs, repeats)
    with torch.no_grad():
        model.eval()
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    return seconds, float((pred == y_test).mean()), torch.__version__, torch.get_num_threads()


# ---- the same step by hand ---------------------------------------------------------------
def bench_by_hand(x, y, x_test, y_test, epochs, repeats):
    """The lecture step written out in numpy around minigrad's own kernels (fused bias+relu
    and its backward, the Adam update), with no graph, layers or checks: the floor that the
    GEMMs, the Adam pass and the batch gather set, under which fit's Python overhead sits."""
    from minigrad.ops.activation import _RELU, _linear_bwd, _linear_fwd
    from minigrad.optimizers.adam import _adam_update
    rng = np.random.default_rng(0)
    xf, xt = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    limits = (np.sqrt(6 / (784 + 128)), np.sqrt(6 / (128 + 10)))
    params = [rng.uniform(-limits[0], limits[0], (784, 128)).astype(np.float32),
              np.zeros(128, np.float32),
              rng.uniform(-limits[1], limits[1], (128, 10)).astype(np.float32),
              np.zeros(10, np.float32)]
    slots = [(np.zeros(p.size, np.float32), np.zeros(p.size, np.float32)) for p in params]
    steps = [0]

    def step(xb, yb):
        w1, b1, w2, b2 = params
        rows = np.arange(len(yb))
        h = xb @ w1
        _linear_fwd(h, b1, _RELU, 0.0, 1.0, 0.0, h)
        z = h @ w2 + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(np.clip(p[rows, yb], 1e-7, 1 - 1e-7)).mean()
        correct = int((p.argmax(axis=1) == yb).sum())
        p[rows, yb] -= 1.0
        p /= len(yb)
        dh = p @ w2.T
        dz, db1 = np.empty_like(dh), np.empty_like(b1)
        _linear_bwd(h, dh, _RELU, 0.0, 1.0, dz, db1)
        steps[0] += 1
        t = steps[0]
        hp = np.array([1e-3 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t), 0.1, 0.001, 1e-7],
                      dtype=np.float32)
        for w, g, (m, v) in zip(params, (xb.T @ dz, db1, h.T @ p, p.sum(axis=0)), slots):
            _adam_update(w.reshape(-1), g.reshape(-1), m, v, hp)
        return loss, correct

    def run(n):
        for _ in range(n):
            order = rng.permutation(len(xf))
            loss_sum = correct = 0
            for start in range(0, len(xf), 32):
                idx = order[start:start + 32]
                loss, c = step(xf[idx], y[idx])
                loss_sum += loss * len(idx)
                correct += c

    seconds = best_epoch_time(run, epochs, repeats)
    w1, b1, w2, b2 = params
    acc = float(((np.maximum(xt @ w1 + b1, 0) @ w2 + b2).argmax(axis=1) == y_test).mean())
    return seconds, acc


def one_blas_thread(epochs, repeats):
    """minigrad verbose=0 in a child process whose BLAS runs one thread (the thread count is
    fixed when numpy loads, so it needs a fresh process)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--minigrad-only", "--epochs", str(epochs),
                          "--repeats", str(repeats)], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1])


def run_all(data, epochs, repeats):
    """[(label, seconds per epoch, test accuracy)] for every framework that imports."""
    rows = [
        ("minigrad fit, verbose=0", *bench_minigrad(*data, epochs, repeats, verbose=0)),
        ("minigrad fit, verbose=1 (bar)", *bench_minigrad(*data, epochs, repeats, verbose=1)),
        ("minigrad fit, verbose=0, 1 BLAS thread", *one_blas_thread(epochs, repeats)),
        ("by hand: numpy + minigrad kernels, no engine", *bench_by_hand(*data, epochs, repeats)),
    ]
    try:
        seconds, acc, version = bench_keras(*data, epochs, repeats)
        rows.append((f"Keras {version} (torch backend) fit", seconds, acc))
    except ImportError as e:
        print(f"Keras on torch: not available ({e}); pip install torch keras to compare")
    try:
        seconds, acc, version, threads = bench_torch(*data, epochs, repeats)
        rows.append((f"PyTorch {version} hand-written loop ({threads} threads)", seconds, acc))
    except ImportError as e:
        print(f"PyTorch: not available ({e}); pip install torch to compare")
    return rows


def report(rows, steps):
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  s/epoch   ms/step  test acc")
    for name, sec, acc in rows:
        print(f"{name:{width}}  {sec:7.4f}  {sec * 1e3 / steps:8.3f}  {acc:8.3f}")
    t0, t1 = rows[0][1], rows[1][1]   # minigrad verbose=0, verbose=1
    print(f"\nprogress bar cost: {100 * (t1 / t0 - 1):+.1f} % (target < 5 %)")
    print(f"minigrad fit / the same step by hand: {t0 / rows[3][1]:.2f}x")
    for name, sec, _ in rows[4:]:
        peer, target = ("Keras-on-torch", 0.1) if name.startswith("Keras") else (
            "PyTorch loop", 0.5)
        print(f"minigrad / {peer}: {t0 / sec:.3f}x (target <= {target}x)")


# ---- one epoch of the book's model on Fashion-MNIST -----------------------------------------
def fashion_minigrad(train, held):
    from minigrad.datasets import lecture
    model = lecture.book_model(seed=0)
    model.fit(train[0][:2000], train[1][:2000], epochs=1, verbose=0)      # warm-up
    t0 = time.perf_counter()
    model.fit(*train, epochs=1, batch_size=32, verbose=0)
    seconds = time.perf_counter() - t0
    return seconds, model.evaluate(*held, verbose=0)[1]


def fashion_keras(train, held):
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28)), keras.layers.Flatten(),
        keras.layers.Dense(300, activation="relu"), keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    model.fit(train[0][:2000], train[1][:2000], epochs=1, verbose=0)
    t0 = time.perf_counter()
    model.fit(*train, epochs=1, batch_size=32, verbose=0)
    seconds = time.perf_counter() - t0
    return seconds, model.evaluate(*held, verbose=0)[1], keras.__version__


def fashion_torch(train, held):
    import torch
    from torch import nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100),
                          nn.ReLU(), nn.Linear(100, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(train[0]), torch.from_numpy(train[1].astype(np.int64))

    def epoch(n):
        torch_epoch(torch, model, opt, loss_fn, xt, yt, n)

    epoch(2000)
    t0 = time.perf_counter()
    epoch(len(xt))
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        pred = model(torch.from_numpy(held[0])).argmax(1).numpy()
    return (seconds, float((pred == held[1]).mean()), torch.__version__,
            torch.get_num_threads())


def run_fashion():
    from minigrad.datasets import lecture
    if not lecture.installed():
        print("\nFashion-MNIST: not installed (apt-get install dataset-fashion-mnist); skipped")
        return
    data = lecture.load("fashion_mnist", announce=False)
    print("\none epoch of the book's model (784-300-100-10, SGD 0.01, batch 32) on 55,000 "
          "Fashion-MNIST images (1,719 steps), after a warm-up on 2,000")
    rows = [("minigrad fit", *fashion_minigrad(data.train, data.held))]
    try:
        seconds, acc, version = fashion_keras(data.train, data.held)
        rows.append((f"Keras {version} (torch backend) fit", seconds, acc))
    except ImportError as e:
        print(f"Keras on torch: not available ({e})")
    try:
        seconds, acc, version, threads = fashion_torch(data.train, data.held)
        rows.append((f"PyTorch {version} hand-written loop ({threads} threads)", seconds, acc))
    except ImportError as e:
        print(f"PyTorch: not available ({e})")
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  s/epoch  val acc")
    for name, sec, acc in rows:
        print(f"{name:{width}}  {sec:7.2f}  {acc:7.4f}")
    for name, sec, _ in rows[1:]:
        peer, target = ("Keras-on-torch", 0.1) if name.startswith("Keras") else (
            "PyTorch loop", 0.5)
        print(f"minigrad / {peer}: {rows[0][1] / sec:.3f}x (target <= {target}x)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (best is kept)")
    parser.add_argument("--fashion-only", action="store_true",
                        help="only the one-epoch Fashion-MNIST comparison")
    parser.add_argument("--minigrad-only", action="store_true",
                        help="print minigrad's verbose=0 seconds/epoch and accuracy only")
    args = parser.parse_args(argv)
    (x, y), (x_test, y_test) = digits.load_data(image_size=28)
    data = (x, y, x_test, y_test)
    if args.minigrad_only:
        print(*bench_minigrad(*data, args.epochs, args.repeats, verbose=0))
        return 0
    steps = -(-len(x) // 32)
    if args.fashion_only:
        print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}")
        run_fashion()
        return 0
    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical CPUs; python {platform.python_version()}"
          f", numpy {np.__version__}, minigrad {mg.__version__}; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"data: {len(x)} training digits 28x28, batch 32 -> {steps} steps/epoch; "
          f"best of {args.repeats} x {args.epochs} epochs after 1 warm-up epoch\n")
    report(run_all(data, args.epochs, args.repeats), steps)
    run_fashion()
    return 0


if __name__ == "__main__":
    sys.exit(main())
