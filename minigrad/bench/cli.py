"""``python -m minigrad bench``: minigrad against its peers on the benchmark workloads.

For every workload each framework is built from the same initial weights, warmed up, then
timed in blocks (one block per framework per round, never interleaved call by call) of as
many steps as fill ``--seconds``; before each block the machine is left idle for
``SETTLE`` seconds, so that the worker threads the previous framework left spinning
(OpenBLAS and OpenMP busy-wait after a parallel region) do not steal a core from the next.
The table gives the median ms per step over the rounds (the mean too for minigrad),
minigrad's ratio to each peer, and the fraction of the physical
limit: the step's GEMM FLOPs at the GEMM peak measured in this run (a 1024-cube on the BLAS
threads minigrad's policy picks for the workload) + Adam's memory traffic and the elementwise
passes at the ``np.copyto`` bandwidth measured in this run.

``--profile`` times each kernel of minigrad's captured step alone (``profile.py``): what
they do not explain is the Python around them and the caches they find colder in the step.

``--contention`` reruns lecture and deep beside as many busy processes as there are cores
and reports the mean wall time (a median hides preemption) against the quiet mean.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext

from . import machine, profile
from .peers import MAKERS, PEERS, NotInstalled
from .workloads import WORKLOADS

CONTENTION_WORKLOADS = ("lecture", "deep")


def _names(kind, valid):
    """An argparse type: a comma-separated list of names out of ``valid``."""
    def parse(text):
        names = [t.strip() for t in text.split(",") if t.strip()]
        bad = [n for n in names if n not in valid]
        if bad or not names:
            what = f"unknown {kind} {', '.join(map(repr, bad))}" if bad else f"no {kind} given"
            raise argparse.ArgumentTypeError(f"{what}; valid: {', '.join(valid)}")
        return list(dict.fromkeys(names))
    parse.__name__ = kind
    return parse


def add_arguments(p):
    p.add_argument("--workloads", type=_names("workload", tuple(WORKLOADS)),
                   default=list(WORKLOADS),
                   help=f"comma-separated, from: {', '.join(WORKLOADS)} (default: all)")
    p.add_argument("--peers", type=_names("peer", PEERS), default=list(PEERS),
                   help=f"comma-separated, from: {', '.join(PEERS)} (default: all; a missing "
                        f"package is reported as not installed)")
    p.add_argument("--rounds", type=_positive_int, default=5)
    p.add_argument("--seconds", type=_positive_float, default=0.3,
                   help="wall time of one timed block (default 0.3)")
    p.add_argument("--plot", metavar="PATH", help="save a bar chart of ms per step here")
    p.add_argument("--contention", action="store_true",
                   help="rerun lecture and deep beside one busy process per core")
    p.add_argument("--startup", action="store_true",
                   help="time the first fit step in a fresh interpreter (warm numba cache)")
    p.add_argument("--micro", action="store_true",
                   help="the measurements behind the threading and dX-GEMM choices")
    p.add_argument("--profile", action="store_true",
                   help="where minigrad's captured step spends its time, kernel by kernel "
                        "(workloads lecture, medium, deep, large among those chosen)")


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def add_parser(sub):
    """Register the ``bench`` command on ``python -m minigrad``'s subparsers."""
    p = sub.add_parser("bench", help="benchmark minigrad against PyTorch, Keras and numpy",
                       description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)
    return p


# ---- timing ---------------------------------------------------------------------------------
SETTLE = 0.15      # seconds idle before each timed block (see the module docstring)


def _block(fn, steps, start):
    time.sleep(SETTLE)
    fn(start)               # untimed: caches and the BLAS pool warm again after the pause
    t0 = time.perf_counter()
    for i in range(start, start + steps):
        fn(i)
    return (time.perf_counter() - t0) / steps


def _calibrate(fn, seconds, warmup=3):
    """Warm up (numba compiles, slots, caches), then the steps that fill ``seconds``."""
    for i in range(warmup):
        fn(i)
    t = _block(fn, 1, warmup)
    return max(1, min(100_000, int(seconds / max(t, 1e-7))))


