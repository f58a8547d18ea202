"""Ioffe & Szegedy (2015), Fig. 1: internal covariate shift, with and without batch norm.

Three fully connected hidden layers of 100 sigmoid units, weights drawn from a small Gaussian,
SGD; the same net with batch normalisation before each sigmoid. Fig. 1(a): test accuracy over
training steps, higher and sooner with BN. Fig. 1(b, c): the 15th, 50th and 85th percentiles
of the input of one sigmoid of the last hidden layer over training: drifting without BN,
stable with it. The record's ``trace`` holds p15/p50/p85 of unit 0 of the last hidden layer's
pre-activation on a fixed probe batch (with BN: normalised by the probe batch's own statistics,
as in a training step).
"""
import numpy as np

from .base import (
    Study,
    fmt,
    fmt_spread,
    md_table,
    ok_records,
    setup_line,
    spread,
    verdict,
)

PLAIN, BN = "without batch norm", "with batch norm"
WIDTH, STD = 100, 0.1
EPOCHS, TRACE_EVERY = 80, 25
QUICK_EPOCHS, QUICK_SAMPLES, QUICK_TRACE_EVERY = 30, 600, 10
PAPER_STEPS = 50000
TARGET = 0.9
PERCENTILES = ("p15", "p50", "p85")
DIGITS = "the 8x8 UCI digits (1,500 training, 297 test images) instead of MNIST"


def drift(trace):
    """How far the unit's input distribution moves: the range (max - min over training) of
    each of p15, p50, p85, averaged."""
    return float(np.mean([np.ptp(trace[p]) for p in PERCENTILES]))


