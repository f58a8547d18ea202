"""The sweep picture: per-layer gradient norms by depth, a median line and a 10-90 % band over
seeds per group, log scale (the diagnostics' picture rules: legend outside, words on the
axes, a distinct line style and marker per line)."""
import numpy as np

from ..diagnostics.plot import (
    METRIC_LABELS,
    _pyplot,
    case_colors,
    check_path,
    figure_width,
    finish,
    layer_axis,
    legend_outside,
    style,
)
from ..diagnostics.rows import METRICS


def _profiles(records, metric, when):
    """seeds x layers array of ``metric`` (NaN past a record's last layer)."""
    rows = [r.get(f"grad_{when}") for r in records if r.get("error") is None]
    rows = [r for r in rows if r]
    if not rows:
        return None
    n = max(len(r) for r in rows)
    out = np.full((len(rows), n), np.nan)
    for i, r in enumerate(rows):
        values = np.array([v[metric] for v in r.values()], dtype=float)
        out[i, :len(values)] = values
    return out


def band(ax, x, values, label, color, style_index, log=False):
    """The median over seeds (rows of ``values``) as a line, the 10-90 % range as a band (two
    seeds or more); ``log``: values not finite and positive are gaps. Returns the line, or
    None when nothing is left to draw. (The sweep picture and every study figure.)"""
    values = np.asarray(values, dtype=float)
    if log:
        values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    if not values.size or np.isnan(values).all():
        return None
    import warnings
    with warnings.catch_warnings():
        # all-NaN columns (a layer every seed overflowed) are gaps, not warnings
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(values, axis=0)
        lo, hi = np.nanpercentile(values, [10, 90], axis=0)
    ls, marker = style(style_index)
    n = values.shape[0]
    (line,) = ax.plot(x, med, linestyle=ls, marker=marker, markevery=max(1, len(x) // 12),
                      color=color, label=f"{label} ({n} seed{'s' if n > 1 else ''})")
    if n > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, linewidth=0)
    return line


def plot_results(results, path=None, by=None, metric="kernel_grad_norm", when="init",
                 title=None):
    """Median per layer and the 10-90 % band over seeds, one line per group."""
    if metric not in METRICS:
        raise ValueError(f"Results.plot: unknown metric {metric!r}; valid: {METRICS}")
    if when not in ("init", "final"):
        raise ValueError(f"Results.plot: when must be 'init' or 'final', got {when!r}")
    if path is not None:
        check_path(path)
    plt = _pyplot()
    groups = results.groups(by)
    fig, ax = plt.subplots(figsize=(figure_width(f"{g} (10 seeds)" for g in groups), 5))
    drawn = 0
    colors = case_colors(len(groups))
    for i, (name, records) in enumerate(groups.items()):
        values = _profiles(records, metric, when)
        if values is not None:
            x = np.arange(1, values.shape[1] + 1)
            drawn += band(ax, x, values, name, colors[i], i, log=True) is not None
    if not drawn:
        plt.close(fig)
        raise ValueError(f"Results.plot: no record has finite, positive grad_{when} "
                         f"measurements to draw")
    ax.set_yscale("log")
    layer_axis(ax)
    ax.set_ylabel(METRIC_LABELS[metric])
    moment = "at initialisation" if when == "init" else "after training"
    ax.set_title(title or f"{METRIC_LABELS[metric]} {moment}: median and 10-90 % of seeds")
    legend_outside(ax, title="case")
    fig.tight_layout()
    return finish(fig, path)