def time_workload(w, frameworks, rounds, seconds, out):
    """{framework: per-step seconds of each round} (or the NotInstalled/Exception text)."""
    from threadpoolctl import threadpool_limits

    from .. import _threads
    x, y = w.data()
    runners, results = {}, {}
    for name in frameworks:
        try:
            runners[name] = MAKERS[name](w, x, y)
        except NotInstalled:
            results[name] = "not installed"
        except Exception as e:   # a peer that fails must not stop the benchmark
            results[name] = f"failed: {type(e).__name__}: {e}"
    threads = _threads.threads_for(max(w.batch * i * o for i, o in w.layers),
                                   os.cpu_count() or 1)
    steps, position = {}, {}
    for name, fn in runners.items():
        with threadpool_limits(threads, user_api="blas") if name == "numpy" else nullcontext():
            steps[name] = _calibrate(fn, seconds, 1 if w.fit else 3)   # fit: whole epochs
        position[name] = 5
        results[name] = []
    for _ in range(rounds):
        for name, fn in runners.items():
            with threadpool_limits(threads, user_api="blas") if name == "numpy" else nullcontext():
                results[name].append(_block(fn, steps[name], position[name]))
            position[name] += steps[name]
    print(f"  {w.name}: done ({', '.join(f'{k} x{v}' for k, v in steps.items())} steps "
          f"per block)", file=out)
    return results, threads


def physical_limit(w, threads, rates):
    """Seconds per step (per epoch for fit) at the limit, from the measured rates."""
    peak = rates.setdefault(("gemm", threads), machine.gemm_peak(threads))
    bw = rates.setdefault("copy", machine.copy_bandwidth())
    per_step = w.gemm_flops() / peak + (w.optimizer_bytes() + w.elementwise_bytes()) / bw
    return per_step * (w.samples // w.batch if w.fit else 1)


# ---- report ---------------------------------------------------------------------------------
def _ms(t):
    return f"{t * 1e3:.3f}" if t < 0.1 else f"{t * 1e3:.1f}"


def table(rows, peers):
    """The one table: a row per workload."""
    head = ["workload", "minigrad ms", "mean ms"] + [f"{p} ms (ratio)" for p in peers] + [
        "limit ms", "% of limit"]
    lines = [head]
    for w, res, limit in rows:
        mg = res.get("minigrad")
        med = statistics.median(mg) if isinstance(mg, list) else None
        row = [w.name, _ms(med) if med else str(mg), _ms(statistics.mean(mg)) if med else ""]
        for p in peers:
            r = res.get(p)
            if isinstance(r, list):
                pm = statistics.median(r)
                row.append(f"{_ms(pm)} ({med / pm:.2f}x)" if med else _ms(pm))
            else:
                row.append(str(r))
        row += [_ms(limit), f"{100 * limit / med:.1f} %" if med else ""]
        lines.append(row)
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    out = ["| " + " | ".join(c.ljust(wd) for c, wd in zip(r, widths)) + " |" for r in lines]
    out.insert(1, "|" + "|".join("-" * (wd + 2) for wd in widths) + "|")
    return "\n".join(out)


def plot(rows, peers, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = ["minigrad"] + list(peers)
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        xs, hs = [], []
        for j, (_w, res, _limit) in enumerate(rows):
            r = res.get(name)
            if isinstance(r, list):
                xs.append(j + k * width)
                hs.append(statistics.median(r) * 1e3)
        ax.bar(xs, hs, width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(rows))])
    ax.set_xticklabels([w.name for w, _, _ in rows])
    ax.set_yscale("log")
    ax.set_ylabel("ms per step (fit: per epoch), median")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---- extras ---------------------------------------------------------------------------------
