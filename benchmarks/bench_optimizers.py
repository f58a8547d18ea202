"""Optimizer step throughput: minigrad's fused kernels vs obvious numpy vs torch.optim.

    python benchmarks/bench_optimizers.py [--sizes 1000000 10000000] [--repeats 7]
        [--kinds adam nadam ...] [--no-parallel]

For every update kind (Adam, SGD with momentum and the issue-13 optimizers Nadam, AdamW,
Adamax, Adadelta, Ftrl, Lion) on one float32 variable of N parameters, times one full
``apply_gradients`` step (Python bookkeeping included) against the same update written the
obvious way in numpy and against ``torch.optim`` with ``foreach=True`` where torch has the
optimizer (it has no Ftrl or Lion; its NAdam and Adadelta follow their own papers' variants,
with the same memory traffic), and prints the achieved memory bandwidth (bytes read + written
per step / time) next to the copy bandwidth (``np.copyto`` of a buffer as large as the arrays
the update touches) measured in the same run. Targets: >= 3x numpy, <= 1.0x torch's time,
>= 70% of copy bandwidth.

The last section compiles ``parallel=True`` (prange) twins of the kernels here, to show why
the library kernels stay serial: a prange kernel is faster alone, but alternating it with
BLAS matmuls (a training step) oversubscribes the cores.
"""
import argparse
import os
import sys
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout

from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

from minigrad.optimizers import SGD, Adadelta, Adam, Adamax, AdamW, Ftrl, Lion, Nadam
from minigrad.optimizers.adam import _adam_update
from minigrad.optimizers.sgd import _sgd_momentum_update
from minigrad.tensor import Parameter

LR, B1, B2, EPS, MOMENTUM, WD, RHO = 1e-3, 0.9, 0.999, 1e-7, 0.9, 0.004, 0.95
LION_B2, L1, L2 = 0.99, 1e-3, 1e-3


def best_time(fn, repeats, inner):
    """Minimum over ``repeats`` of the mean time of ``inner`` calls (after one warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


# ---- the obvious numpy updates: one temporary per operation --------------------------------
def np_adam(w, g, s, t, wd=None):
    if wd is not None:
        w -= w * wd * LR
    s["m"] = B1 * s["m"] + (1 - B1) * g
    s["v"] = B2 * s["v"] + (1 - B2) * g * g
    m_hat = s["m"] / (1 - B1 ** t)
    v_hat = s["v"] / (1 - B2 ** t)
    w -= LR * m_hat / (np.sqrt(v_hat) + EPS)


def np_adamw(w, g, s, t):
    np_adam(w, g, s, t, WD)


def np_sgd_momentum(w, g, s, t):
    s["m"] = MOMENTUM * s["m"] - LR * g
    w += s["m"]


def np_nadam(w, g, s, t):
    u_t, u_next = B1 * (1 - 0.5 * 0.96 ** t), B1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["u"] = s.get("u", 1.0) * u_t
    s["m"] = B1 * s["m"] + (1 - B1) * g
    s["v"] = B2 * s["v"] + (1 - B2) * g * g
    m_hat = u_next * s["m"] / (1 - s["u"] * u_next) + (1 - u_t) * g / (1 - s["u"])
    v_hat = s["v"] / (1 - B2 ** t)
    w -= LR * m_hat / (np.sqrt(v_hat) + EPS)


def np_adamax(w, g, s, t):
    s["m"] = B1 * s["m"] + (1 - B1) * g
    s["v"] = np.maximum(B2 * s["v"], np.abs(g))
    w -= LR * s["m"] / ((1 - B1 ** t) * (s["v"] + EPS))


def np_adadelta(w, g, s, t):
    s["m"] = RHO * s["m"] + (1 - RHO) * g * g
    delta = -np.sqrt(s["v"] + EPS) * g / np.sqrt(s["m"] + EPS)
    s["v"] = RHO * s["v"] + (1 - RHO) * delta * delta
    w += LR * delta


def np_ftrl(w, g, s, t):
    n = s.setdefault("n", np.full_like(w, 0.1))
    n_new = n + g * g
    s["m"] += g - (np.sqrt(n_new) - np.sqrt(n)) / LR * w
    w[...] = (np.clip(s["m"], -L1, L1) - s["m"]) / (np.sqrt(n_new) / LR + 2 * L2)
    s["n"] = n_new


def np_lion(w, g, s, t):
    w -= LR * np.sign(B1 * s["m"] + (1 - B1) * g)
    s["m"] = LION_B2 * s["m"] + (1 - LION_B2) * g


def torch_opt(torch, kind, p):
    o = torch.optim
    return {"adam": lambda: o.Adam([p], lr=LR, betas=(B1, B2), eps=EPS, foreach=True),
            "sgd_momentum": lambda: o.SGD([p], lr=LR, momentum=MOMENTUM, foreach=True),
            "nadam": lambda: o.NAdam([p], lr=LR, betas=(B1, B2), eps=EPS, foreach=True),
            "adamw": lambda: o.AdamW([p], lr=LR, betas=(B1, B2), eps=EPS, weight_decay=WD,
                                     foreach=True),
            "adamax": lambda: o.Adamax([p], lr=LR, betas=(B1, B2), eps=EPS, foreach=True),
            "adadelta": lambda: o.Adadelta([p], lr=LR, rho=RHO, eps=EPS, foreach=True),
            }.get(kind, lambda: None)()


# kind: (minigrad optimizer, numpy update, float32 arrays read + written per parameter, arrays
# touched). Adam-like updates read w, g and two slots and write w and the slots: 7 arrays.
KINDS = {
    "adam": (lambda: Adam(LR, B1, B2, EPS), np_adam, 7, 4),
    "sgd_momentum": (lambda: SGD(LR, momentum=MOMENTUM), np_sgd_momentum, 5, 3),
    "nadam": (lambda: Nadam(LR, B1, B2, EPS), np_nadam, 7, 4),
    "adamw": (lambda: AdamW(LR, WD, B1, B2, EPS), np_adamw, 7, 4),
    "adamax": (lambda: Adamax(LR, B1, B2, EPS), np_adamax, 7, 4),
    "adadelta": (lambda: Adadelta(LR, RHO, EPS), np_adadelta, 7, 4),
    "ftrl": (lambda: Ftrl(LR, l1_regularization_strength=L1, l2_regularization_strength=L2),
             np_ftrl, 7, 4),
    "lion": (lambda: Lion(LR, B1, LION_B2), np_lion, 5, 3),
}


# ---- the three implementations -------------------------------------------------------------
def minigrad_step(kind, w0, g):
    p = Parameter(w0.copy())
    opt = KINDS[kind][0]()
    pairs = [(g, p)]
    return lambda: opt.apply_gradients(pairs)


def numpy_step(kind, w0, g):
    w = w0.copy()
    state = {"m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    update = KINDS[kind][1]

    def step():
        state["t"] += 1
        update(w, g, state, state["t"])
    return step


def torch_step(torch, kind, w0, g):
    """``opt.step`` of torch's foreach implementation, or None where torch has none."""
    p = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    p.grad = torch.from_numpy(g.copy())
    opt = torch_opt(torch, kind, p)
    return None if opt is None else opt.step


