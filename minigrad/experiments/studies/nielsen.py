"""Nielsen, *Neural Networks and Deep Learning*, ch. 5: the speed of learning per layer.

Sigmoid nets of 1-4 hidden layers of 30 units, weights N(0, 1/n_in) (``scaled_normal:1``),
biases N(0, 1), sigmoid output units with the cross-entropy cost. The speed of learning of
layer l is ‖dC/db^l‖ (``bias_grad_norm``) at initialisation; then training with eta = 0.1,
lambda = 5, mini-batches of 10 for 30 epochs.

Conventions mapped onto the grid's keys (Keras's loss differs from Nielsen's cost by a
constant factor, so the table converts):
- Nielsen's cross-entropy sums over the 10 output units, Keras's binary cross-entropy
  averages them: his gradients are 10x ours. The table reports 10 x ``bias_grad_norm``, and
  his eta = 0.1 is ``learning_rate`` = 10 x 0.1 = 1.0.
- His L2 term (lambda / 2n) sum w^2 decays each weight by eta lambda / n per step; Keras's
  ``L2(l2)`` adds l2 sum w^2 to the (10x smaller) loss, a decay of learning_rate 2 l2 per step.
  Equal decay: 1.0 * 2 l2 = 0.1 lambda / n, i.e. ``l2 = lambda / (20 n)``, with his n = 50,000
  whatever the data: every step is then his step. (With the digits' n = 1,500 the decay per
  step is 33x his, the price of 33x fewer steps per epoch, and it beats the vanishing gradients
  of the 3- and 4-layer nets: they collapse to the class prior.)
"""
import numpy as np

