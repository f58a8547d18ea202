"""Glorot & Bengio (2010), Fig. 2 and Fig. 7.

Fig. 2: a net of 4 sigmoid hidden layers with the then-standard initialisation
W ~ U[-1/sqrt(n), 1/sqrt(n)] (n the fan-in; that is ``scaled_uniform:1``, since
scaled_uniform:S draws on +-sqrt(S/n)) and zero biases: the mean (and spread) of each hidden
layer's activations during training. The top hidden layer saturates towards 0 early; learning
stalls meanwhile.

Fig. 7: the back-propagated gradients dCost/ds (``delta_norm``, s a layer's pre-activation)
per layer of a 5-layer tanh net at initialisation, standard vs normalised initialisation
U[-sqrt(6/(n_in+n_out)), +sqrt(6/(n_in+n_out))] (``glorot_uniform``): with the standard one
they shrink towards the input; with the normalised one they keep about the same size.
"""
import math

import numpy as np

from .base import (
    Study,
    column_spreads,
    fmt,
    fmt_spread,
    layer_values,
    md_table,
    ok_records,
    setup_line,
    spread,
    verdict,
)

SIGMOID = "sigmoid, standard init"
TANH_STANDARD = "tanh, standard init"
TANH_NORMALISED = "tanh, normalised init"
WIDTH = 200
EPOCHS, TRACE_EVERY = 30, 50
QUICK_EPOCHS, QUICK_SAMPLES, QUICK_TRACE_EVERY = 12, 500, 25
SATURATED = 0.25       # a sigmoid layer whose mean activation is below this is near 0