def have_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ---- report ---------------------------------------------------------------------------------
def copy_bandwidth(nbytes, repeats, inner):
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    t = best_time(lambda: np.copyto(dst, src), repeats, inner)
    return 2 * nbytes / t


def bench_size(n, repeats, torch, kinds):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=n).astype(np.float32)
    g = rng.normal(size=n).astype(np.float32)
    inner = max(3, int(3e7 // n))
    rows = []
    for kind in kinds:
        traffic, touched = KINDS[kind][2] * 4 * n, KINDS[kind][3] * 4 * n
        copy_bw = copy_bandwidth(touched, repeats, inner)
        t_mg = best_time(minigrad_step(kind, w0, g), repeats, inner)
        t_np = best_time(numpy_step(kind, w0, g), repeats, inner)
        step = torch_step(torch, kind, w0, g) if torch else None
        t_th = best_time(step, repeats, inner) if step else None
        rows.append((kind, n, t_mg, t_np, t_th, traffic / t_mg, copy_bw))
    return rows


def print_rows(rows):
    print(f"{'update':<13}{'N':>10}{'minigrad':>11}{'numpy':>11}{'torch':>11}"
          f"{'x numpy':>9}{'/ torch':>9}{'GB/s':>8}{'copy GB/s':>11}{'% copy':>8}")
    for kind, n, t_mg, t_np, t_th, bw, copy_bw in rows:
        torch_t = f"{t_th * 1e3:9.2f}ms" if t_th else f"{'-':>11}"
        ratio = f"{t_mg / t_th:9.2f}" if t_th else f"{'-':>9}"
        print(f"{kind:<13}{n:>10}{t_mg * 1e3:9.2f}ms{t_np * 1e3:9.2f}ms{torch_t}"
              f"{t_np / t_mg:9.2f}{ratio}{bw / 1e9:8.1f}{copy_bw / 1e9:11.1f}"
              f"{100 * bw / copy_bw:7.0f}%")


def print_targets(rows):
    ok = True
    for kind, n, t_mg, t_np, t_th, bw, copy_bw in rows:
        checks = [("x numpy >= 3", t_np / t_mg >= 3.0), ("% copy >= 70", bw >= 0.7 * copy_bw)]
        if t_th:
            checks.append(("/ torch <= 1.0", t_mg <= t_th))
        failed = [name for name, passed in checks if not passed]
        ok &= not failed
        print(f"  {kind:<13}{n:>10}: " + ("all targets met" if not failed
                                          else "MISSED " + ", ".join(failed)))
    return ok


def bench_models(repeats, torch):
    """Whole-model Adam steps, where Python bookkeeping per variable matters."""
    print("\nAdam step on whole models (us per step, all variables):")
    models = {"lecture MLP 784-300-100-10": [(784, 300), (300,), (300, 100), (100,),
                                             (100, 10), (10,)],
              "tiny 8-4-2": [(8, 4), (4,), (4, 2), (2,)]}
    for name, shapes in models.items():
        ws = [np.zeros(s, np.float32) for s in shapes]
        gs = [np.full(s, 0.5, np.float32) for s in shapes]
        opt = Adam(LR, B1, B2, EPS)
        pairs = list(zip(gs, [Parameter(w) for w in ws]))
        t_mg = best_time(lambda o=opt, p=pairs: o.apply_gradients(p), repeats, 200)
        line = f"  {name:<28} minigrad {t_mg * 1e6:8.1f}"
        if torch:
            ps = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in ws]
            for p, g in zip(ps, gs):
                p.grad = torch.from_numpy(g)
            topt = torch.optim.Adam(ps, lr=LR, betas=(B1, B2), eps=EPS, foreach=True)
            line += f"   torch {best_time(topt.step, repeats, 200) * 1e6:8.1f}"
        print(line)


# ---- serial vs parallel=True kernels ------------------------------------------------------
def prange_twin(kern):
    """The kernel recompiled with parallel=True and its ``range`` loop read as
    ``numba.prange`` (the global name is swapped in a copy of the code; not cached)."""
    import numba
    fn = kern.py_func
    names = tuple("prange" if n == "range" else n for n in fn.__code__.co_names)
    twin = types.FunctionType(fn.__code__.replace(co_names=names),
                              {**fn.__globals__, "prange": numba.prange}, fn.__name__)
    return numba.njit(parallel=True, nogil=True, error_model="numpy")(twin)


def kernel_args(kind, n):
    """The flat arrays and hp vector (hp[0] = weight decay * lr, here 0) of a kernel call."""
    w, g = np.zeros(n, np.float32), np.ones(n, np.float32)
    if kind == "adam":
        hp = np.array([0.0, LR, 1 - B1, 1 - B2, EPS], np.float32)
        return (w, g, np.zeros_like(w), np.zeros_like(w), hp)
    return (w, g, np.zeros_like(w), np.array([0.0, LR, MOMENTUM], np.float32))


def bench_parallel(sizes, repeats):
    print("\nKernel alone, serial vs prange twin (ms per call):")
    kernels = {"adam": _adam_update, "sgd_momentum": _sgd_momentum_update}
    for kind, kern in kernels.items():
        par = prange_twin(kern)
        for n in sizes:
            args = kernel_args(kind, n)
            inner = max(3, int(3e7 // n))
            t_s = best_time(lambda k=kern, a=args: k(*a), repeats, inner)
            t_p = best_time(lambda k=par, a=args: k(*a), repeats, inner)
            print(f"  {kind:<13}{n:>10}  serial {t_s * 1e3:8.3f}  prange {t_p * 1e3:8.3f}  "
                  f"speedup {t_s / t_p:5.2f}")
    print("\nTraining-like loop: (256x784 @ 784x300, its transpose product, Adam on the "
          "784x300 weight), ms per iteration:")
    x = np.random.default_rng(1).normal(size=(256, 784)).astype(np.float32)
    args = kernel_args("adam", 784 * 300)
    kern_w = args[0].reshape(784, 300)
    par = prange_twin(_adam_update)
    for name, k in (("serial", _adam_update), ("prange", par)):
        def step(k=k):
            y = x @ kern_w
            x.T @ y
            k(*args)
        print(f"  {name}: {best_time(step, repeats, 50) * 1e3:8.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    ap.add_argument("--no-parallel", action="store_true", help="skip the prange section")
    args = ap.parse_args()
    import numba
    torch = have_torch()
    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical CPUs; numba threads "
          f"{numba.get_num_threads()}; torch threads "
          f"{torch.get_num_threads() if torch else '-'}")
    print(f"numpy {np.__version__}, numba {numba.__version__}, torch "
          f"{torch.__version__ if torch else 'not installed'}; float32; "
          f"min of {args.repeats} repeats; load average before the run "
          f"{os.getloadavg()[0]:.2f}\n")
    rows = [row for n in args.sizes for row in bench_size(n, args.repeats, torch, args.kinds)]
    print_rows(rows)
    print("\nTargets (>= 3x numpy, <= 1.0x torch time, >= 70% of copy bandwidth):")
    print_targets(rows)
    bench_models(args.repeats, torch)
    if not args.no_parallel:
        bench_parallel([10_000, 100_000, *args.sizes], args.repeats)


if __name__ == "__main__":
    main()
