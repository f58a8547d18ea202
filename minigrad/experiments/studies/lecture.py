"""The lecture's cases (``gradients --compare``), over seeds: the per-layer gradient norms at
initialisation and after training with seed bands, the accuracy and the epochs to the target.

The cases are defined once, in ``minigrad.experiments.cases``; this study runs them with the
``gradients`` command's defaults (10 hidden layers of 32 units, SGD 0.1, 20 epochs)."""
import math

import numpy as np

from ..cases import lecture_cases
from ..config import DEFAULTS
from .base import (
    Study,
    fmt,
    fmt_spread,
    layer_values,
    md_table,
    ok_records,
    probe_note,
    setup_line,
    spread,
    verdict,
)

QUICK_EPOCHS, QUICK_SAMPLES = 3, 500
COMMON_KEYS = ("depth", "width", "optimizer", "learning_rate", "batch_size", "epochs", "target")
# what the lecture says each case does to the gradient on the way back to the first layer
EXPECTED = {
    "sigmoid + glorot_uniform": "vanishes",
    "sigmoid + normal:1.0": "vanishes",
    "tanh + glorot_uniform": "stable",
    "relu + he_normal": "stable",
    "leaky_relu + he_normal": "stable",
    "elu + he_normal": "stable",
    "selu + lecun_normal": "stable",
    "sigmoid + batch norm": "stable",
    "relu + normal:1.0": "explodes",
    "relu + normal:1.0 + clip 1": "explodes",
    "sigmoid + residual": "vanishes less",
}
# a case whose claim is relative: it vanishes over far fewer decades than its reference
REFERENCE = {"sigmoid + residual": "sigmoid + glorot_uniform"}
LESS = 2.0             # "vanishes less": at least this many decades fewer than the reference
WHY = {
    "vanishes": "sigmoid' <= 1/4 shrinks the gradient in every layer",
    "stable": "the initialisation (or the normalisation / skip) keeps the gradient's size",
    "explodes": "N(0, 1) weights multiply the signal by about sqrt(n/2) per ReLU layer",
    "vanishes less": "the skips carry the gradient past the sigmoids",
}
DECADES = 1.0          # |log10(L1 / output)| beyond this is vanishing (< 0)
EXPLODED = 1e3         # a kernel gradient norm beyond this is exploding


def decades(rows):
    """log10(||dL/dW|| of layer 1 / that of the output layer): < 0 vanishing towards the
    input, > 0 growing; NaN when not finite."""
    values = [v["kernel_grad_norm"] for v in rows.values()]
    first, last = values[0], values[-1]
    if not (math.isfinite(first) and math.isfinite(last)) or first <= 0 or last <= 0:
        return math.nan
    return math.log10(first / last)


def classify(records):
    """"vanishes", "explodes" or "stable" from the records' gradients at initialisation."""
    ok = [r for r in ok_records(records) if r.get("grad_init")]
    if not ok:
        return "-"
    norms = [v["kernel_grad_norm"] for r in ok for v in r["grad_init"].values()]
    if any(not math.isfinite(n) or n > EXPLODED for n in norms):
        return "explodes"
    med = spread([decades(r["grad_init"]) for r in ok])[0]
    return "vanishes" if med < -DECADES else "stable"