from .base import (
    Study,
    column_spreads,
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

DEPTHS = (1, 2, 3, 4)
# ||dC/db^l|| at initialisation, hidden layers from the input, Nielsen ch. 5 (MNIST)
PUBLISHED_SPEED = {2: [0.07, 0.31], 3: [0.012, 0.060, 0.283], 4: [0.003, 0.017, 0.070, 0.285]}
# test accuracy (%) after 30 epochs, eta 0.1, lambda 5, mini-batch 10 (MNIST)
PUBLISHED_ACCURACY = {1: 96.48, 2: 96.90, 3: 96.57, 4: 96.53}
ETA, LAMBDA, MINI_BATCH, PAPER_EPOCHS = 0.1, 5.0, 10, 30
DIGITS = ("the 8x8 UCI digits (64 inputs, 1,500 training images) instead of MNIST (784 "
          "inputs, 50,000 training images)")
OUTPUTS = 10                       # Nielsen's cost sums over them; Keras's averages
TRAIN_SIZES = {"digits": 1500, "digits28": 1500, "mnist": 60000}
PAPER_N = 50000                    # his training set: lambda / n with this n
EPOCHS = 100
QUICK_EPOCHS, QUICK_SAMPLES = 4, 500
FLAT = 0.03                        # accuracies within 3 points count as level


def case_name(depth):
    return f"{depth} hidden layer{'s' if depth > 1 else ''}"


class Nielsen(Study):
    name = "nielsen"
    title = "Nielsen (2015), ch. 5: the speed of learning per layer in sigmoid nets"
    citation = ("Michael A. Nielsen, *Neural Networks and Deep Learning*, Determination "
                "Press, 2015, chapter 5, \"Why are deep neural networks hard to train?\" "
                "(section \"The vanishing gradient problem\"), "
                "http://neuralnetworksanddeeplearning.com/chap5.html")
    quick_seeds = 2

    def configs(self, seeds, quick, dataset):
        common = dict(
            dataset=dataset, width=30, activation="sigmoid", initializer="scaled_normal:1",
            bias_initializer="normal:1.0", output="sigmoid", optimizer="sgd",
            learning_rate=ETA * OUTPUTS, l2=LAMBDA / (2 * OUTPUTS * PAPER_N),
            batch_size=MINI_BATCH,
            epochs=QUICK_EPOCHS if quick else EPOCHS, target=0.9,
            train_samples=QUICK_SAMPLES if quick else 0, seed=seeds)
        return [dict(common, depth=d, case=case_name(d)) for d in DEPTHS]

    def measure(self, results):
        groups = results.groups()
        out = {}
        for d in DEPTHS:
            records = groups.get(case_name(d), [])
            speed = layer_values(records, "bias_grad_norm", scale=OUTPUTS)
            ratios = speed[:, 1:] / speed[:, :-1] if speed.size else np.zeros((0, 0))
            acc = [r["test_accuracy"] for r in ok_records(records)]
            out[d] = {
                "speed": column_spreads(speed),
                "ratio": column_spreads(ratios),
                "min_ratio": float(ratios.min()) if ratios.size else None,
                "accuracy": spread(acc),
                "published_speed": PUBLISHED_SPEED.get(d),
                "published_accuracy": PUBLISHED_ACCURACY[d],
            }
        return out

    def sections(self, results, numbers, meta):
        c = meta["config"]
        n = c["train_samples"] or TRAIN_SIZES[c["dataset"]]
        setup = (
            f"- Net: `depth` 1-4 hidden layers of 30 sigmoid units, output 10 sigmoid units "
            f"with binary cross-entropy on one-hot targets (Nielsen's cost): "
            f"{setup_line(c, ['width', 'activation', 'initializer', 'bias_initializer'])}, "
            f"{setup_line(c, ['output'])}.\n- Training: "
            f"{setup_line(c, ['optimizer', 'learning_rate', 'batch_size', 'l2', 'epochs'])}.\n"
            f"- Conventions: Keras's binary cross-entropy averages over the 10 output units "
            f"where Nielsen's sums them, so his gradients are 10x ours: the speeds below are "
            f"10 x `bias_grad_norm`, and his eta = {ETA} is `learning_rate` = {ETA * OUTPUTS:g}. "
            f"His L2 term (lambda/2n) sum w^2 with lambda = {LAMBDA:g} is "
            f"`l2` = lambda/(20 n) = {c['l2']:.3g} with his n = {PAPER_N:,}: each step is his "
            f"step, weight decay included."
            + (f" (lambda/n with the n = {n:,} images here would decay the weights "
               f"{PAPER_N / n:.0f}x more per step, the price of {PAPER_N / n:.0f}x fewer "
               f"steps per epoch; a first run of this study on the digits did so, and the 3- "
               f"and 4-layer nets collapsed to the class prior, 10.1 % in 10 of 10 seeds.)"
               if c["dataset"] != "mnist" else "")
            + f"\n- {probe_note(c)} Nielsen averaged over the first 1,000 MNIST training "
              f"images.")
        differs = (
            f"- Data: {'MNIST as in the book' if c['dataset'] == 'mnist' else DIGITS}.\n"
            f"- Epochs: {c['epochs']} instead of {PAPER_EPOCHS}"
            + (f": 30 epochs of {n:,} images are {30 * n // MINI_BATCH:,} steps of 10, "
               f"against Nielsen's 150,000 on 50,000 images; {c['epochs']} epochs are "
               f"{c['epochs'] * n // MINI_BATCH:,} steps"
               if c["dataset"] != "mnist" else "")
            + ".\n- Output layer: initialised as Keras's Dense (Glorot uniform weights, zero "
              "biases); Nielsen's output layer is drawn like the hidden ones (N(0, 1/n_in), "
              "N(0, 1)).\n- Test set: 297 digits (one image = 0.34 points) instead of 10,000.")
        rows = []
        for d in DEPTHS:
            m = numbers[d]
            pub = m["published_speed"]
            rows.append([case_name(d),
                         "<br>".join(f"L{i + 1}: {fmt_spread(s)}"
                                     for i, s in enumerate(m["speed"])),
                         ", ".join(fmt(v) for v in pub) if pub else "(not published)",
                         ", ".join(fmt(s[0], 2, "f") for s in m["ratio"]) or "-",
                         ", ".join(fmt(b / a, 2, "f") for a, b in zip(pub, pub[1:]))
                         if pub else "-"])
        speed_table = md_table(["net", "measured 10 x ‖dC/db‖ per hidden layer (L1 = input "
                                "side)", "published (MNIST)", "measured ratio L(l+1)/L(l) "
                                "(median)", "published ratio"], rows)
        acc_rows = [[case_name(d), fmt_spread(numbers[d]["accuracy"], 2, "%"),
                     f"{numbers[d]['published_accuracy']:.2f}"] for d in DEPTHS]
        acc_table = md_table(["net", "measured test accuracy %", "published % (MNIST, 30 "
                              "epochs)"], acc_rows)
        return [("Setup", setup), ("What differs from the book", differs),
                ("Speed of learning at initialisation", speed_table),
                ("Accuracy after training", acc_table),
                ("Findings", self.findings(numbers, c["epochs"] * n // MINI_BATCH))]

    def findings(self, numbers, steps):
        """The book's findings in words beside the measured numbers (``steps``: the
        optimizer steps of the training)."""
        lines = []
        ratios = [numbers[d]["min_ratio"] for d in DEPTHS[1:]]
        faster = all(r is not None and r > 2 for r in ratios)
        lines.append(
            f"- Published: each hidden layer learns roughly 4-6x faster than the one below it "
            f"(the gradient vanishes towards the input). Measured: the smallest layer-to-layer "
            f"ratio over every seed and depth is {fmt(min(r for r in ratios if r is not None), 3)}"
            f" (> 2 in every seed: {verdict(faster)}).")
        within = []
        for d, pub in PUBLISHED_SPEED.items():
            med = [s[0] for s in numbers[d]["speed"]]
            within += [0.5 <= m / p <= 2 for m, p in zip(med, pub)]
        lines.append(
            f"- Published values (MNIST): the table's right column. Measured medians within a "
            f"factor 2 of every published value: {sum(within)} of {len(within)} layers "
            f"({verdict(all(within))}). The speeds at initialisation depend on the data only "
            f"through the input's size, and on the initialisation, which is Nielsen's.")
        acc = {d: numbers[d]["accuracy"][0] for d in DEPTHS}
        pub = PUBLISHED_ACCURACY
        best = max(acc.values())
        trained = [d for d in DEPTHS if acc[d] >= best - FLAT]
        span = best - min(acc[d] for d in trained)
        lines.append(
            f"- Published: more hidden layers barely change the accuracy (96.48 % to 96.90 %, "
            f"a span of {max(pub.values()) - min(pub.values()):.2f} points, 2 hidden layers "
            f"the best), because the early layers hardly learn. Measured medians: "
            f"{', '.join(f'{d}: {100 * a:.1f} %' for d, a in acc.items())}; the nets of "
            f"{', '.join(map(str, trained))} hidden layers are within {100 * span:.1f} points, "
            f"the best has {max(acc, key=acc.get)} hidden layers "
            f"({verdict(len(trained) >= 3 and span <= FLAT)}). The levels cannot agree: the "
            f"digits have 64 coarse pixels and 1,500 training images, MNIST 784 pixels and "
            f"50,000.")
        for d in DEPTHS:
            if d not in trained:
                s = numbers[d]["accuracy"]
                lines.append(
                    f"- {case_name(d)}: {fmt_spread(s, 1, '%')} %, still leaving the plateau "
                    f"on which its slowly learning first layers hold it: {verdict(False)} on "
                    f"this budget ({steps:,} steps against the book's 150,000).")
        return "\n".join(lines)

    def plot(self, results, path):
        from ...diagnostics.plot import _pyplot, case_colors, finish, layer_axis
        from ..plot import band
        from .base import legend_below
        plt = _pyplot()
        groups = results.groups()
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 5.6))
        colors = case_colors(len(DEPTHS))
        for i, d in enumerate(DEPTHS):
            records = groups.get(case_name(d), [])
            speed = layer_values(records, "bias_grad_norm", scale=OUTPUTS)
            if speed.size:
                band(a1, np.arange(1, d + 1), speed, case_name(d), colors[i], i, log=True)
            if d in PUBLISHED_SPEED:
                a1.plot(np.arange(1, d + 1), PUBLISHED_SPEED[d], linestyle="none", marker="x",
                        markersize=9, color=colors[i],
                        label=f"{case_name(d)}: published (MNIST)")
            acc = history_values(records, "val_accuracy")
            if acc.size:
                band(a2, np.arange(1, acc.shape[1] + 1), 100 * acc, case_name(d), colors[i], i)
        a1.set_yscale("log")
        layer_axis(a1)
        a1.set_ylabel("speed of learning 10 x ||dC/db|| at initialisation")
        a1.set_title("speed of learning per hidden layer")
        legend_below(a1, ncol=2)
        a2.set_xlabel("epoch")
        a2.xaxis.get_major_locator().set_params(integer=True)
        a2.set_ylabel("test accuracy (%)")
        a2.set_ylim(0, 100)
        a2.set_title("test accuracy during training")
        legend_below(a2, ncol=2)
        fig.suptitle("Nielsen ch. 5: sigmoid nets of 30 units, N(0, 1/n) weights, N(0, 1) "
                     "biases (median, 10-90 % of seeds)")
        fig.tight_layout()
        return finish(fig, path)
