"""The lecture's listings as runnable examples (examples/*.py): each one's ``main`` trains on
its data (digits at 28x28 or 2-D blobs, nothing downloaded) and must reach a stated test
accuracy. Epoch counts are cut where the full run is not needed to pass the threshold."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OTHER_OWNERS = {"vanishing_gradients",   # the diagnostics' experiment, tested there
                "residual_mlp"}          # tested in test_model_diagnostics.py

# example -> (epochs for the test, None = the example's default; minimum test accuracy)
THRESHOLDS = {
    "feedforward_network": (None, 0.90),     # 30 epochs of SGD on 3 blobs
    "early_stopping": (None, 0.85),          # epochs=500: EarlyStopping ends it
    "max_norm": (5, 0.90),
    "dropout": (5, 0.90),
    "data_augmentation": (5, 0.85),
    "he_normal": (10, 0.80),                 # 10 hidden units, plain SGD
    "batch_normalization": (5, 0.90),
    "gradient_clipping": (10, 0.50),         # mse through softmax learns slowly (chance 0.1)
    "momentum": (5, 0.85),
    "nesterov_momentum": (5, 0.85),
    "adagrad": (5, 0.75),
    "rmsprop": (5, 0.90),
    "adam": (5, 0.90),
}


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested():
    names = {p.stem for p in EXAMPLES.glob("*.py")} - OTHER_OWNERS
    tested = set(THRESHOLDS) | {"l1_l2_regularization", "nonsaturating_activations"}
    assert names == tested


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_example_reaches_its_accuracy(name, capsys):
    epochs, threshold = THRESHOLDS[name]
    accuracy = _load(name).main(epochs=epochs, verbose=0)
    out = capsys.readouterr().out
    assert f"{accuracy:.4f}" in out                     # the script prints what it returns
    assert accuracy >= threshold, f"{name}: test accuracy {accuracy:.4f} < {threshold}"


def test_early_stopping_example_stops_early(capsys):
    _load("early_stopping").main(verbose=0)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    epochs_run = int(line.split("stopped after ")[1].split(" epochs")[0])
    assert 2 <= epochs_run < 500 and "stopped_epoch=0" not in line


def test_augmentation_example_resists_shifts(capsys):
    _load("data_augmentation").main(epochs=5, verbose=0)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    shifted = float(line.split("shifted by 2 pixels ")[1])
    assert shifted >= 0.6         # a plain MLP trained on unshifted digits: about 0.3


def test_l1_l2_example():
    results = _load("l1_l2_regularization").main(epochs=5, verbose=0)
    assert results["l2"]["accuracy"] >= 0.90
    # the lecture's l1(0.1) overwhelms the data loss: the kernel collapses towards zero
    assert results["l1"]["mean_abs_w"] < 0.05 * results["l1"]["initial_mean_abs_w"]
    assert results["l2"]["mean_abs_w"] < results["l2"]["initial_mean_abs_w"]


def test_nonsaturating_activations_example():
    results = _load("nonsaturating_activations").main(epochs=10, verbose=0)
    assert results["elu"] >= 0.80
    assert results["leaky_relu"] >= 0.85 and results["prelu"] >= 0.85


def test_example_runs_as_a_script_with_the_epochs_variable():
    env = dict(os.environ, MINIGRAD_EXAMPLE_EPOCHS="2",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(EXAMPLES / "feedforward_network.py")],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Epoch 2/2" in proc.stdout and "Epoch 3/" not in proc.stdout
    assert "test loss" in proc.stdout