class Ioffe2015(Study):
    name = "ioffe2015"
    title = ("Ioffe & Szegedy (2015), Fig. 1: a sigmoid MLP with and without batch "
             "normalisation (accuracy, and the drift of one unit's input distribution)")
    citation = ("Sergey Ioffe and Christian Szegedy, \"Batch Normalization: Accelerating Deep "
                "Network Training by Reducing Internal Covariate Shift\", ICML 2015, PMLR "
                "37:448-456, arXiv:1502.03167")
    quick_seeds = 2

    def configs(self, seeds, quick, dataset):
        common = dict(dataset=dataset, depth=3, width=WIDTH, activation="sigmoid",
                      initializer=f"normal:{STD}", output="softmax", optimizer="sgd",
                      learning_rate=0.5, batch_size=60, target=TARGET,
                      epochs=QUICK_EPOCHS if quick else EPOCHS,
                      trace=["test_accuracy", "preactivation_percentiles"],
                      trace_every=QUICK_TRACE_EVERY if quick else TRACE_EVERY,
                      train_samples=QUICK_SAMPLES if quick else 0, seed=seeds)
        return [dict(common, batch_norm=False, case=PLAIN),
                dict(common, batch_norm=True, case=BN)]

    def measure(self, results):
        groups = results.groups()
        out = {}
        for case in (PLAIN, BN):
            records = ok_records(groups.get(case, []))
            if not records:
                continue
            traces = [r["trace"] for r in records]
            steps = traces[0]["step"]
            reach = []
            for t in traces:
                reach.append(next((s for s, a in zip(t["step"], t["test_accuracy"])
                                   if a >= TARGET), None))
            out[case] = {
                "drift": spread([drift(t) for t in traces]),
                "p50_change": spread([abs(t["p50"][-1] - t["p50"][0]) for t in traces]),
                "spread_start": spread([t["p85"][0] - t["p15"][0] for t in traces]),
                "spread_end": spread([t["p85"][-1] - t["p15"][-1] for t in traces]),
                "accuracy_end": spread([t["test_accuracy"][-1] for t in traces]),
                "accuracy_mid": spread([t["test_accuracy"][len(steps) // 4] for t in traces]),
                "mid_step": steps[len(steps) // 4],
                "steps_to_target": spread([s for s in reach if s is not None]),
                "reached": sum(s is not None for s in reach),
                "seeds": len(records),
                "steps": steps[-1],
            }
        return out

    def sections(self, results, numbers, meta):
        c = meta["config"]
        setup = (
            f"- Net: 3 hidden layers of {WIDTH} sigmoid units, weights N(0, {STD}^2), zero "
            f"biases, softmax output with cross-entropy: "
            f"{setup_line(c, ['depth', 'width', 'activation', 'initializer', 'output'])}; "
            f"`batch_norm` False or True (BatchNormalization between each Dense and its "
            f"sigmoid).\n- Training: "
            f"{setup_line(c, ['optimizer', 'learning_rate', 'batch_size', 'epochs'])}: "
            f"{numbers[PLAIN]['steps'] if PLAIN in numbers else '?'} steps.\n"
            f"- Recorded every {c['trace_every']} steps (`trace`): test accuracy, and the "
            f"15th/50th/85th percentiles of unit 0 of the last hidden layer's pre-activation "
            f"over a fixed probe batch of training images (with BN: normalised with the "
            f"probe batch's own mean and variance, as a training step normalises it).")
        differs = (
            f"- Data: {'MNIST' if c['dataset'] == 'mnist' else DIGITS}.\n"
            f"- Length: {numbers[PLAIN]['steps'] if PLAIN in numbers else '?'} steps instead "
            f"of {PAPER_STEPS:,}; the paper does not state its weight scale or learning "
            f"rate: here N(0, {STD}^2) and {c['learning_rate']:g}.\n"
            f"- Fig. 1(b, c) show one unit of one net; the table gives the spread over seeds "
            f"(each seed's unit 0), the figure the first seed.")
        rows = []
        for case in (PLAIN, BN):
            if case not in numbers:
                continue
            m = numbers[case]
            rows.append([case, fmt_spread(m["accuracy_mid"], 1, "%"),
                         fmt_spread(m["accuracy_end"], 1, "%"),
                         f"{fmt(m['steps_to_target'][0], 4)} ({m['reached']}/{m['seeds']})"
                         if m["reached"] else f"never (0/{m['seeds']})",
                         fmt_spread(m["drift"], 2, "f"), fmt_spread(m["p50_change"], 2, "f"),
                         f"{fmt_spread(m['spread_start'], 2, 'f')} -> "
                         f"{fmt_spread(m['spread_end'], 2, 'f')}"])
        mid = numbers[PLAIN]["mid_step"] if PLAIN in numbers else "?"
        table = md_table(["case", f"test accuracy % at step {mid}", "test accuracy % at the "
                          "end", f"steps to {100 * TARGET:.0f} % (seeds reaching it)",
                          "drift: range of p15/p50/p85 over training (mean of the three)",
                          "abs(p50 end - p50 start)", "p85 - p15: start -> end"], rows)
        return [("Setup", setup), ("What differs from the paper", differs),
                ("Measured", table),
                ("Findings (the paper's in words, beside the measured numbers)",
                 self.findings(numbers))]

    def findings(self, numbers):
        p, b = numbers.get(PLAIN), numbers.get(BN)
        if not (p and b):
            return "- (no records)"
        sooner = b["accuracy_mid"][0] > p["accuracy_mid"][0]
        higher = b["accuracy_end"][0] >= p["accuracy_end"][0]
        narrower = b["drift"][0] < p["drift"][0]
        return "\n".join([
            f"- Published (Fig. 1a): with batch norm the net trains faster and reaches a "
            f"higher test accuracy. Measured: at step {p['mid_step']} "
            f"{fmt(b['accuracy_mid'][0], 1, '%')} % with BN against "
            f"{fmt(p['accuracy_mid'][0], 1, '%')} % without ({verdict(sooner)}); at the end "
            f"{fmt(b['accuracy_end'][0], 1, '%')} % against {fmt(p['accuracy_end'][0], 1, '%')}"
            f" % ({verdict(higher)}).",
            f"- Published (Fig. 1b, c): without BN the distribution of a sigmoid's input "
            f"changes over training, in its mean and its spread; with BN it is much more "
            f"stable. Measured: the percentiles move over a range of "
            f"{fmt(p['drift'][0], 2, 'f')} without BN against {fmt(b['drift'][0], 2, 'f')} with "
            f"it (median over seeds), {fmt(p['drift'][0] / b['drift'][0], 2, 'f')}x less with "
            f"BN: {verdict(narrower)}. The spread p85 - p15 goes from "
            f"{fmt(p['spread_start'][0], 2, 'f')} to {fmt(p['spread_end'][0], 2, 'f')} without "
            f"BN, from {fmt(b['spread_start'][0], 2, 'f')} to {fmt(b['spread_end'][0], 2, 'f')}"
            f" with it."])

    def plot(self, results, path):
        from ...diagnostics.plot import _pyplot, case_colors, finish, style
        from ..plot import band
        from .base import legend_below
        plt = _pyplot()
        groups = results.groups()
        fig, axes = plt.subplots(1, 3, figsize=(16, 5.6))
        colors = case_colors(3)
        for i, case in enumerate((PLAIN, BN)):
            records = ok_records(groups.get(case, []))
            if not records:
                continue
            steps = np.array(records[0]["trace"]["step"])
            acc = np.array([r["trace"]["test_accuracy"] for r in records])
            band(axes[0], steps, 100 * acc, case, colors[i], i)
            ax = axes[1 + i]
            first = records[0]["trace"]
            for j, p in enumerate(PERCENTILES):
                ls, marker = style(j)
                ax.plot(steps, first[p], linestyle=ls, marker=marker,
                        markevery=max(1, len(steps) // 12), color=colors[j],
                        label=f"{p[1:]}th percentile")
            ax.set_title(f"{case}: input of one last-layer sigmoid (seed "
                         f"{records[0]['config']['seed']})")
            ax.set_xlabel("training step")
            ax.set_ylabel("pre-activation value")
            legend_below(ax, ncol=3)
        if axes[1].has_data() and axes[2].has_data():
            lo = min(axes[1].get_ylim()[0], axes[2].get_ylim()[0])
            hi = max(axes[1].get_ylim()[1], axes[2].get_ylim()[1])
            axes[1].set_ylim(lo, hi)
            axes[2].set_ylim(lo, hi)
        axes[0].set_xlabel("training step")
        axes[0].set_ylabel("test accuracy (%)")
        axes[0].set_ylim(0, 100)
        axes[0].set_title("Fig. 1(a): test accuracy")
        legend_below(axes[0])
        fig.suptitle(f"Ioffe & Szegedy (2015), Fig. 1: 3 x {WIDTH} sigmoid units, N(0, "
                     f"{STD}^2) weights, SGD (median, 10-90 % of seeds)")
        fig.tight_layout()
        return finish(fig, path)
