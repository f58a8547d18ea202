"""The gradient pictures (diagnostics/plot.py): what they show, how they look, bad input."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import optimizers
from minigrad.diagnostics import GradientMonitor, gradient_report, plot_gradients
from minigrad.diagnostics.cli import build_model

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def digits():
    (xa, ya), _ = mg.datasets.digits.load_data()
    return xa.reshape(len(xa), -1), ya.astype(np.int64)


def _compiled(model):
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), metrics=["accuracy"],
                  loss=mg.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.fixture(scope="module")
def monitor11(digits):
    """A monitor of an 11-kernel-layer net (10 hidden + output), a few steps."""
    x, y = digits
    mg.random.seed(0)
    model = _compiled(build_model(64, 10, 8, "sigmoid", "glorot_uniform"))
    monitor = GradientMonitor(every=1)
    model.fit(x[:96], y[:96], epochs=1, batch_size=32, verbose=0, callbacks=[monitor])
    return monitor


def _outside(fig, ax, legend):
    """The legend's box does not overlap the axes' data area."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    return box.x0 >= area.x1 or box.x1 <= area.x0 or box.y0 >= area.y1 or box.y1 <= area.y0


def _luminance(rgba):
    """Relative luminance (sRGB linearised, ITU-R BT.709 weights)."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_without_a_path_the_figure_is_returned_and_with_one_a_png_written(monitor11, tmp_path):
    import matplotlib.image
    fig = plot_gradients(monitor11)
    assert isinstance(fig, matplotlib.figure.Figure)
    left = fig.axes[0]
    # the left panel's first line is record 0: exactly the monitor's values at step 0
    ys = left.get_lines()[0].get_ydata()
    want = [monitor11.history[n]["kernel_grad_norm"][0] for n in monitor11.history]
    np.testing.assert_allclose(ys, want)
    path = plot_gradients(monitor11, str(tmp_path / "m.png"))
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.std() > 0


def test_layers_get_a_sequential_colormap_by_depth(monitor11):
    fig = plot_gradients(monitor11)
    lines = fig.axes[1].get_lines()
    assert len(lines) == 11
    colors = [line.get_color() for line in lines]
    assert len({tuple(np.round(c, 4)) for c in colors}) == 11     # no repeated colour cycle
    lum = [_luminance(matplotlib.colors.to_rgba(c)) for c in colors]
    assert all(a > b for a, b in zip(lum, lum[1:])), lum          # light input -> dark output


def test_legend_outside_words_on_axes_and_a_title_naming_the_configuration(monitor11):
    fig = plot_gradients(monitor11)
    for ax in fig.axes:
        assert _outside(fig, ax, ax.get_legend())
        assert "_" not in ax.get_ylabel() and " " in ax.get_ylabel()
        assert " " in ax.get_xlabel()
    title = fig._suptitle.get_text()
    assert "11 kernel layers" in title and "sigmoid" in title
    fig = plot_gradients(monitor11, title="10 x 8 sigmoid, sgd")
    assert fig._suptitle.get_text() == "10 x 8 sigmoid, sgd"


def test_coinciding_curves_stay_distinguishable():
    # the gradients --compare picture (Results.plot): twelve cases, identical profiles
    from minigrad.experiments.config import DEFAULTS
    from minigrad.experiments.results import Results
    same = {f"dense_{k}": {"kernel_grad_norm": v} for k, v in enumerate([1.0, 2.0, 4.0])}
    results = Results([{"config": dict(DEFAULTS, case=f"case {i}", seed=seed, depth=3 + i),
                        "error": None, "grad_init": same}
                       for i in range(12) for seed in (0, 1)])
    fig = results.plot(title="twelve identical profiles")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 12
    looks = {(line.get_linestyle(), line.get_marker()) for line in lines}
    assert len(looks) == 12
    assert len({tuple(matplotlib.colors.to_rgba(line.get_color())) for line in lines}) == 12
    assert _outside(fig, fig.axes[0], fig.axes[0].get_legend())
    assert fig.axes[0].get_title() == "twelve identical profiles"


def test_a_report_is_drawn_too(digits):
    x, y = digits
    model = _compiled(build_model(64, 3, 8, "relu", "he_normal"))
    report = gradient_report(model, x[:64], y[:64])
    fig = plot_gradients(report, metric="delta_norm")
    ys = fig.axes[0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(ys, [v["delta_norm"] for v in report.layers.values()])
    assert "error signal" in fig.axes[0].get_ylabel()


def test_bad_input_is_a_clear_error(digits, tmp_path):
    x, y = digits
    model = _compiled(build_model(64, 2, 8, "sigmoid", "glorot_uniform"))
    with pytest.raises(TypeError, match="expected a GradientMonitor or a GradientReport.*"
                                        "got Sequential"):
        plot_gradients(model, str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="recorded nothing yet"):
        plot_gradients(GradientMonitor())
    report = gradient_report(model, x[:8], y[:8])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_gradients(report, "/nonexistent-dir/x.png")
    with pytest.raises(ValueError, match="unknown metric 'grad'"):
        plot_gradients(report, metric="grad")
