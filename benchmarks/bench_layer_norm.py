"""LayerNormalization forward + backward on (256, 2048) float32: minigrad vs numpy by hand vs
PyTorch (``F.layer_norm``, run in a child process so its OpenMP workers and numpy's BLAS
pool do not steal each other's cores). Target (issue 13): minigrad <= 1.0x PyTorch.

One step: y = layer_norm(x, gamma, beta) over the last axis, then the backward of
``sum(y * c)`` (gradients for x, gamma and beta). Each figure is best / median over blocks of
calls after a warm-up (the first call compiles the kernels).

    python benchmarks/bench_layer_norm.py [--threads 1]
"""
import json
import os
import subprocess
import sys
from pathlib import Path

if "--threads" in sys.argv:      # before numpy starts its BLAS pool
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _machine import cpu_model  # noqa: E402  (the script's folder is on sys.path)
from bench_ops import timeit  # noqa: E402  (one timer for the op benchmarks)

SHAPE = (256, 2048)
EPS = 1e-3


def data():
    r = np.random.default_rng(0)
    x = r.standard_normal(SHAPE).astype(np.float32)
    gamma = r.uniform(0.5, 1.5, SHAPE[1]).astype(np.float32)
    beta = r.standard_normal(SHAPE[1]).astype(np.float32)
    c = r.standard_normal(SHAPE).astype(np.float32)
    return x, gamma, beta, c


def minigrad_step():
    import minigrad as mg
    from minigrad.ops.norm import layer_norm
    x, gamma, beta, c = data()
    xt, gt, bt = (mg.Tensor(a, requires_grad=True) for a in (x, gamma, beta))

    def step():
        xt.grad = gt.grad = bt.grad = None
        layer_norm(xt, gt, bt, epsilon=EPS).backward(c)
    return step


def numpy_step():
    """The same math in plain float32 numpy (mean/var/normalise, then the VJP)."""
    x, gamma, beta, g = data()

    def step():
        mean = x.mean(axis=1, keepdims=True)
        xc = x - mean
        rstd = 1.0 / np.sqrt((xc * xc).mean(axis=1, keepdims=True) + EPS)
        xhat = xc * rstd
        y = xhat * gamma + beta
        gy = g * gamma
        dx = rstd * (gy - gy.mean(axis=1, keepdims=True)
                     - xhat * (gy * xhat).mean(axis=1, keepdims=True))
        return y, dx, (g * xhat).sum(axis=0), g.sum(axis=0)
    return step


def torch_child(threads):
    import torch
    torch.set_num_threads(threads)
    x, gamma, beta, c = (torch.tensor(a) for a in data())
    for t in (x, gamma, beta):
        t.requires_grad_(True)

    def step():
        x.grad = gamma.grad = beta.grad = None
        torch.nn.functional.layer_norm(x, (SHAPE[1],), gamma, beta, EPS).backward(c)
    print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(),
                      "t": timeit(step)}))


def main():
    if "--torch" in sys.argv:
        torch_child(int(sys.argv[sys.argv.index("--torch") + 1]))
        return 0
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical CPUs; numpy {np.__version__}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"layer_norm forward+backward on {SHAPE} float32 (best / median per step)")
    t_mg = timeit(minigrad_step())
    t_np = timeit(numpy_step())
    print(f"  minigrad        {t_mg[0] * 1e6:9.1f} / {t_mg[1] * 1e6:9.1f} us")
    print(f"  numpy by hand   {t_np[0] * 1e6:9.1f} / {t_np[1] * 1e6:9.1f} us   "
          f"minigrad/numpy = {t_mg[0] / t_np[0]:.2f}x")
    res = subprocess.run([sys.executable, __file__, "--torch", str(threads)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"  pytorch: not available ({res.stderr.strip().splitlines()[-1:]})")
        return 0
    pt = json.loads(res.stdout)
    t_pt = pt["t"]
    print(f"  pytorch {pt['version']} ({pt['threads']} threads) {t_pt[0] * 1e6:9.1f} / "
          f"{t_pt[1] * 1e6:9.1f} us   minigrad/torch = {t_mg[0] / t_pt[0]:.2f}x "
          f"(target <= 1.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
