"""Which layers make a row, how one row's metrics are computed, and the readable table.

A row is a layer with a kernel; the activation-type layers that follow it (Dense then
LeakyReLU()) belong to its row. Metric names are the same in the monitor, the report, the
records and the plots (API.md §8).
"""
import math

import numpy as np

from .._kernel import kernel

METRICS = ("kernel_grad_norm", "kernel_grad_mean_abs", "bias_grad_norm", "delta_norm",
           "activation_mean", "activation_std", "saturation", "update_ratio")

# activation-type layer classes and the activation name each one stands for
_ACTIVATION_LAYERS = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu",
                      "RReLU": "rrelu", "ELU": "elu", "Softmax": "softmax"}
# saturation rule per activation: 1 sigmoid (<0.01 or >0.99), 2 tanh (|y|>0.99), 3 y <= 0
_SATURATION_MODE = {"sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 3, "elu": 3,
                    "selu": 3, "prelu": 3, "rrelu": 3}


@kernel
def _moments(a, mode):
    """One pass: (sum, sum of squares, sum of |a|, saturated count, finite?) of flat ``a``."""
    s = 0.0
    sq = 0.0
    sa = 0.0
    sat = 0
    for i in range(a.size):
        v = a[i]
        s += v
        sq += v * v
        sa += abs(v)
        if mode == 1:
            if v < 0.01 or v > 0.99:
                sat += 1
        elif mode == 2:
            if abs(v) > 0.99:
                sat += 1
        elif mode == 3:
            if v <= 0.0:
                sat += 1
    return s, sq, sa, sat


@kernel
def _diff_norms(a, b):
    """One pass: (||a - b||^2, ||b||^2) of two flat arrays of equal size."""
    d = 0.0
    n = 0.0
    for i in range(a.size):
        x = a[i] - b[i]
        d += x * x
        n += b[i] * b[i]
    return d, n


def _flat(a):
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def grad_stats(g):
    """(L2 norm, mean |g|) of a gradient array; NaN when there is none."""
    if g is None:
        return math.nan, math.nan
    _, sq, sa, _ = _moments(_flat(g), 0)
    return math.sqrt(sq), sa / max(g.size, 1)


def activation_stats(y, activation):
    """(mean, std, saturated fraction) of a layer's output for its activation."""
    if y is None:
        return math.nan, math.nan, math.nan
    mode = _SATURATION_MODE.get(activation, 0)
    s, sq, _, sat = _moments(_flat(y), mode)
    n = max(y.size, 1)
    mean = s / n
    std = math.sqrt(max(sq / n - mean * mean, 0.0)) if math.isfinite(sq) else math.nan
    return mean, std, (sat / n if mode else math.nan)


def update_ratio(w_after, w_before):
    """|w_after - w_before| / |w_before| (L2 norms) of one step."""
    d, n = _diff_norms(_flat(w_after), _flat(w_before))
    return math.sqrt(d) / math.sqrt(n) if n > 0 else math.nan


class Row:
    """One kernel layer and the activation layer (if any) that follows it."""

    __slots__ = ("layer", "output_layer", "activation")

    def __init__(self, layer):
        self.layer = layer
        self.output_layer = layer
        self.activation = getattr(layer, "activation_name", None) or "linear"

    @property
    def name(self):
        return self.layer.name

    def adopt(self, layer, activation):
        self.output_layer = layer
        self.activation = activation


def _activation_of(layer):
    cls = type(layer).__name__
    if cls in _ACTIVATION_LAYERS:
        return _ACTIVATION_LAYERS[cls]
    if cls == "Activation":
        return getattr(layer, "activation_name", None) or "activation"
    return None


def kernel_rows(model):
    """The rows of ``model``: one per layer with a kernel, in model order."""
    rows = []
    for layer in getattr(model, "layers", ()):
        if getattr(layer, "kernel", None) is not None:
            rows.append(Row(layer))
        elif rows:
            act = _activation_of(layer)
            if act is not None:
                rows[-1].adopt(layer, act)
    if not rows:
        names = [type(layer).__name__ for layer in getattr(model, "layers", ())]
        raise ValueError(f"gradient diagnostics: the model has no layer with a kernel (Dense); "
                         f"its layers are {names}")
    return rows


def row_metrics(row, outputs, deltas):
    """The metrics of one row from the layer's current ``.grad`` and the probed arrays."""
    layer = row.layer
    kn, km = grad_stats(layer.kernel.grad)
    bias = getattr(layer, "bias", None)
    bn, _ = grad_stats(bias.grad if bias is not None else None)
    dn, _ = grad_stats(deltas.get(layer.name))
    mean, std, sat = activation_stats(outputs.get(row.output_layer.name), row.activation)
    return {"kernel_grad_norm": kn, "kernel_grad_mean_abs": km, "bias_grad_norm": bn,
            "delta_norm": dn, "activation_mean": mean, "activation_std": std,
            "saturation": sat}


def _fmt(value, width=10):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-".rjust(width)
    if not math.isfinite(value):
        return "EXPLODING".rjust(width)
    return f"{value:.3e}".rjust(width)


def format_table(rows, title=None):
    """The readable table: layer, shape, activation, |grad|, |delta|, saturation, ratio to
    the last layer's |grad|. Non-finite values are marked EXPLODING, never hidden."""
    last = rows[-1]["kernel_grad_norm"] if rows else math.nan
    head = (f"{'layer':<16}{'shape':>12}  {'activation':<11}{'|grad|':>10}{'|delta|':>10}"
            f"{'saturated':>10}{'/ last':>10}")
    lines = [title] if title else []
    lines += [head, "-" * len(head)]
    for r in rows:
        ratio = r["kernel_grad_norm"] / last if last and math.isfinite(last) else math.nan
        sat = r["saturation"]
        sat_s = "-".rjust(10) if math.isnan(sat) else f"{100 * sat:9.1f}%"
        lines.append(f"{r['layer']:<16}{'x'.join(map(str, r['shape'])):>12}  "
                     f"{r['activation']:<11}{_fmt(r['kernel_grad_norm'])}"
                     f"{_fmt(r['delta_norm'])}{sat_s}{_fmt(ratio)}")
    return "\n".join(lines)