def contention(rounds, seconds, quiet, out):
    """Mean wall time of minigrad's lecture and deep steps beside one busy process per core."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.5)
        lines = []
        for name in CONTENTION_WORKLOADS:
            w = WORKLOADS[name]
            res, _ = time_workload(w, ["minigrad"], rounds, seconds, out)
            loaded = statistics.mean(res["minigrad"])
            q = quiet.get(name)
            q = statistics.mean(q) if isinstance(q, list) else None
            ratio = f"{loaded / q:.2f}x quiet" if q else "no quiet run"
            lines.append(f"  {name}: mean {_ms(loaded)} ms per step beside {len(busy)} busy "
                         f"processes; quiet mean {_ms(q) if q else '-'} ms ({ratio})")
        return lines
    finally:
        for p in busy:
            p.kill()
        for p in busy:
            p.wait()


_STARTUP = """
import time
t0 = time.perf_counter()
import numpy as np
import minigrad as mg
from minigrad.bench.workloads import WORKLOADS, minigrad_model
w = WORKLOADS["lecture"]
x, y = w.data()
model = minigrad_model(w)
t1 = time.perf_counter()
model.fit(x[:32], y[:32], batch_size=32, epochs=1, verbose=0)
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
"""


def tape_capture_cost():
    """(seconds of a recorded eager step, seconds of the comparison that builds the tape) for
    the lecture model with BatchNormalization and Dropout (captured at the ops, tape.py)."""
    import minigrad as mg
    from minigrad import layers as L

    from ..models import tape
    w = WORKLOADS["lecture"]
    x, y = w.data()
    model = mg.models.Sequential([L.Input((784,)), L.Dense(128, activation="relu"),
                                  L.BatchNormalization(), L.Dropout(0.2),
                                  L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.train_on_batch(x[:32], y[:32])          # eager: metrics resolved, optimizer packed
    variables = model.trainable_weights
    records, compares = [], []
    for k in range(5):
        t0 = time.perf_counter()
        first = tape.record(model, x[64 * k:64 * k + 32], y[64 * k:64 * k + 32], None,
                            variables)[1]
        t1 = time.perf_counter()
        second = tape.record(model, x[64 * k + 32:64 * k + 64], y[64 * k + 32:64 * k + 64],
                             None, variables)[1]
        t2 = time.perf_counter()
        tape.Tape(first, second, model, variables)
        compares.append(time.perf_counter() - t2)
        records += [t1 - t0, t2 - t1]
    return statistics.median(records), statistics.median(compares)


def startup():
    """(import + build s, first fit step s) in a fresh interpreter, the second of two runs
    (the first warms numba's cache and Python's bytecode cache, which an environment with
    PYTHONDONTWRITEBYTECODE would otherwise leave cold: an installed package has its
    bytecode compiled by pip)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _STARTUP], capture_output=True, text=True,
                              env=env, check=True)
    a, b = done.stdout.split()
    return float(a), float(b)


def capture_cost():
    """Seconds to capture a new signature of the lecture model: recording its plan (the
    checks of the proven set, the buffers), the median of five new batch sizes."""
    from ..models import capture
    from .workloads import minigrad_model
    w = WORKLOADS["lecture"]
    x, y = w.data()
    model = minigrad_model(w)
    model.train_on_batch(x[:32], y[:32])          # eager: metrics resolved, optimizer packed
    times = []
    for size in (31, 30, 29, 28, 27):
        t0 = time.perf_counter()
        capture._why_not(model)
        capture.Plan(model, x[:size], y[:size])
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def micro():
    """The thread crossover (a GEMM on 1 vs 2 BLAS threads) and dX = dz @ W^T on W^T's view
    vs a contiguous copy."""
    import numpy as np
    from threadpoolctl import threadpool_limits
    r = np.random.default_rng(0)
    lines = ["  GEMM m x k x n: 1 thread / 2 threads (us)"]
    for m, k, n in ((32, 784, 128), (128, 784, 256), (128, 256, 256), (256, 256, 256),
                    (256, 1024, 2048)):
        a = r.random((m, k), dtype=np.float32)
        b = r.random((k, n), dtype=np.float32)
        ts = []
        for th in (1, 2):
            with threadpool_limits(th, user_api="blas"):
                ts.append(machine.best_time(lambda a=a, b=b: a @ b, 5, 0.02))
        lines.append(f"    {m}x{k}x{n}: {ts[0] * 1e6:.1f} / {ts[1] * 1e6:.1f} "
                     f"(2 threads {ts[0] / ts[1]:.2f}x faster)")
    lines.append("  minigrad's whole step on 1 / 2 BLAS threads, mean over 3 blocks (ms)")
    from .. import _threads
    saved = _threads.TWO_THREADS_MIN_MACS
    try:
        for name in ("lecture", "medium", "deep"):
            w = WORKLOADS[name]
            x, y = w.data()
            ts = []
            for limit in (1 << 62, 0):   # never / always two threads
                _threads.TWO_THREADS_MIN_MACS = limit
                fn = MAKERS["minigrad"](w, x, y)
                n = _calibrate(fn, 0.1)
                ts.append(statistics.mean(_block(fn, n, 5 + k * n) for k in range(3)))
            lines.append(f"    {name}: {_ms(ts[0])} / {_ms(ts[1])}")
    finally:
        _threads.TWO_THREADS_MIN_MACS = saved
    lines.append("  dX = dz @ W^T, batch x in x out: W^T view / contiguous copy (us)")
    with threadpool_limits(1, user_api="blas"):
        for b, i, o in ((64, 64, 64), (32, 128, 10), (256, 2048, 10), (128, 256, 256)):
            dz = r.random((b, o), dtype=np.float32)
            wt = r.random((i, o), dtype=np.float32)
            tv = machine.best_time(lambda dz=dz, wt=wt: dz @ wt.T, 5, 0.02)
            tc = machine.best_time(lambda dz=dz, wt=wt: dz @ np.ascontiguousarray(wt.T), 5,
                                   0.02)
            lines.append(f"    {b}x{i}x{o}: {tv * 1e6:.1f} / {tc * 1e6:.1f}")
    return lines


