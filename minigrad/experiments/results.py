"""Results: the records of a sweep, with summary(), to_frame(), plot(), save() and load()."""
import json
import math
import os

import numpy as np

from .config import DEFAULTS, label
from .grid import varying_keys

INIT_RATIO = "log10_ratio_init"
FINAL_RATIO = "log10_ratio_final"


def log10_ratio(rows, metric="kernel_grad_norm"):
    """log10(first / last ``metric``) over the layers of a grad_init/grad_final dict: how many
    decades the gradient grows (> 0) or shrinks (< 0, vanishing) from the output back to the
    input layer. None for a missing measurement; +-inf when exactly one end is 0 or infinite;
    NaN when the ratio is undefined (a NaN, or both ends infinite: an exploded net)."""
    if not rows:
        return None
    values = [v[metric] for v in rows.values()]
    first, last = values[0], values[-1]
    if math.isnan(first) or math.isnan(last) or (math.isinf(first) and math.isinf(last)):
        return math.nan
    if first == last:
        return 0.0
    if last == 0 or math.isinf(first):
        return math.inf
    if first == 0 or math.isinf(last):
        return -math.inf
    return math.log10(first / last)


def metric_of(record, metric):
    """The number a summary reports for one record (None when it was not measured)."""
    if callable(metric):
        return metric(record)
    if metric == INIT_RATIO:
        return log10_ratio(record.get("grad_init"))
    if metric == FINAL_RATIO:
        return log10_ratio(record.get("grad_final"))
    if metric in ("test_accuracy", "epochs_to_target", "seconds"):
        return record.get(metric)
    raise ValueError(f"Results.summary: unknown metric {metric!r}; valid: {INIT_RATIO}, "
                     f"{FINAL_RATIO}, test_accuracy, epochs_to_target, seconds, or a "
                     f"callable(record) -> float")


def quantiles(values, qs=(50, 10, 90)):
    """Percentiles of the non-None, non-NaN values (linear interpolation; with an infinity
    among them the nearest rank, since inf - inf has no interpolation)."""
    vals = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if not vals.size:
        return [math.nan] * len(qs)
    method = "linear" if np.isfinite(vals).all() else "nearest"
    return [float(np.percentile(vals, q, method=method)) for q in qs]


class Summary(list):  # noqa: FURB189 (API §11: a list, indexable and json-able)
    """Rows (dicts) of ``Results.summary``; ``str()`` is the readable table."""

    def __init__(self, rows, metric_name, target):
        super().__init__(rows)
        self.metric_name = metric_name
        self.target = target

    def __str__(self):
        if not self:
            return "(no records)"
        w = max(len("case"), *(len(r["case"]) for r in self)) + 2
        head = (f"{'case'.ljust(w)}{'seeds':>6}{'failed':>7}{'median':>9}{'10%':>8}{'90%':>8}"
                f"{'test acc':>10}{'epochs to ' + self.target:>17}")
        lines = [f"{self.metric_name}: median and 10-90 % range over seeds; test accuracy "
                 f"(median) and epochs to the target accuracy at the end", head, "-" * len(head)]
        for r in self:
            reached = (f"{_fmt(r['epochs_to_target'], 1)} ({r['reached']}/{r['seeds']})"
                       if r["reached"] else "-")
            lines.append(f"{r['case'].ljust(w)}{r['seeds']:>6}{r['failed']:>7}"
                         f"{_fmt(r['median']):>9}{_fmt(r['p10']):>8}{_fmt(r['p90']):>8}"
                         f"{_fmt(r['test_accuracy'], 3):>10}{reached:>17}")
        return "\n".join(lines)


def _fmt(v, digits=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}f}"


