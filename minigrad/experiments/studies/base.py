"""What every study shares: the Study interface, seed statistics, the .md writer, figure parts.

A study is a list of trial configs (each carrying its ``case`` label) run by ``run_grid``,
``measure(results)`` (the study's numbers: what the tests assert and the .md reports),
``markdown(results, meta)`` and ``plot(results, path)``."""
import math

import numpy as np

from ..results import quantiles
from ..trial import PROBE_BATCH

SPREAD = "median [10th, 90th percentile over seeds]"


class Study:
    """One published study: its configs, measurements, table and figure (see module doc)."""

    name = ""
    title = ""
    citation = ""
    quick_seeds = 2

    def configs(self, seeds, quick, dataset):
        """The trial configs: a list of dicts whose ``seed`` is the list ``seeds``."""
        raise NotImplementedError

    def measure(self, results):
        """The study's numbers, a dict (JSON-able)."""
        raise NotImplementedError

    def sections(self, results, numbers, meta):
        """The .md body after the header: ``[(heading, text)]``."""
        raise NotImplementedError

    def plot(self, results, path):
        raise NotImplementedError

    def markdown(self, results, meta):
        """The study's report: citation, command, setup, differences, tables, findings."""
        numbers = self.measure(results)
        lines = [f"# {self.title}", "", f"**Citation.** {self.citation}", "",
                 f"**Command.** `{meta['command']}`"
                 + (" (`--quick`: fewer seeds, epochs and samples, same architecture; the "
                    "numbers are a smoke test, not the study)" if meta["quick"] else ""), "",
                 f"**Data.** {describe_data(meta)}; {len(meta['seeds'])} seed"
                 f"{'s' if len(meta['seeds']) > 1 else ''} per case "
                 f"({', '.join(map(str, meta['seeds']))}); {len(results)} trials, "
                 f"{sum(r['error'] is not None for r in results)} failed. "
                 f"Spreads are the {SPREAD}.", ""]
        for heading, text in self.sections(results, numbers, meta):
            lines += [f"## {heading}", "", text.rstrip(), ""]
        lines += [f"Figure: `{self.name}.png`; records: `{self.name}.jsonl` "
                  f"(`minigrad.experiments.load`).", ""]
        return "\n".join(lines)


def describe_data(meta):
    """One phrase naming the data a study ran on."""
    c = meta["config"]
    name = {"digits": "the shipped UCI digits (8x8 = 64 pixels, 1,500 training / 297 test "
                      "images)",
            "digits28": "the shipped UCI digits upscaled to 28x28 (784 pixels, 1,500 "
                        "training / 297 test images)",
            "mnist": "MNIST (28x28, 60,000 training / 10,000 test images)"}[c["dataset"]]
    if c["train_samples"]:
        name += f", of which the first {c['train_samples']} training images"
    return name


# ---- statistics over seeds --------------------------------------------------------------------
def spread(values):
    """``(median, p10, p90)`` over seeds of the finite values (NaN when there are none)."""
    return tuple(quantiles(values, (50, 10, 90)))


def fmt(v, digits=3, style="g"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if style == "%":
        return f"{100 * v:.{digits}f}"
    if style == "e":
        return f"{v:.{digits}e}"
    if style == "f":
        return f"{v:.{digits}f}"
    return f"{v:.{digits}g}"


def fmt_spread(s, digits=3, style="g"):
    """``median [p10, p90]``."""
    med, lo, hi = s
    if all(v is None or math.isnan(v) for v in s):
        return "-"
    return f"{fmt(med, digits, style)} [{fmt(lo, digits, style)}, {fmt(hi, digits, style)}]"


def ok_records(records):
    return [r for r in records if r.get("error") is None]


def layer_values(records, metric, when="init", hidden_only=True, scale=1.0):
    """seeds x layers array of ``metric`` from ``grad_<when>`` (hidden layers only by
    default), times ``scale``."""
    rows = []
    for r in ok_records(records):
        grads = r.get(f"grad_{when}") or {}
        rows.append([v[metric] * scale for k, v in grads.items()
                     if not hidden_only or k.startswith("hidden_")])
    if not rows:
        return np.zeros((0, 0))
    return np.array(rows, dtype=float)


def column_spreads(values):
    """Per column (layer or step), ``(median, p10, p90)`` over the rows (seeds)."""
    return [spread(list(col)) for col in values.T]


def history_values(records, key):
    """seeds x epochs array of ``history[key]`` (NaN-padded)."""
    rows = [r["history"].get(key, []) for r in ok_records(records)]
    n = max((len(h) for h in rows), default=0)
    out = np.full((len(rows), n), np.nan)
    for i, h in enumerate(rows):
        out[i, :len(h)] = h
    return out


def verdict(agrees):
    return "**agrees**" if agrees else "**differs**"


def md_table(head, rows):
    """A GitHub markdown table."""
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def setup_line(config, keys):
    """``key=value`` for the keys of a config, as in a grid file."""
    return ", ".join(f"`{k}={config[k]!r}`" for k in keys)


def probe_note(config):
    """Where the gradients at initialisation come from."""
    n = min(PROBE_BATCH, config["train_samples"] or PROBE_BATCH)
    return (f"Gradients at initialisation are measured on a fixed probe batch of the first "
            f"{n} training images (the batch-mean loss fit minimises).")


# ---- figure parts -------------------------------------------------------------------------------
def legend_below(ax, ncol=1):
    """Legend under the axes (the figures have several panels side by side)."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize="small",
              frameon=False)