# ---- the command ----------------------------------------------------------------------------
def run(args, out=None):
    out = out or sys.stdout
    import numba
    import numpy as np

    from .. import _threads
    print(f"minigrad bench: {machine.cpu_model()}, {os.cpu_count()} cores, load "
          f"{_load()} (1-min average) at start", file=out)
    print(f"numpy {np.__version__} ({machine.blas_info()}), numba {numba.__version__}, "
          f"Python {sys.version.split()[0]}; minigrad's step: 1 BLAS thread under "
          f"{_threads.TWO_THREADS_MIN_MACS} multiply-adds in its largest GEMM, else "
          f"{os.cpu_count()}", file=out)
    rates, rows = {}, []
    peers = list(args.peers)
    for name in args.workloads:
        w = WORKLOADS[name]
        res, threads = time_workload(w, ["minigrad"] + peers, args.rounds, args.seconds, out)
        rows.append((w, res, physical_limit(w, threads, rates)))
    print(file=out)
    for w, _, _ in rows:
        print(f"  {w.name}: {w.title}", file=out)
    print(table(rows, peers), file=out)
    for key, rate in rates.items():
        if key == "copy":
            print(f"copy bandwidth {rate / 1e9:.1f} GB/s (np.copyto, read + write)", file=out)
        else:
            print(f"GEMM peak on {key[1]} thread(s): {rate / 1e9:.1f} GFLOP/s (1024-cube)",
                  file=out)
    print("ms per step (fit: per epoch) is the median over the rounds; ratio = minigrad / "
          "peer", file=out)
    versions = _peer_versions(peers)
    if versions:
        print("peers: " + ", ".join(versions), file=out)
    if args.plot:
        plot(rows, peers, args.plot)
        print(f"plot saved to {args.plot}", file=out)
    if args.contention:
        quiet = {w.name: res.get("minigrad") for w, res, _ in rows}
        for name in CONTENTION_WORKLOADS:
            if name not in quiet:
                res, _ = time_workload(WORKLOADS[name], ["minigrad"], args.rounds,
                                       args.seconds, out)
                quiet[name] = res["minigrad"]
        print("contention:", file=out)
        for line in contention(args.rounds, args.seconds, quiet, out):
            print(line, file=out)
    if args.startup:
        a, b = startup()
        print(f"fresh interpreter (numba cache warm): import + build {a * 1e3:.0f} ms, first "
              f"fit step {b * 1e3:.0f} ms", file=out)
        print(f"capture of a new signature (lecture): {capture_cost() * 1e3:.2f} ms", file=out)
        rec, cmp = tape_capture_cost()
        print(f"capture at the ops (lecture + BatchNormalization + Dropout): two recorded "
              f"eager steps of {rec * 1e3:.2f} ms, then {cmp * 1e3:.2f} ms to compare them",
              file=out)
    if args.micro:
        for line in micro():
            print(line, file=out)
    if args.profile:
        print("profile of minigrad's captured step (each kernel timed alone on the step's "
              "shapes):", file=out)
        for line in profile.lines([n for n in args.workloads if not WORKLOADS[n].fit]):
            print(line, file=out)
    print(f"load {_load()} (1-min average) at the end", file=out)
    return 0


def _load():
    v = machine.load()
    return "unknown" if v is None else f"{v:.2f}"


def _peer_versions(peers):
    import importlib
    out = []
    for p in peers:
        if p == "numpy":
            continue
        try:
            mod = importlib.import_module(p)
        except Exception:
            continue
        out.append(f"{p} {getattr(mod, '__version__', '?')}")
    return out


def main(argv=None):
    """Run the benchmark as a script (``benchmarks/bench_peers.py``)."""
    p = argparse.ArgumentParser(prog="python -m minigrad bench",
                                description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return run(p.parse_args(argv))
