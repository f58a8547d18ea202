"""He, Zhang, Ren & Sun (2015), Fig. 2 (22 layers) and Fig. 3 (30 layers), fully connected.

Deep ReLU nets with Glorot's ("Xavier") initialisation, Var[w] = 1/n for equal widths
(``glorot_normal``), against He's, Var[w] = 2/n_in (``he_normal``). Through a ReLU the
variance of the signal is halved, so with Var[w] = 1/n it halves in every layer, forward and
backward; Var[w] = 2/n keeps it. The paper trains conv nets on ImageNet: at 22 layers both
converge (He's sooner); at 30 layers Xavier's stalls while He's converges. Here the same
depths are fully connected nets on the data of the study.
"""
import math

import numpy as np

from .base import (
    Study,
    fmt,
    fmt_spread,
    history_values,
    layer_values,
    md_table,
    ok_records,
    probe_note,
    setup_line,
    spread,
    verdict,
)

DEPTHS = (22, 30)
INITS = (("Glorot", "glorot_normal"), ("He", "he_normal"))
WIDTH = 64
EPOCHS = 20
QUICK_EPOCHS, QUICK_SAMPLES = 10, 500
TARGET = 0.5


def case_name(depth, init):
    return f"{depth} layers, {init}"


class He2015(Study):
    name = "he2015"
    title = ("He et al. (2015): deep ReLU nets, Glorot vs He initialisation at 22 and 30 "
             "layers (Fig. 2 and 3, fully connected)")
    citation = ("Kaiming He, Xiangyu Zhang, Shaoqing Ren and Jian Sun, \"Delving Deep into "
                "Rectifiers: Surpassing Human-Level Performance on ImageNet Classification\", "
                "ICCV 2015, arXiv:1502.01852")
    quick_seeds = 2

    def configs(self, seeds, quick, dataset):
        common = dict(dataset=dataset, width=WIDTH, activation="relu", output="softmax",
                      optimizer="sgd", learning_rate=0.01, batch_size=32, target=TARGET,
                      epochs=QUICK_EPOCHS if quick else EPOCHS,
                      train_samples=QUICK_SAMPLES if quick else 0, seed=seeds)
        return [dict(common, depth=d, initializer=spec, case=case_name(d, init))
                for d in DEPTHS for init, spec in INITS]

    def measure(self, results):
        groups = results.groups()
        out = {}
        for d in DEPTHS:
            for init, _ in INITS:
                records = ok_records(groups.get(case_name(d, init), []))
                grad = layer_values(records, "kernel_grad_norm")
                act = layer_values(records, "activation_std")
                delta = layer_values(records, "delta_norm")
                loss = history_values(records, "loss")
                with np.errstate(all="ignore"):
                    out[case_name(d, init)] = {
                        "grad_first": spread(list(grad[:, 0])) if grad.size else None,
                        "grad_last": spread(list(grad[:, -1])) if grad.size else None,
                        "log10_act_last_over_first": spread(
                            list(np.log10(act[:, -1] / act[:, 0]))) if act.size else None,
                        "log10_delta_last_over_first": spread(
                            list(np.log10(delta[:, -1] / delta[:, 0]))) if delta.size else None,
                        "accuracy": spread([r["test_accuracy"] for r in records]),
                        "loss_first": spread(list(loss[:, 0])) if loss.size else None,
                        "loss_last": spread(list(loss[:, -1])) if loss.size else None,
                        "reached": sum(r["epochs_to_target"] is not None for r in records),
                        "epochs_to_target": spread([r["epochs_to_target"] for r in records
                                                    if r["epochs_to_target"] is not None]),
                        "seeds": len(records),
                    }
        return out

    def sections(self, results, numbers, meta):
        c = meta["config"]
        setup = (
            f"- Nets: 22 or 30 hidden ReLU layers of {WIDTH} units and a linear output layer "
            f"with softmax cross-entropy: "
            f"{setup_line(c, ['width', 'activation', 'output', 'bias_initializer'])}; "
            f"`initializer` `glorot_normal` (Var = 2/(n_in + n_out) = 1/n: Xavier) or "
            f"`he_normal` (Var = 2/n_in).\n"
            f"- Training: {setup_line(c, ['optimizer', 'learning_rate', 'batch_size', 'epochs'])}"
            f", the same for both initialisations (no tuning).\n- {probe_note(c)}")
        differs = (
            "- Nets: fully connected, not the paper's convolutional ImageNet models of 22 and "
            "30 weight layers; the depths and the activation/initialisation pairs are the "
            "paper's.\n"
            f"- Data: {'MNIST' if c['dataset'] == 'mnist' else 'the 8x8 UCI digits'} instead "
            f"of ImageNet; {c['epochs']} epochs instead of the paper's schedule; plain SGD "
            f"(the paper: SGD with momentum, its learning-rate schedule).")
        rows = []
        for d in DEPTHS:
            for init, _ in INITS:
                m = numbers[case_name(d, init)]
                rows.append([case_name(d, init), fmt_spread(m["grad_first"], 2, "e"),
                             fmt_spread(m["grad_last"], 2, "e"),
                             fmt_spread(m["log10_act_last_over_first"], 2, "f"),
                             fmt_spread(m["log10_delta_last_over_first"], 2, "f")])
        init_table = md_table(["case", "‖dL/dW‖ layer 1", "‖dL/dW‖ last hidden layer",
                               "log10 activation std (last / first hidden)",
                               "log10 ‖dL/ds‖ (last / first hidden)"], rows)
        rows = []
        for d in DEPTHS:
            for init, _ in INITS:
                m = numbers[case_name(d, init)]
                rows.append([case_name(d, init), fmt_spread(m["loss_first"], 3, "f"),
                             fmt_spread(m["loss_last"], 3, "f"),
                             fmt_spread(m["accuracy"], 1, "%"),
                             f"{fmt(m['epochs_to_target'][0], 3)} ({m['reached']}/"
                             f"{m['seeds']})" if m["reached"] else f"never (0/{m['seeds']})"])
        train_table = md_table(["case", "training loss, epoch 1", "training loss, last epoch",
                                "test accuracy % at the end",
                                f"epochs to {100 * TARGET:.0f} % test accuracy (median; "
                                f"seeds reaching it)"], rows)
        return [("Setup", setup), ("What differs from the paper", differs),
                ("At initialisation", init_table), ("Training", train_table),
                ("Findings (the paper's in words, beside the measured numbers)",
                 self.findings(numbers))]

    def findings(self, numbers):
        lines = []
        g30, h30 = numbers[case_name(30, "Glorot")], numbers[case_name(30, "He")]
        g22, h22 = numbers[case_name(22, "Glorot")], numbers[case_name(22, "He")]
        shrink = g30["log10_act_last_over_first"][0]
        keep = h30["log10_act_last_over_first"][0]
        lines.append(
            f"- Published (the derivation behind Fig. 2 and 3): with Xavier's Var = 1/n the "
            f"signal's variance halves in every ReLU layer, so over 29 layers its standard "
            f"deviation shrinks by 2^(29/2), 10^{29 * math.log10(2) / 2:.1f}; He's 2/n keeps "
            f"it. Measured at 30 layers: the last hidden layer's activation std is "
            f"10^{fmt(shrink, 2, 'f')} times the first's with Glorot and 10^{fmt(keep, 2, 'f')} "
            f"with He: {verdict(shrink < -3 and abs(keep) < 1)}. The weight gradients of Glorot "
            f"are {fmt(g30['grad_first'][0], 2, 'e')} in layer 1 against He's "
            f"{fmt(h30['grad_first'][0], 2, 'e')}.")
        stalled = g30["accuracy"][0] < 0.2 and h30["accuracy"][0] > g30["accuracy"][0] + 0.2
        lines.append(
            f"- Published (Fig. 3, 30 layers): Xavier's net stalls, it does not learn at all, "
            f"while He's converges. Measured: test accuracy {fmt(g30['accuracy'][0], 1, '%')} "
            f"% with Glorot (chance is 10 %; training loss {fmt(g30['loss_first'][0], 3, 'f')}"
            f" -> {fmt(g30['loss_last'][0], 3, 'f')}) against {fmt(h30['accuracy'][0], 1, '%')}"
            f" % with He: {verdict(stalled)}.")
        both = g22["reached"] == g22["seeds"] and h22["reached"] == h22["seeds"]
        sooner = (h22["reached"] > g22["reached"] or (
            both and h22["epochs_to_target"][0] < g22["epochs_to_target"][0]))
        lines.append(
            f"- Published (Fig. 2, 22 layers): both converge, He's starts reducing the error "
            f"sooner. Measured: He's net sooner: {verdict(sooner)} (test accuracy "
            f"{fmt(h22['accuracy'][0], 1, '%')} % against {fmt(g22['accuracy'][0], 1, '%')} "
            f"%). Both reach {100 * TARGET:.0f} % within this budget: "
            + (verdict(True) if both else
               f"{verdict(False)}: Glorot's net reached {100 * TARGET:.0f} % in "
               f"{g22['reached']} of {g22['seeds']} seeds. A fully connected net of 22 "
               f"layers of {WIDTH} units trained by plain SGD at one small learning rate for a "
               f"short budget is not the paper's conv net and schedule; there, too, Xavier's "
               f"run lags for epochs before it converges."))
        return "\n".join(lines)

    def plot(self, results, path):
        from ...diagnostics.plot import _pyplot, case_colors, finish, layer_axis
        from ..plot import band
        from .base import legend_below
        plt = _pyplot()
        groups = results.groups()
        fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 5.6))
        colors = case_colors(len(DEPTHS) * len(INITS))
        i = 0
        for d in DEPTHS:
            for init, _ in INITS:
                records = groups.get(case_name(d, init), [])
                grad = layer_values(records, "kernel_grad_norm")
                act = layer_values(records, "activation_std")
                acc = history_values(records, "val_accuracy")
                name = case_name(d, init)
                if grad.size:
                    band(a1, np.arange(1, grad.shape[1] + 1), grad, name, colors[i], i,
                         log=True)
                    band(a2, np.arange(1, act.shape[1] + 1), act, name, colors[i], i, log=True)
                if acc.size:
                    band(a3, np.arange(1, acc.shape[1] + 1), 100 * acc, name, colors[i], i)
                i += 1
        for ax in (a1, a2):
            ax.set_yscale("log")
            layer_axis(ax)
            legend_below(ax, ncol=2)
        a1.set_ylabel("kernel gradient norm ||dL/dW|| at initialisation")
        a1.set_title("weight gradients at initialisation")
        a2.set_ylabel("std of the layer's ReLU outputs at initialisation")
        a2.set_title("forward signal at initialisation")
        a3.set_xlabel("epoch")
        a3.xaxis.get_major_locator().set_params(integer=True)
        a3.set_ylabel("test accuracy (%)")
        a3.set_ylim(0, 100)
        a3.set_title("training curves")
        legend_below(a3, ncol=2)
        fig.suptitle(f"He et al. (2015), fully connected: ReLU nets of {WIDTH} units, "
                     f"Glorot vs He initialisation (median, 10-90 % of seeds)")
        fig.tight_layout()
        return finish(fig, path)
