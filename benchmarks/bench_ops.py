"""Op benchmarks: fused linear+relu, per-op engine overhead and import cost, against numpy by
hand and PyTorch (when importable). Run as ``python benchmarks/bench_ops.py``.

Targets (issue): fused linear+activation <= 1.0x numpy by hand; per-op overhead <= PyTorch's;
``import minigrad`` <= numpy's + 0.1 s, without importing numba.

``--threads N`` limits numpy's BLAS (and PyTorch) to N threads; on a shared, loaded machine
``--threads 1`` gives the steadiest figures (a 2-thread GEMM stalls whenever one of its
threads is descheduled).

Each figure is ``best / median`` of repeated blocks after a warm-up (the first call compiles
the kernels); ratios use the best block, the figure least disturbed by other processes on a
shared machine. PyTorch runs in a child process: its OpenMP workers and numpy's OpenBLAS
workers both spin-wait after a call, and in one process they steal each other's cores.
"""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if "--threads" in sys.argv:      # before numpy starts its BLAS pool
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)

import minigrad as mg
from minigrad.ops.linear import linear

torch = None          # imported only in the child process (``--torch``)
HAVE_TORCH = importlib.util.find_spec("torch") is not None
SHAPES = ((32, 784, 128), (256, 1024, 2048))


def timeit(fn, number=20, repeats=15, warmup=3):
    """(best, median) seconds per call of ``fn`` over ``repeats`` blocks of ``number`` calls."""
    for _ in range(warmup):
        fn()
    blocks = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        blocks.append((time.perf_counter() - t0) / number)
    return min(blocks), statistics.median(blocks)


def us(t):
    return f"{t[0] * 1e6:9.1f} / {t[1] * 1e6:9.1f} us"


