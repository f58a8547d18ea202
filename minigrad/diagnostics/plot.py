"""plot_gradients: per-layer gradient norms vs depth (log scale) and vs training step.

House rules of every picture here: a sequential colormap by depth (layer 1 light, the last
layer dark, so eleven layers never repeat a colour cycle), the legend outside the data, a
title naming the configuration, axis labels in words, and each line its own line style and
marker so that curves which coincide stay distinguishable.
"""
import math
import os

from .rows import METRICS

# metric name -> axis label in words
METRIC_LABELS = {
    "kernel_grad_norm": "kernel gradient norm ‖∂L/∂W‖",
    "kernel_grad_mean_abs": "mean |∂L/∂W| of the kernel",
    "bias_grad_norm": "bias gradient norm ‖∂L/∂b‖",
    "delta_norm": "error signal norm ‖∂L/∂z‖",
    "activation_mean": "mean activation",
    "activation_std": "activation standard deviation",
    "saturation": "fraction of saturated units",
    "update_ratio": "update ratio |Δw| / |w|",
}
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "h")
DEPTH_COLORMAP = "viridis"
LAYER_AXIS = "layer (1 = closest to the input)"


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plot_gradients needs matplotlib: install the plot extra, "
                          "pip install 'minigrad[plot]'") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def check_path(path):
    """FileNotFoundError naming the directory if the PNG's directory does not exist."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"plot_gradients: path must be a file name or None, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"plot_gradients: the directory {folder!r} of {str(path)!r} "
                                f"does not exist")


def positive(values):
    """Log axes cannot show 0 or non-finite values: they become gaps."""
    return [v if (v is not None and math.isfinite(v) and v > 0) else math.nan for v in values]


def style(i):
    """The i-th (line style, marker) pair: no two of the first 44 lines look alike even
    where they lie on top of each other."""
    return LINE_STYLES[i % len(LINE_STYLES)], MARKERS[i % len(MARKERS)]


def depth_colors(n):
    """``n`` colours of a sequential colormap, light (first layer) to dark (last layer)."""
    import matplotlib
    cmap = matplotlib.colormaps[DEPTH_COLORMAP]
    # viridis' lightest yellow is hard to see on white: stop at 0.9
    return [cmap(0.9 - 0.9 * i / max(1, n - 1)) for i in range(n)]


def case_colors(n):
    """``n`` distinct qualitative colours (cases have no order): tab10, or tab20 beyond 10."""
    import matplotlib
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def metric_label(metric):
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def layer_axis(ax):
    """x axis of layer numbers: words, and integer ticks only."""
    from matplotlib.ticker import MaxNLocator
    ax.set_xlabel(LAYER_AXIS)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def figure_width(labels, data_width=7.0):
    """Inches: the data area keeps ``data_width`` however long the legend's labels are."""
    return data_width + 0.5 + 0.075 * max((len(str(s)) for s in labels), default=10)


def legend_outside(ax, title=None):
    """Legend to the right of the axes, never over the data."""
    return ax.legend(fontsize="small", title=title, loc="upper left",
                     bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def finish(fig, path):
    """Save and close when ``path`` is given (returns ``path``), else return the Figure."""
    if path is None:
        return fig
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def _source(obj):
    """("monitor" | "report", obj), or TypeError naming what was passed instead."""
    from .monitor import GradientMonitor
    from .report import GradientReport
    if isinstance(obj, GradientMonitor):
        if not obj.steps:
            raise ValueError("plot_gradients: the monitor has recorded nothing yet (pass it "
                             "to fit(callbacks=[monitor]) first)")
        return "monitor"
    if isinstance(obj, GradientReport):
        return "report"
    raise TypeError(f"plot_gradients: expected a GradientMonitor or a GradientReport (from "
                    f"gradient_report(model, x, y)), got {type(obj).__name__}")


def plot_gradients(monitor_or_report, path=None, metric="kernel_grad_norm", title=None):
    """The per-layer ``metric`` against layer index (log scale) and, for a GradientMonitor,
    each layer's ``metric`` against the optimizer step. Writes a PNG to ``path`` and returns
    it, or returns the matplotlib Figure when ``path`` is None."""
    if metric not in METRICS:
        raise ValueError(f"plot_gradients: unknown metric {metric!r}; valid: {METRICS}")
    kind = _source(monitor_or_report)
    if path is not None:
        check_path(path)
    plt = _pyplot()
    ncols = 2 if kind == "monitor" else 1
    fig, axes = plt.subplots(1, ncols, figsize=(7.5 * ncols, 4.5), squeeze=False)
    ax = axes[0][0]
    if kind == "monitor":
        mon = monitor_or_report
        names = list(mon.history)
        picks = sorted({0, len(mon.steps) // 2, len(mon.steps) - 1})
        for j, k in enumerate(picks):
            ls, marker = style(j)
            values = [mon.history[n][metric][k] for n in names]
            ax.plot(range(1, len(names) + 1), positive(values), linestyle=ls, marker=marker,
                    label=f"step {mon.steps[k]}")
        ax2 = axes[0][1]
        for i, (n, color) in enumerate(zip(names, depth_colors(len(names)))):
            ls, marker = style(i)
            ax2.plot(mon.steps, positive(mon.history[n][metric]), color=color, linestyle=ls,
                     marker=marker, markevery=max(1, len(mon.steps) // 8), label=f"{i + 1}: {n}")
        ax2.set_yscale("log")
        ax2.set_xlabel("optimizer step")
        ax2.set_ylabel(metric_label(metric))
        ax2.set_title("per layer during training")
        legend_outside(ax2, title="layer (by depth)")
    else:
        names = list(monitor_or_report.layers)
        values = [monitor_or_report.layers[n][metric] for n in names]
        ax.plot(range(1, len(names) + 1), positive(values), marker="o", label="one batch")
    ax.set_yscale("log")
    layer_axis(ax)
    ax.set_ylabel(metric_label(metric))
    ax.set_title("by depth")
    legend_outside(ax)
    fig.suptitle(title or _default_title(monitor_or_report, kind, metric))
    fig.tight_layout()
    return finish(fig, path)


def _default_title(obj, kind, metric):
    acts = obj.activations if kind == "monitor" else {
        n: v.get("activation") for n, v in obj.layers.items()}
    hidden = list(acts.values())[:-1] or list(acts.values())
    act = hidden[0] if len(set(hidden)) == 1 else "mixed activations"
    what = "monitor" if kind == "monitor" else "one batch"
    return f"{metric_label(metric)}: {len(acts)} kernel layers, {act} ({what})"
