"""Where a captured step's time goes (``python -m minigrad bench --profile``).

Each kernel the kernel plan (``models/capture.py``) runs is timed alone, on the step's own
shapes, buffers and BLAS thread count: per layer the forward GEMM, the epilogue, the dW and
dX GEMMs and the epilogue's backward; then the fused softmax cross-entropy, the softmax the
metrics read and the optimizer's update. The whole ``train_on_batch`` is timed the same way;
what the kernels alone do not explain is the rest: the Python around them (the batch checks,
the plan's loops, the metrics' bookkeeping) and the kernels' own slowdown when they run in
the step, after other kernels pushed their data out of the caches (alone, a kernel finds it
warm).
"""
import numpy as np

from .machine import best_time
from .workloads import WORKLOADS, minigrad_model


def profile(name, repeats=5):
    """[(phase, seconds)] for workload ``name``'s captured step, the whole step last."""
    from threadpoolctl import threadpool_limits

    from .. import _threads
    from ..models import capture
    from ..ops.linear import input_grad
    from ..ops.softmax import _clip_bounds, _softmax_rows, sce_rows
    w = WORKLOADS[name]
    x, y = w.data()
    model = minigrad_model(w)
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    b = w.batch
    batches = [(x[i:i + b], y[i:i + b]) for i in range(0, len(x) - b + 1, b)]
    step = [0]

    def train():
        xb, yb = batches[step[0] % len(batches)]
        step[0] += 1
        model.train_on_batch(xb, yb)
    threads = _threads.threads_for(max(b * i * o for i, o in w.layers), 2)
    with threadpool_limits(threads, user_api="blas"):
        for _ in range(3):
            train()
        plans = [e for e in model.__dict__["_captured"].values()
                 if isinstance(e, capture.Plan)]
        if not plans:
            raise RuntimeError(f"profile {name}: the step was not captured as a kernel plan")
        plan = plans[0]
        xb, yb = batches[0]
        phases = {}

        def add(phase, fn):
            phases[phase] = phases.get(phase, 0.0) + best_time(fn, repeats, 0.02)
        h = xb
        for k, p in enumerate(plan.layers):
            add("forward GEMMs x @ W", lambda h=h, p=p: np.matmul(h, p.w, out=p.z))
            if p.fwd is not None:
                add("epilogues act(z + b)", lambda p=p: p.fwd(p.z, p.b, p.alpha, p.y))
            dz = p.dz if p.dz is not None else p.z
            dw = np.empty_like(p.w)
            add("dW GEMMs x^T dz", lambda h=h, dz=dz, dw=dw: np.matmul(h.T, dz, out=dw))
            if k:
                add("dX GEMMs dz W^T", lambda dz=dz, p=p: input_grad(dz, p.w, p.dx))
            if p.bwd is not None:
                db = np.empty(p.z.shape[1], p.z.dtype)
                add("epilogue VJPs", lambda p=p, db=db: p.bwd(p.kept, p.z, p.alpha, p.dz, db))
            h = p.y
        logits = np.random.default_rng(0).normal(size=plan.e.shape).astype(plan.dtype)
        lab = yb.astype(np.int64)
        lo, hi = _clip_bounds(1e-7, logits.dtype)
        add("softmax cross-entropy", lambda: sce_rows(logits, lab, True, lo, hi, True,
                                                       plan.e, plan.mx))
        add("softmax for the metrics", lambda: _softmax_rows(logits))
        opt = model.optimizer
        add(f"{type(opt).__name__} update", lambda: opt._apply_captured(plan.variables))
        total = best_time(train, repeats, 0.05)
    rows = sorted(phases.items(), key=lambda kv: -kv[1])
    rows.append(("the rest: Python, colder caches", total - sum(phases.values())))
    rows.append(("whole train_on_batch", total))
    return rows


def lines(names):
    """The profile of each workload as printable lines."""
    out = []
    for name in names:
        rows = profile(name)
        total = rows[-1][1]
        out.append(f"  {name}: {WORKLOADS[name].title}")
        for phase, t in rows:
            out.append(f"    {phase:<31} {t * 1e6:9.1f} us  {100 * t / total:5.1f} %")
    return out