def blas_threads():
    """(threads, how it was found): numpy's BLAS pool via threadpoolctl, else --threads or
    os.cpu_count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        if "--threads" in sys.argv:
            return int(os.environ["OPENBLAS_NUM_THREADS"]), "--threads"
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


def _number(batch):
    return 100 if batch == 32 else 5


def torch_results(threads):
    """Run this script with ``--torch`` in a child process; its JSON results, or None."""
    if not HAVE_TORCH:
        return None
    res = subprocess.run([sys.executable, __file__, "--torch", str(threads)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"(pytorch child failed: {res.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def torch_child(threads):
    """Child process: time PyTorch only and print the figures as one JSON line."""
    global torch
    import torch
    torch.set_num_threads(threads)
    out = {"version": torch.__version__, "threads": torch.get_num_threads(), "linear": {}}
    for shape in SHAPES:
        out["linear"][str(shape)] = timeit(torch_step(*_data(*shape)), _number(shape[0]))
    rng = np.random.default_rng(0)
    x, c, g = (rng.standard_normal((32, 128)).astype(np.float32) for _ in range(3))
    out["chain"] = timeit(chain_torch(x, c, g), 20, repeats=30)
    out["chain_numpy"] = timeit(chain_numpy(x, c, g), 20, repeats=30)
    print(json.dumps(out))


def bench_linear(pt):
    print("\n== linear + relu, forward + backward (float32; dW, db and dx computed) ==")
    print("   times: best / median per step")
    for shape in SHAPES:
        data = _data(*shape)
        number = _number(shape[0])
        t_mg = timeit(minigrad_step(*data), number)
        t_np = timeit(numpy_step(*data), number)
        t_gemm = timeit(gemm_step(*data), number)
        print(f"batch {shape[0]}, {shape[1]}->{shape[2]}:")
        print(f"  minigrad        {us(t_mg)}")
        print(f"  numpy by hand   {us(t_np)}   minigrad/numpy = {t_mg[0] / t_np[0]:.2f}x "
              f"(target <= 1.0x)")
        roof = f"minigrad {t_gemm[0] / t_mg[0]:.2f}, numpy {t_gemm[0] / t_np[0]:.2f}"
        if pt is not None:
            t_pt = pt["linear"][str(shape)]
            print(f"  pytorch         {us(t_pt)}   minigrad/torch = {t_mg[0] / t_pt[0]:.2f}x")
            roof += f", torch {t_gemm[0] / t_pt[0]:.2f}"
        print(f"  3 bare GEMMs    {us(t_gemm)}   matmul roofline fraction "
              f"(GEMMs / total): {roof}")


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


def bench_overhead(pt):
    print(f"\n== per-op overhead: chain of {CHAIN} adds on 32x128, forward + backward ==")
    print("   overhead = (fwd+bwd time of the chain - numpy time of the same adds) / ops")
    rng = np.random.default_rng(0)
    x, c, g = (rng.standard_normal((32, 128)).astype(np.float32) for _ in range(3))
    t_np = timeit(chain_numpy(x, c, g), 20, repeats=30)
    t_mg = timeit(chain_minigrad(x, c, g), 20, repeats=30)
    over_mg = (t_mg[0] - t_np[0]) / CHAIN
    print(f"  numpy add       {t_np[0] / CHAIN * 1e6:7.2f} us/op")
    print(f"  minigrad        {t_mg[0] / CHAIN * 1e6:7.2f} us/op   "
          f"overhead {over_mg * 1e6:.2f} us/op")
    if pt is not None:
        # the child's own numpy baseline: both processes see the same machine state
        over_pt = (pt["chain"][0] - pt["chain_numpy"][0]) / CHAIN
        print(f"  pytorch         {pt['chain'][0] / CHAIN * 1e6:7.2f} us/op   overhead "
              f"{over_pt * 1e6:.2f} us/op   minigrad/torch overhead = {over_mg / over_pt:.2f}x "
              f"(target <= 1.0x)")


def bench_step_overhead():
    """fit's per-step cost on the lecture model's layers at tiny sizes (8 inputs, 8 and 3
    units): the GEMMs and kernels take ~nothing, so this is the framework's own time per step
    (layers, graph, loss, backward walk, optimizer and metrics bookkeeping, callbacks)."""
    rng = np.random.default_rng(0)
    x = rng.random((1504, 4, 2), dtype=np.float32)
    y = rng.integers(0, 3, 1504)
    mg.random.seed(0)
    model = mg.models.Sequential([mg.layers.Flatten(input_shape=[4, 2]),
                                  mg.layers.Dense(8, activation="relu"),
                                  mg.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    steps = len(x) // 32
    t = timeit(lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0), 1, repeats=20)
    print(f"\n== fit overhead per step: Flatten -> Dense(8, relu) -> Dense(3, softmax), Adam, "
          f"batch 32 of 8 inputs ==\n  {t[0] / steps * 1e6:7.1f} / {t[1] / steps * 1e6:7.1f} "
          f"us per step (best / median)")


# ---- kernel design choices --------------------------------------------------------------------
def _relu_only_kernels():
    """A dedicated bias+relu kernel and a one-pass numba sigmoid: the alternatives measured
    against the coded epilogue and the numpy-SIMD sigmoid."""
    import math

    from minigrad._kernel import kernel

    @kernel
    def relu_epilogue(z, b):
        n, m = z.shape
        for r in range(n):
            for j in range(m):
                v = z[r, j] + b[j]
                z[r, j] = 0.0 if v <= 0.0 else v  # noqa: FURB136 (NaN propagates)

    @kernel
    def sigmoid_scalar(x, out):
        for i in range(x.size):
            out[i] = 1.0 / (1.0 + math.exp(-x[i]))
    return relu_epilogue, sigmoid_scalar


def _kernel_case(n, m, relu_epilogue, sigmoid_scalar):
    from minigrad.ops.activation import _RELU, _linear_fwd, sigmoid_into
    rng = np.random.default_rng(0)
    z1, z2, x = (rng.standard_normal((n, m)).astype(np.float32) for _ in range(3))
    b = rng.standard_normal(m).astype(np.float32)
    out = np.empty_like(x)
    number = 2000 if n == 32 else 50
    coded = timeit(lambda: _linear_fwd(z1, b, _RELU, 0.0, 1.0, 88.0, z1), number)
    dedicated = timeit(lambda: relu_epilogue(z2, b), number)
    scalar = timeit(lambda: sigmoid_scalar(x.reshape(-1), out.reshape(-1)), number)
    simd = timeit(lambda: sigmoid_into(x, out), number)
    print(f"  {n}x{m}: bias+relu, one kernel with an activation code {us(coded)}; "
          f"relu-only kernel {us(dedicated)}")
    print(f"  {n}x{m}: sigmoid, one numba pass (scalar exp) {us(scalar)}; "
          f"numba + numpy SIMD exp + numba {us(simd)}")


def bench_kernels():
    kernels = _relu_only_kernels()
    print("\n== kernel choices (float32; best / median) ==")
    for n, m in ((32, 128), (256, 2048)):
        _kernel_case(n, m, *kernels)


# ---- fused linear + gelu / silu (the epilogue saves z) vs linear then the activation op ------
def _fused_vs_unfused_step(x, w, b, g, act, fused):
    from minigrad.activations import get
    xt, wt, bt = (mg.Tensor(a, requires_grad=True) for a in (x, w, b))
    fn = get(act)

    def step():
        xt.grad = wt.grad = bt.grad = None
        y = linear(xt, wt, bt, act) if fused else fn(linear(xt, wt, bt))
        y.backward(g)
    return step


def bench_fused_activations():
    print("\n== linear + activation, forward + backward (float32): fused epilogue vs linear "
          "then the activation's own op ==")
    for shape in SHAPES:
        data = _data(*shape)
        for act in ("gelu", "silu", "mish", "softplus"):
            number = _number(shape[0])
            t_f = timeit(_fused_vs_unfused_step(*data, act, True), number)
            t_u = timeit(_fused_vs_unfused_step(*data, act, False), number)
            print(f"  {str(shape):>18} {act:<9} fused {us(t_f)}   unfused {us(t_u)}   "
                  f"fused/unfused {t_f[0] / t_u[0]:.2f}x")


# ---- activation kernels: the numba-or-numpy choice of ops/activation.py -----------------------
def _activation_kernel_case(n, m):
    from minigrad._kernel import flat
    from minigrad.ops import activation as A
    rng = np.random.default_rng(0)
    x = (3 * rng.standard_normal((n, m))).astype(np.float32)
    out = np.empty_like(x)
    number = 2000 if n == 32 else 20
    f32 = np.float32
    rows = [
        ("relu6", lambda: A._relu6_fwd(flat(x), out.reshape(-1)),
         lambda: np.clip(x, 0, 6, out=out)),
        ("hard_sigmoid", lambda: A._hard_sigmoid_fwd(flat(x), f32(1 / 6), f32(0.5),
                                                     out.reshape(-1)),
         lambda: np.clip(x / f32(6) + f32(0.5), 0, 1)),
        ("sparse_plus", lambda: A._sparse_plus_fwd(flat(x), f32(0.25), f32(1), out.reshape(-1)),
         lambda: np.where(x <= -1, f32(0), np.where(x >= 1, x, (x + 1) ** 2 / 4))),
        ("softplus", lambda: A.softplus_into(x, out),
         lambda: np.logaddexp(x, f32(0), out=out)),
    ]
    for name, chosen, alternative in rows:
        t_c, t_a = timeit(chosen, number), timeit(alternative, number)
        print(f"  {n}x{m} {name:<13} chosen {us(t_c)}   plain numpy {us(t_a)}   "
              f"numpy/chosen {t_a[0] / t_c[0]:.1f}x")


def bench_activation_kernels():
    print("\n== activation kernels (float32 forward; chosen: numba pass, or numpy SIMD exp/log1p "
          "+ numba for softplus) ==")
    for n, m in ((32, 128), (256, 2048)):
        _activation_kernel_case(n, m)


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
    print(f"  python -c 'import minigrad' {t_mg * 1e3:7.1f} ms   "
          f"+{(t_mg - t_np) * 1e3:.1f} ms over "
          f"numpy (target <= +100 ms); numba imported: {numba_loaded}")


def main():
    if "--torch" in sys.argv:
        torch_child(int(sys.argv[sys.argv.index("--torch") + 1]))
        return
    threads, how = blas_threads()
    print(f"CPU: {cpu_model()}")
    pt = torch_results(threads)
    print(f"threads: {threads} (from {how}); numpy {np.__version__}; "
          + (f"torch {pt['version']} with {pt['threads']} threads" if pt else
             "torch not installed"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.2f} on {os.cpu_count()} cores")
    bench_linear(pt)
    bench_kernels()
    bench_fused_activations()
    bench_activation_kernels()
    bench_overhead(pt)
    bench_step_overhead()
    bench_import()


if __name__ == "__main__":
    main()