class Glorot2010(Study):
    name = "glorot2010"
    title = ("Glorot & Bengio (2010): saturation of the top sigmoid layer (Fig. 2) and "
             "back-propagated gradients, standard vs normalised initialisation (Fig. 7)")
    citation = ("Xavier Glorot and Yoshua Bengio, \"Understanding the difficulty of training "
                "deep feedforward neural networks\", AISTATS 2010, PMLR 9:249-256, "
                "https://proceedings.mlr.press/v9/glorot10a.html")
    quick_seeds = 2

    def configs(self, seeds, quick, dataset):
        common = dict(dataset=dataset, width=WIDTH, bias_initializer="zeros",
                      output="softmax", optimizer="sgd", learning_rate=0.1, batch_size=10,
                      train_samples=QUICK_SAMPLES if quick else 0, seed=seeds)
        return [
            dict(common, case=SIGMOID, depth=4, activation="sigmoid",
                 initializer="scaled_uniform:1", epochs=QUICK_EPOCHS if quick else EPOCHS,
                 trace=["test_accuracy", "activation_mean", "activation_std"],
                 trace_every=QUICK_TRACE_EVERY if quick else TRACE_EVERY),
            dict(common, case=TANH_STANDARD, depth=5, activation="tanh",
                 initializer="scaled_uniform:1", epochs=0),
            dict(common, case=TANH_NORMALISED, depth=5, activation="tanh",
                 initializer="glorot_uniform", epochs=0),
        ]

    def measure(self, results):
        groups = results.groups()
        sig = ok_records(groups.get(SIGMOID, []))
        out = {"layers": {}}
        if sig:
            names = list(sig[0]["trace"]["activation_mean"])
            top = names[-1]
            for name in names:
                means = [np.array(r["trace"]["activation_mean"][name]) for r in sig]
                stds = [np.array(r["trace"]["activation_std"][name]) for r in sig]
                out["layers"][name] = {
                    "start": spread([m[0] for m in means]),
                    "min": spread([m.min() for m in means]),
                    "end": spread([m[-1] for m in means]),
                    "std_start": spread([s[0] for s in stds]),
                    "std_end": spread([s[-1] for s in stds]),
                }
            steps = sig[0]["trace"]["step"]
            first = []
            for r in sig:
                m = r["trace"]["activation_mean"][top]
                first.append(next((s for s, v in zip(steps, m) if v < SATURATED), math.inf))
            out["top"] = top
            out["steps_to_saturate"] = spread(first)
            out["saturated_seeds"] = sum(math.isfinite(f) for f in first)
            out["seeds"] = len(sig)
            out["total_steps"] = steps[-1]
            out["lower_min"] = float(min(out["layers"][n]["min"][0] for n in names[:-1]))
            acc = [np.array(r["trace"]["test_accuracy"]) for r in sig]
            # accuracy while the top layer is below SATURATED, and at the end
            out["accuracy_end"] = spread([a[-1] for a in acc])
            out["accuracy_at_saturation"] = spread(
                [a[steps.index(f)] if math.isfinite(f) else math.nan for a, f in zip(acc, first)])
        for case in (TANH_STANDARD, TANH_NORMALISED):
            delta = layer_values(groups.get(case, []), "delta_norm")
            if delta.size:
                rel = delta / delta[:, -1:]       # relative to the top hidden layer
                out[case] = {"relative": column_spreads(rel),
                             "log10_top_over_first": spread(list(np.log10(delta[:, -1]
                                                                          / delta[:, 0])))}
        return out

    def sections(self, results, numbers, meta):
        c = meta["config"]
        sig = next(r["config"] for r in results if r["config"]["case"] == SIGMOID)
        setup = (
            f"- Fig. 2 case ({SIGMOID}): 4 hidden layers, "
            f"{setup_line(sig, ['width', 'activation', 'initializer', 'bias_initializer'])}, "
            f"{setup_line(sig, ['output'])}; "
            f"training {setup_line(sig, ['optimizer', 'learning_rate', 'batch_size', 'epochs'])}; "
            f"the activations' mean and standard deviation per hidden layer on a fixed probe "
            f"batch every {sig['trace_every']} steps (`trace`).\n"
            f"- Fig. 7 cases: 5 tanh hidden layers of {c['width']}, `initializer` "
            f"`scaled_uniform:1.0` (standard) or `glorot_uniform` (normalised); the "
            f"back-propagated gradient dCost/ds per layer at initialisation (`delta_norm`, "
            f"the L2 norm over the probe batch and the units; the layers have equal widths, "
            f"so ratios of norms are ratios of spreads).")
        differs = (
            f"- Data: {'MNIST' if c['dataset'] == 'mnist' else 'the 8x8 UCI digits'} instead "
            f"of Shapeset-3x2 (Glorot & Bengio's figures; they also report MNIST, CIFAR-10 "
            f"and Small-ImageNet in their Table 1).\n"
            f"- Width {WIDTH} instead of 1,000 units per layer (for the 2 shared cores).\n"
            f"- Length: {sig['epochs']} epochs of {c['train_samples'] or 1500} images "
            f"({numbers.get('total_steps', 0)} steps of 10) instead of the paper's long runs "
            f"(its Fig. 2 spans well over 100 epochs).\n- The output layer is Keras's Dense "
            f"(Glorot uniform weights), not the standard initialisation.")
        layers = numbers["layers"]
        rows = [[name, fmt_spread(v["start"]), fmt_spread(v["min"]), fmt_spread(v["end"]),
                 f"{fmt_spread(v['std_start'])} -> {fmt_spread(v['std_end'])}"]
                for name, v in layers.items()]
        fig2 = md_table(["sigmoid layer", "mean activation at step 0", "lowest mean during "
                         "training", "mean at the end", "std of activations: start -> end"],
                        rows)
        rows = []
        for case in (TANH_STANDARD, TANH_NORMALISED):
            if case in numbers:
                rel = numbers[case]["relative"]
                rows.append([case] + [fmt_spread(s, 2) for s in rel]
                            + [fmt_spread(numbers[case]["log10_top_over_first"], 2)])
        n = len(numbers[TANH_STANDARD]["relative"]) if TANH_STANDARD in numbers else 0
        fig7 = md_table(["case"] + [f"L{i + 1}" for i in range(n)]
                        + ["log10(L5 / L1)"], rows)
        return [("Setup", setup), ("What differs from the paper", differs),
                ("Fig. 2: sigmoid activations during training", fig2),
                ("Fig. 7: back-propagated gradient per layer at initialisation, relative to "
                 "the top hidden layer", fig7),
                ("Findings (the paper's in words, beside the measured numbers)",
                 self.findings(numbers))]

    def findings(self, numbers):
        lines = []
        if "top" in numbers:
            top = numbers["layers"][numbers["top"]]
            saturates = (numbers["saturated_seeds"] == numbers["seeds"]
                         and top["min"][0] < SATURATED < numbers["lower_min"])
            lines.append(
                f"- Published (Fig. 2): with the standard initialisation the top hidden sigmoid "
                f"layer is driven into saturation at 0 early in training, while the lower "
                f"layers stay around 0.5. Measured: the top layer's mean activation falls from "
                f"{fmt(top['start'][0], 2)} to {fmt(top['min'][0], 2)} (median), below "
                f"{SATURATED} after {fmt(numbers['steps_to_saturate'][0], 3)} steps (median; in "
                f"{numbers['saturated_seeds']} of {numbers['seeds']} seeds), while the lowest "
                f"mean of any lower layer is {fmt(numbers['lower_min'], 2)}: "
                f"{verdict(saturates)}.")
            acc = numbers["accuracy_at_saturation"][0]
            lines.append(
                f"- Published: learning stalls while the top layer is saturated (a plateau). "
                f"Measured: test accuracy {fmt(acc, 2, '%')} % (median) when the top layer "
                f"crosses {SATURATED}, {fmt_spread(numbers['accuracy_end'], 1, '%')} % at the "
                f"end: " + (verdict(acc < 0.3) if not math.isnan(acc) else "not measured")
                + " (chance is 10 %).")
            recovered = top["end"][0] > top["min"][0] + 0.05
            lines.append(
                f"- Published: the top layer slowly desaturates later (around epoch 100 in the "
                f"paper). Measured: mean {fmt(top['end'][0], 2)} at the end against "
                f"{fmt(top['min'][0], 2)} at its lowest: "
                + ("the recovery has begun within this budget." if recovered else
                   "no recovery within this much shorter budget (cannot be compared)."))
        if TANH_STANDARD in numbers and TANH_NORMALISED in numbers:
            std = numbers[TANH_STANDARD]["log10_top_over_first"][0]
            nrm = numbers[TANH_NORMALISED]["log10_top_over_first"][0]
            lines.append(
                f"- Published (Fig. 7): with the standard initialisation the back-propagated "
                f"gradients get smaller towards the input; with the normalised initialisation "
                f"they keep about the same spread in every layer. Measured: the top hidden "
                f"layer's is 10^{fmt(std, 2, 'f')} times the first's with the standard and "
                f"10^{fmt(nrm, 2, 'f')} with the normalised initialisation: "
                f"{verdict(std > 0.5 and abs(nrm) < std / 2)}.")
        return "\n".join(lines)

    def plot(self, results, path):
        from ...diagnostics.plot import _pyplot, case_colors, depth_colors, finish, layer_axis
        from ..plot import band
        from .base import legend_below
        plt = _pyplot()
        groups = results.groups()
        fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 5.6))
        sig = ok_records(groups.get(SIGMOID, []))
        if sig:
            steps = np.array(sig[0]["trace"]["step"])
            names = list(sig[0]["trace"]["activation_mean"])
            colors = depth_colors(len(names))
            for i, name in enumerate(names):
                mean = np.array([r["trace"]["activation_mean"][name] for r in sig])
                std = np.array([r["trace"]["activation_std"][name] for r in sig])
                m, s = np.median(mean, axis=0), np.median(std, axis=0)
                from ...diagnostics.plot import style
                ls, marker = style(i)
                a1.plot(steps, m, linestyle=ls, marker=marker,
                        markevery=max(1, len(steps) // 12), color=colors[i],
                        label=f"layer {i + 1} mean (+- std band)")
                a1.fill_between(steps, m - s, m + s, color=colors[i], alpha=0.12, linewidth=0)
            acc = np.array([r["trace"]["test_accuracy"] for r in sig])
            band(a2, steps, 100 * acc, SIGMOID, case_colors(1)[0], 0)
        a1.set_xlabel("training step (mini-batches of 10)")
        a1.set_ylabel("sigmoid activation value")
        a1.set_title(f"Fig. 2: {SIGMOID}, median of {len(sig)} seeds")
        legend_below(a1, ncol=2)
        a2.set_xlabel("training step (mini-batches of 10)")
        a2.set_ylabel("test accuracy (%)")
        a2.set_ylim(0, 100)
        a2.set_title(f"{SIGMOID}: test accuracy")
        legend_below(a2)
        colors = case_colors(2)
        for i, case in enumerate((TANH_STANDARD, TANH_NORMALISED)):
            delta = layer_values(groups.get(case, []), "delta_norm")
            if delta.size:
                band(a3, np.arange(1, delta.shape[1] + 1), delta / delta[:, -1:], case,
                     colors[i], i, log=True)
        a3.set_yscale("log")
        layer_axis(a3)
        a3.set_ylabel("back-propagated gradient ||dCost/ds||, top hidden layer = 1")
        a3.set_title("Fig. 7: tanh, 5 layers, at initialisation")
        legend_below(a3)
        fig.suptitle(f"Glorot & Bengio (2010), {WIDTH} units per layer (median, 10-90 % of "
                     f"seeds)")
        fig.tight_layout()
        return finish(fig, path)