class Lecture(Study):
    name = "lecture"
    title = "The lecture's cases: vanishing and exploding gradients and their fixes"
    citation = ("The minigrad lecture's `python -m minigrad gradients --compare` cases "
                "(`minigrad.experiments.cases`), after Glorot & Bengio (2010), He et al. "
                "(2015), Klambauer et al. (2017, SELU), Ioffe & Szegedy (2015), Pascanu et "
                "al. (2013, clipping) and He et al. (2016, residual connections)")
    quick_seeds = 2

    def configs(self, seeds, quick, dataset):
        common = {k: DEFAULTS[k] for k in COMMON_KEYS}
        common.update(dataset=dataset, seed=seeds)
        if quick:
            common.update(epochs=QUICK_EPOCHS, train_samples=QUICK_SAMPLES)
        return [dict(common, **overrides, case=name) for name, overrides in lecture_cases()]

    def measure(self, results):
        out = {}
        for name, records in results.groups().items():
            ok = ok_records(records)
            init = [decades(r["grad_init"]) for r in ok if r.get("grad_init")]
            final = [decades(r["grad_final"]) for r in ok if r.get("grad_final")]
            reached = [r["epochs_to_target"] for r in ok if r["epochs_to_target"] is not None]
            out[name] = {
                "decades_init": spread(init),
                "decades_final": spread(final),
                "class": classify(records),
                "expected": EXPECTED.get(name, "-"),
                "accuracy": spread([r["test_accuracy"] for r in ok]),
                "diverged": sum(bool(r["diverged"]) for r in ok),
                "reached": len(reached),
                "epochs_to_target": spread(reached),
                "seeds": len(records),
                "failed": len(records) - len(ok),
            }
        for name, ref in REFERENCE.items():
            if name in out and ref in out:
                gap = out[name]["decades_init"][0] - out[ref]["decades_init"][0]
                if gap >= LESS:
                    out[name]["class"] = "vanishes less"
                out[name]["versus"] = (ref, gap)
        return out

    def sections(self, results, numbers, meta):
        c = meta["config"]
        setup = (f"- Every case: {setup_line(c, COMMON_KEYS)} (the `gradients` command's "
                 f"defaults); each case sets its own activation, initializer, batch norm, "
                 f"clipping or skips (`minigrad/experiments/cases.py`).\n- {probe_note(c)}\n"
                 f"- Decades: log10(‖dL/dW‖ of hidden layer 1 / that of the output layer); "
                 f"below -{DECADES:g} the gradient vanishes towards the input; a norm above "
                 f"{EXPLODED:g} (or an overflow) is exploding; \"vanishes less\": at least "
                 f"{LESS:g} decades fewer than the same net without skips.")
        rows = []
        for name, m in numbers.items():
            rows.append([name, m["expected"], m["class"], fmt_spread(m["decades_init"], 2, "f"),
                         fmt_spread(m["decades_final"], 2, "f"),
                         fmt_spread(m["accuracy"], 1, "%"),
                         (f"{fmt(m['epochs_to_target'][0], 3)} ({m['reached']}/{m['seeds']})"
                          if m["reached"] else f"never (0/{m['seeds']})"),
                         f"{m['diverged']}/{m['seeds']}"])
        table = md_table(["case", "the lecture says", "measured", "decades at init",
                          "decades after training", "test accuracy %",
                          f"epochs to {100 * c['target']:.0f} % (seeds reaching it)",
                          "diverged"], rows)
        return [("Setup", setup), ("Measured beside the lecture's claims", table),
                ("Findings", self.findings(numbers))]

    def findings(self, numbers):
        known = {n: m for n, m in numbers.items() if m["expected"] != "-"}
        agree = [n for n, m in known.items() if m["class"] == m["expected"]]
        lines = [f"- {len(agree)} of {len(known)} cases behave as the lecture says: "
                 f"{verdict(len(agree) == len(known))}."]
        for n, m in known.items():
            if "versus" in m:
                ref, gap = m["versus"]
                lines.append(f"- {n}: {fmt(m['decades_init'][0], 3)} decades against "
                             f"{fmt(numbers[ref]['decades_init'][0], 3)} for {ref}, "
                             f"{fmt(gap, 2)} fewer ({WHY['vanishes less']}).")
            if m["class"] != m["expected"]:
                lines.append(f"- {n}: the lecture says it {m['expected']} "
                             f"({WHY[m['expected']]}); measured: {m['class']} "
                             f"(decades {fmt(m['decades_init'][0], 3)}).")
        trained = {n: m["accuracy"][0] for n, m in numbers.items()}
        best = max(trained, key=lambda n: -math.inf if math.isnan(trained[n]) else trained[n])
        lines.append(f"- The best test accuracy: {best}, {fmt(trained[best], 1, '%')} % "
                     f"(median).")
        return "\n".join(lines)

    def plot(self, results, path):
        from ...diagnostics.plot import _pyplot, case_colors, finish, layer_axis
        from ..plot import band
        from .base import legend_below
        plt = _pyplot()
        groups = results.groups()
        fig, axes = plt.subplots(1, 2, figsize=(14, 7.5), sharey=True)
        colors = case_colors(len(groups))
        for ax, when in zip(axes, ("init", "final")):
            for i, (name, records) in enumerate(groups.items()):
                values = layer_values(records, "kernel_grad_norm", when=when,
                                      hidden_only=False)
                if values.size:
                    band(ax, np.arange(1, values.shape[1] + 1), values, name, colors[i], i,
                         log=True)
            ax.set_yscale("log")
            layer_axis(ax)
            ax.set_title("at initialisation" if when == "init" else "after training")
            ax.set_ylabel("kernel gradient norm ||dL/dW|| (last = output layer)")
        legend_below(axes[0], ncol=2)
        legend_below(axes[1], ncol=2)
        c = results[0]["config"]
        fig.suptitle(f"The lecture's cases: {c['depth']} hidden layers of {c['width']}, "
                     f"{c['epochs']} epochs (median, 10-90 % of seeds)")
        fig.tight_layout()
        return finish(fig, path)