class Results(list):  # noqa: FURB189 (API §11: Results is a list of records)
    """The records of a sweep (a list of dicts, API §11)."""

    def varying(self):
        """The config keys that differ between records."""
        return varying_keys([r["config"] for r in self])

    def groups(self, by=None):
        """``{label: [records]}``, grouped by ``by`` (default: every varying key but seed),
        in first-seen order. A group's label is its ``case`` when the records have one."""
        keys = self._by(by)
        out = {}
        for r in self:
            c = r["config"]
            name = label(c, keys) if by is None else ",".join(f"{k}={c[k]}" for k in keys)
            out.setdefault(name or "all", []).append(r)
        return out

    def _by(self, by):
        if by is None:
            return [k for k in self.varying() if k != "seed"]
        by = [by] if isinstance(by, str) else list(by)
        unknown = [k for k in by if k not in DEFAULTS]
        if unknown:
            raise ValueError(f"Results: unknown config key(s) {unknown} in by=; valid: "
                             f"{', '.join(DEFAULTS)}")
        return by

    def summary(self, by=None, metric=None):
        """Per group: the median and 10-90 % range over seeds of ``metric`` (default
        log10(first/last kernel_grad_norm) at initialisation), the median test accuracy,
        and the median epochs to the target among the seeds that reached it."""
        metric = metric or INIT_RATIO
        rows = []
        targets = {r["config"]["target"] for r in self}
        for name, records in self.groups(by).items():
            ok = [r for r in records if r.get("error") is None]
            med, p10, p90 = quantiles(metric_of(r, metric) for r in ok)
            acc = quantiles((r.get("test_accuracy") for r in ok), (50,))[0]
            reached = [r["epochs_to_target"] for r in ok if r.get("epochs_to_target")]
            ept = quantiles(reached, (50,))[0] if reached else None
            rows.append({"case": name, "seeds": len(records), "failed": len(records) - len(ok),
                         "median": med, "p10": p10, "p90": p90, "test_accuracy": acc,
                         "epochs_to_target": ept, "reached": len(reached)})
        name = {INIT_RATIO: "log10(first/last kernel gradient norm) at initialisation",
                FINAL_RATIO: "log10(first/last kernel gradient norm) after training"}.get(
            metric, getattr(metric, "__name__", str(metric)))
        target = "/".join(f"{t:.2f}" for t in sorted(targets))
        return Summary(rows, name, target)

    def to_frame(self):
        """A pandas DataFrame, one row per record: the config keys, log10 ratios at init and
        at the end, test_accuracy, epochs_to_target, diverged, seconds, error."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Results.to_frame needs pandas (pip install pandas)") from None
        rows = []
        for r in self:
            row = dict(r["config"])
            row["trace"] = ",".join(row["trace"])
            row.update({INIT_RATIO: log10_ratio(r.get("grad_init")),
                        FINAL_RATIO: log10_ratio(r.get("grad_final"))})
            row.update({k: r.get(k) for k in ("test_accuracy", "epochs_to_target", "diverged",
                                              "seconds", "error")})
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, path=None, by=None, metric="kernel_grad_norm", when="init", title=None):
        """Per-layer ``metric`` by depth, one line (the median) per group with a shaded band
        over seeds (10-90 %), log scale. PNG to ``path``, or the Figure when None."""
        from .plot import plot_results
        return plot_results(self, path, by=by, metric=metric, when=when, title=title)

    def save(self, path):
        """Write the records as JSON lines (the format of run_grid's ``out=``), atomically."""
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in self)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path


def load(path):
    """The Results saved by ``save`` or streamed by ``run_grid(out=...)``; a damaged line
    raises naming its number."""
    records = Results()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                records.append(parse_record(line, number, path, "load"))
    return records


def parse_record(line, number, path, owner, hint=""):
    """The record on line ``number`` of a results file; ValueError naming the file and line
    when it is not JSON (``hint`` says what to do) or not a record with a config."""
    try:
        record = json.loads(line)
    except ValueError as e:
        raise ValueError(f"{owner}: {str(path)!r} line {number} is damaged (not JSON: "
                         f"{e}){hint}") from None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise ValueError(f"{owner}: {str(path)!r} line {number} is not a minigrad "  # noqa: TRY004 (bad file content)
                         f"experiment record (no config)")
    return record
