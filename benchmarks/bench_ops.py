"""Op benchmarks: fused linear+relu, per-op engine overhead and import cost, against numpy by
hand and PyTorch (when importable). Run as ``python benchmarks/bench_ops.py``.

Targets (issue): fused linear+activation <= 1.0x numpy by hand; per-op overhead <= PyTorch's;
``import minigrad`` <= numpy's + 0.1 s, without importing numba.
Times are medians of repeated blocks after a warm-up (the first call compiles the kernels).
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import minigrad as mg
from minigrad.ops.linear import linear

try:
    import torch
except ImportError:
    torch = None


def timeit(fn, number=20, repeats=15, warmup=3):
    """Median seconds per call of ``fn`` over ``repeats`` blocks of ``number`` calls."""
    for _ in range(warmup):
        fn()
    blocks = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        blocks.append((time.perf_counter() - t0) / number)
    return statistics.median(blocks)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def blas_threads():
    """(threads, how it was found): numpy's BLAS pool via threadpoolctl, else os.cpu_count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count(), "os.cpu_count (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return os.cpu_count(), "os.cpu_count (no BLAS pool found)"
    return pools[0]["num_threads"], f"threadpoolctl ({pools[0].get('internal_api')})"


# ---- linear + relu forward + backward ---------------------------------------------------------
def _data(batch, n_in, n_out):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
    b = (0.1 * rng.standard_normal(n_out)).astype(np.float32)
    g = rng.standard_normal((batch, n_out)).astype(np.float32)
    return x, w, b, g


def minigrad_step(x, w, b, g):
    xt = mg.Tensor(x, requires_grad=True)
    wt = mg.Tensor(w, requires_grad=True)
    bt = mg.Tensor(b, requires_grad=True)

    def step():
        xt.grad = wt.grad = bt.grad = None
        linear(xt, wt, bt, "relu").backward(g)
    return step


def numpy_step(x, w, b, g):
    def step():
        z = x @ w + b
        y = np.maximum(z, 0)
        dz = g * (z > 0)
        dw = x.T @ dz
        db = dz.sum(0)
        dx = dz @ w.T
        return y, dw, db, dx
    return step


def gemm_step(x, w, b, g):
    def step():
        return x @ w, x.T @ g, g @ w.T
    return step


def torch_step(x, w, b, g):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(np.ascontiguousarray(w.T), requires_grad=True)   # F.linear: (out, in)
    bt = torch.tensor(b, requires_grad=True)
    gt = torch.tensor(g)

    def step():
        xt.grad = wt.grad = bt.grad = None
        torch.relu(torch.nn.functional.linear(xt, wt, bt)).backward(gt)
    return step


def bench_linear(threads):
    print("\n== linear + relu, forward + backward (float32; dW, db and dx computed) ==")
    for batch, n_in, n_out in ((32, 784, 128), (256, 1024, 2048)):
        data = _data(batch, n_in, n_out)
        number = 200 if batch == 32 else 10
        t_mg = timeit(minigrad_step(*data), number)
        t_np = timeit(numpy_step(*data), number)
        t_gemm = timeit(gemm_step(*data), number)
        print(f"batch {batch}, {n_in}->{n_out}:")
        print(f"  minigrad        {t_mg * 1e6:9.1f} us")
        print(f"  numpy by hand   {t_np * 1e6:9.1f} us   minigrad/numpy = {t_mg / t_np:.2f}x "
              f"(target <= 1.0x)")
        if torch is not None:
            t_pt = timeit(torch_step(*data), number)
            print(f"  pytorch         {t_pt * 1e6:9.1f} us   minigrad/torch = {t_mg / t_pt:.2f}x")
        print(f"  3 bare GEMMs    {t_gemm * 1e6:9.1f} us   roofline fraction: minigrad "
              f"{t_gemm / t_mg:.2f}, numpy {t_gemm / t_np:.2f}"
              + (f", torch {t_gemm / t_pt:.2f}" if torch is not None else ""))


# ---- per-op overhead --------------------------------------------------------------------------
CHAIN = 100


def chain_minigrad(x, c, g):
    xt, ct = mg.Tensor(x, requires_grad=True), mg.Tensor(c)

    def step():
        xt.grad = None
        y = xt
        for _ in range(CHAIN):
            y = y + ct
        y.backward(g)
    return step


def chain_numpy(x, c, g):
    def step():
        y = x
        for _ in range(CHAIN):
            y = y + c
    return step


def chain_torch(x, c, g):
    xt, ct, gt = torch.tensor(x, requires_grad=True), torch.tensor(c), torch.tensor(g)

    def step():
        xt.grad = None
        y = xt
        for _ in range(CHAIN):
            y = y + ct
        y.backward(gt)
    return step


def bench_overhead():
    print(f"\n== per-op overhead: chain of {CHAIN} adds on 32x128, forward + backward ==")
    rng = np.random.default_rng(0)
    x, c, g = (rng.standard_normal((32, 128)).astype(np.float32) for _ in range(3))
    t_np = timeit(chain_numpy(x, c, g), 20)
    t_mg = timeit(chain_minigrad(x, c, g), 20)
    per_np = t_np / CHAIN
    per_mg = (t_mg - t_np) / CHAIN
    print(f"  numpy bare add  {per_np * 1e6:7.2f} us/op")
    print(f"  minigrad        {t_mg / CHAIN * 1e6:7.2f} us/op   overhead {per_mg * 1e6:.2f} us/op")
    if torch is not None:
        t_pt = timeit(chain_torch(x, c, g), 20)
        per_pt = (t_pt - t_np) / CHAIN
        print(f"  pytorch         {t_pt / CHAIN * 1e6:7.2f} us/op   overhead {per_pt * 1e6:.2f} "
              f"us/op   minigrad/torch overhead = {per_mg / per_pt:.2f}x (target <= 1.0x)")


# ---- import cost ------------------------------------------------------------------------------
def _run(code, runs=7):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    times, out = [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(ROOT),
                             capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
        out = res.stdout.strip()
    return statistics.median(times), out


def bench_import():
    print("\n== import cost (fresh interpreters, median of 7) ==")
    t_py, _ = _run("pass")
    t_np, _ = _run("import numpy")
    t_mg, numba_loaded = _run("import minigrad, sys; print('numba' in sys.modules)")
    print(f"  python -c pass            {t_py * 1e3:7.1f} ms")
    print(f"  python -c 'import numpy'    {t_np * 1e3:7.1f} ms")
    print(f"  python -c 'import minigrad' {t_mg * 1e3:7.1f} ms   +{(t_mg - t_np) * 1e3:.1f} ms over "
          f"numpy (target <= +100 ms); numba imported: {numba_loaded}")


def main():
    threads, how = blas_threads()
    print(f"CPU: {cpu_model()}")
    print(f"threads: {threads} (from {how}); numpy {np.__version__}"
          + (f"; torch {torch.__version__}" if torch is not None else "; torch not installed"))
    if torch is not None:
        torch.set_num_threads(threads)
    bench_linear(threads)
    bench_overhead()
    bench_import()


if __name__ == "__main__":
    main()
