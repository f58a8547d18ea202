"""Which layers make a row, how one row's metrics are computed, and the readable table.

A row is a layer with a kernel; the activation-type layers that follow it (Dense then
LeakyReLU()) belong to its row. What a row knows about its activation (name, saturation rule)
comes from the activation's registry entry (``minigrad.activations``), which kernel and
activation layers expose as ``activation_entry``. Metric names are the same in the monitor,
the report, the records and the plots (API.md §8).
"""
import math

import numpy as np

from .. import activations
from .._kernel import kernel
from .probes import layers_in_order

METRICS = ("kernel_grad_norm", "kernel_grad_mean_abs", "bias_grad_norm", "delta_norm",
           "activation_mean", "activation_std", "saturation", "update_ratio")

# |f'(z)| below this counts a unit as saturated (activations outside API §8's families)
FLAT = 0.01


# reassociation lets LLVM vectorise the sums (~10x here); nnan/ninf stay off so that a
# NaN or inf gradient still shows in the table as EXPLODING
@kernel(fastmath={"reassoc", "contract"})
def _row_stats(kg, bg, dz, y, w, w0, mode, out):
    """One call per row, one pass per array (flat; empty = absent) into ``out`` (RAW_SIZE):
    [sum kg^2, sum |kg|, sum bg^2, sum dz^2, sum y, sum y^2, saturated count of y,
     sum (w - w0)^2, sum w0^2, then the sizes of kg, bg, dz, y]. Saturation: mode 1
    sigmoid (y < 0.01 or y > 0.99), 2 tanh (|y| > 0.99), 3 ReLU family (y <= 0), 0 none."""
    # local accumulators (not out[j] += ...): a store per element would block SIMD
    k2 = 0.0
    k1 = 0.0
    for i in range(kg.size):
        k2 += kg[i] * kg[i]
        k1 += abs(kg[i])
    b2 = 0.0
    for i in range(bg.size):
        b2 += bg[i] * bg[i]
    d2 = 0.0
    for i in range(dz.size):
        d2 += dz[i] * dz[i]
    y1 = 0.0
    y2 = 0.0
    for i in range(y.size):
        y1 += y[i]
        y2 += y[i] * y[i]
    sat = 0
    if mode == 1:
        for i in range(y.size):
            sat += (y[i] < 0.01) | (y[i] > 0.99)
    elif mode == 2:
        for i in range(y.size):
            sat += abs(y[i]) > 0.99
    elif mode == 3:
        for i in range(y.size):
            sat += y[i] <= 0.0
    u2 = 0.0
    w2 = 0.0
    for i in range(w0.size):
        d = w[i] - w0[i]
        u2 += d * d
        w2 += w0[i] * w0[i]
    out[0], out[1], out[2], out[3], out[4] = k2, k1, b2, d2, y1
    out[5], out[6], out[7], out[8] = y2, sat, u2, w2
    out[9], out[10], out[11], out[12] = kg.size, bg.size, dz.size, y.size


class Row:
    """One kernel layer and the activation layer (if any) that follows it."""

    __slots__ = ("layer", "name", "output_name", "activation", "saturation", "empty")

    def __init__(self, layer):
        self.layer = layer
        self.name = self.output_name = layer.name
        self.activation = getattr(layer, "activation_name", None) or "linear"
        self.saturation = _saturation(layer)
        self.empty = np.empty(0, dtype=layer.kernel.data.dtype)   # stands for "absent"

    @property
    def mode(self):
        """The saturation mode (``activations.Saturation``) for ``raw_metrics``."""
        return self.saturation.mode

    def adopt(self, layer):
        self.output_name = layer.name
        self.activation = getattr(layer, "activation_name", None) or "activation"
        self.saturation = _saturation(layer)


def _saturation(layer):
    """The layer's activation's rule; undefined for a user's callable."""
    entry = getattr(layer, "activation_entry", None)
    return activations.UNDEFINED if entry is None else entry.saturation


def _is_activation_layer(layer):
    """Dense, Activation and the activation layers expose ``activation_entry`` (None for a
    user's callable); a kernel-less layer that does is an activation layer."""
    return hasattr(layer, "activation_entry")


def kernel_rows(model):
    """The rows of ``model``: one per layer with a kernel, in execution order (any model
    kind; ``<model>/<layer>`` inside a nested model; a shared layer once)."""
    rows = []
    for key, layer in layers_in_order(model):
        if getattr(layer, "kernel", None) is not None:
            rows.append(Row(layer))
            rows[-1].name = key
        elif rows and _is_activation_layer(layer):
            rows[-1].adopt(layer)
    if not rows:
        names = [type(layer).__name__ for _, layer in layers_in_order(model)]
        raise ValueError(f"gradient diagnostics: the model has no layer with a kernel (Dense); "
                         f"its layers are {names}")
    return rows


RAW_SIZE = 13


def row_raw(row, outputs, deltas, w_before, out, preactivations=None):
    """Fill ``out`` (RAW_SIZE floats) with one row's sums: one kernel call, no Python math,
    so that the monitor can record every step cheaply and turn sums into metrics later.
    ``reshape(-1)`` is a view of a contiguous array (a copy otherwise, which is correct).
    A |f'(z)| saturation rule counts on the probed pre-activation (NaN without it)."""
    layer, empty = row.layer, row.empty
    kg = layer.kernel.grad
    bias = getattr(layer, "bias", None)
    bg = None if bias is None else bias.grad
    dz = deltas.get(layer.name)     # probes are tagged by the layer's own name
    y = outputs.get(row.output_name)
    _row_stats(empty if kg is None else kg.reshape(-1), empty if bg is None else bg.reshape(-1),
               empty if dz is None else dz.reshape(-1), empty if y is None else y.reshape(-1),
               layer.kernel.data.reshape(-1),
               empty if w_before is None else w_before.reshape(-1), row.mode, out)
    if row.saturation.needs_preactivation:
        z = None if preactivations is None else preactivations.get(row.output_name)
        out[6] = math.nan if z is None else np.count_nonzero(
            np.abs(row.saturation.derivative(z)) < FLAT)


def raw_metrics(raw, mode):
    """The metrics (METRICS order, as a dict) from one row's sums; NaN where absent."""
    s_k2, s_k1, s_b2, s_d2, s_y1, s_y2, sat, s_u2, s_w2, kg, bg, dz, y = raw.tolist()
    nan = math.nan
    mean = s_y1 / y if y else nan
    return {"kernel_grad_norm": math.sqrt(s_k2) if kg else nan,
            "kernel_grad_mean_abs": s_k1 / kg if kg else nan,
            "bias_grad_norm": math.sqrt(s_b2) if bg else nan,
            "delta_norm": math.sqrt(s_d2) if dz else nan,
            "activation_mean": mean,
            "activation_std": math.sqrt(max(s_y2 / y - mean * mean, 0.0)) if y else nan,
            "saturation": sat / y if y and mode else nan,
            "update_ratio": math.sqrt(s_u2) / math.sqrt(s_w2) if s_w2 > 0 else nan}


def row_metrics(row, outputs, deltas, w_before=None, preactivations=None):
    """The metrics of one row from the layer's current ``.grad``, the probed arrays and,
    for ``update_ratio``, the kernel before the step (NaN without it)."""
    out = np.empty(RAW_SIZE)
    row_raw(row, outputs, deltas, w_before, out, preactivations)
    return raw_metrics(out, row.mode)


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
