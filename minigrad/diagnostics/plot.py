"""plot_gradients: per-layer gradient norms vs depth (log scale) and vs training step."""
import math
import os

from .rows import METRICS


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
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"plot_gradients: the directory {folder!r} of {path!r} does "
                                f"not exist")


def _positive(values):
    """Log axes cannot show 0 or non-finite values: they become gaps."""
    return [v if (v is not None and math.isfinite(v) and v > 0) else math.nan for v in values]


def plot_gradients(monitor_or_report, path, metric="kernel_grad_norm"):
    """Write a PNG: the per-layer ``metric`` against layer index (log scale) and, for a
    GradientMonitor, each layer's ``metric`` against the training step."""
    if metric not in METRICS:
        raise ValueError(f"plot_gradients: unknown metric {metric!r}; valid: {METRICS}")
    check_path(path)
    plt = _pyplot()
    is_monitor = hasattr(monitor_or_report, "steps")
    if is_monitor and not monitor_or_report.steps:
        raise ValueError("plot_gradients: the monitor has recorded nothing yet")
    ncols = 2 if is_monitor else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6.5 * ncols, 4.5), squeeze=False)
    ax = axes[0][0]
    if is_monitor:
        mon = monitor_or_report
        names = list(mon.history)
        picks = sorted({0, len(mon.steps) // 2, len(mon.steps) - 1})
        for k in picks:
            values = [mon.history[n][metric][k] for n in names]
            ax.plot(range(1, len(names) + 1), _positive(values), marker="o",
                    label=f"step {mon.steps[k]}")
        ax2 = axes[0][1]
        for i, n in enumerate(names):
            ax2.plot(mon.steps, _positive(mon.history[n][metric]), label=f"{i + 1}: {n}")
        ax2.set_yscale("log")
        ax2.set_xlabel("optimizer step")
        ax2.set_ylabel(metric)
        ax2.set_title(f"{metric} per layer during training")
        ax2.legend(fontsize="small", ncol=2)
    else:
        names = list(monitor_or_report.layers)
        values = [monitor_or_report.layers[n][metric] for n in names]
        ax.plot(range(1, len(names) + 1), _positive(values), marker="o", label="one batch")
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = closest to the input)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by depth")
    ax.set_xticks(range(1, len(names) + 1))
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_profiles(profiles, path, metric="kernel_grad_norm", title=None):
    """Write a PNG with one line per labelled per-layer profile ``{label: [values]}``
    against layer index, log scale (the ``gradients --compare`` picture)."""
    check_path(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, values in profiles.items():
        ax.plot(range(1, len(values) + 1), _positive(values), marker="o", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = closest to the input)")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} by depth")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
