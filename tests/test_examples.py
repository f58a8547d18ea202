"""The lecture's listings as runnable examples (examples/*.py): each one's ``main`` trains on
its data and must reach a stated accuracy. On the shipped digits at 28x28 (or 2-D blobs,
nothing downloaded) with epoch counts cut where the full run is not needed to pass the
threshold; and, where Fashion-MNIST is installed, one epoch of each on its 55,000 images."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.datasets import _idx, lecture

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OTHER_OWNERS = {"vanishing_gradients",   # the diagnostics' experiment, tested there
                "residual_mlp"}          # tested in test_model_diagnostics.py
NOT_IMAGES = {"feedforward_network"}     # 2-D blobs: no --dataset
FASHION = pytest.mark.skipif(not lecture.installed(),
                             reason=f"Fashion-MNIST not installed: {_idx.INSTALL_LINE}")
# minimum validation accuracy after ONE epoch on Fashion-MNIST (chance: 0.1)
FASHION_ONE_EPOCH = {
    "adagrad": 0.65,             # lr=0.001 and a decaying rate: the slowest learner
    "gradient_clipping": 0.55,   # mse through softmax
    "early_stopping": 0.75, "he_normal": 0.75, "data_augmentation": 0.70,
}
IMAGE_LISTINGS = sorted({p.stem for p in EXAMPLES.glob("*.py")} - OTHER_OWNERS - NOT_IMAGES)

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
    kwargs = {} if name in NOT_IMAGES else {"dataset": "digits"}
    accuracy = _load(name).main(epochs=epochs, verbose=0, **kwargs)
    out = capsys.readouterr().out
    assert f"{accuracy:.4f}" in out                     # the script prints what it returns
    assert accuracy >= threshold, f"{name}: test accuracy {accuracy:.4f} < {threshold}"


def test_early_stopping_example_stops_early(capsys):
    _load("early_stopping").main(verbose=0, dataset="digits")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    epochs_run = int(line.split("stopped after ")[1].split(" epochs")[0])
    assert 2 <= epochs_run < 500 and "stopped_epoch=0" not in line


def test_augmentation_example_resists_shifts(capsys):
    _load("data_augmentation").main(epochs=5, verbose=0, dataset="digits")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    shifted = float(line.split("shifted by 2 pixels ")[1])
    assert shifted >= 0.6         # a plain MLP trained on unshifted digits: about 0.3


def test_l1_l2_example():
    results = _load("l1_l2_regularization").main(epochs=5, verbose=0, dataset="digits")
    assert results["l2"]["accuracy"] >= 0.90
    # the lecture's l1(0.1) overwhelms the data loss: the kernel collapses towards zero
    assert results["l1"]["mean_abs_w"] < 0.05 * results["l1"]["initial_mean_abs_w"]
    assert results["l2"]["mean_abs_w"] < results["l2"]["initial_mean_abs_w"]


def test_nonsaturating_activations_example():
    results = _load("nonsaturating_activations").main(epochs=10, verbose=0, dataset="digits")
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


def _script(name, *args, env=None):
    base = {k: v for k, v in os.environ.items() if k != "MINIGRAD_EXAMPLE_EPOCHS"}
    env = dict(base, **(env or {}),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args],
                          capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
                          check=False)


def test_listing_command_line_dataset_and_epochs():
    proc = _script("dropout", "--dataset", "digits", "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dataset: digits: 1500 training and 297 test images")
    assert "Epoch 2/2" in proc.stdout and "Epoch 3/" not in proc.stdout
    assert "dropout: test loss" in proc.stdout
    proc = _script("dropout", "--dataset", "cifar")
    assert proc.returncode == 2 and "invalid choice: 'cifar'" in proc.stderr
    proc = _script("adam", "--epochs", "0")
    assert proc.returncode == 2 and "--epochs must be >= 1, got 0" in proc.stderr


def test_every_image_listing_takes_the_dataset():
    for name in IMAGE_LISTINGS:
        module = _load(name)
        assert "dataset" in module.main.__code__.co_varnames, name
        assert module.BOOK_EPOCHS >= 1 and module.DIGITS_EPOCHS >= 1, name
        assert "lecture.parse_args(" in (EXAMPLES / f"{name}.py").read_text(), name


@FASHION
def test_listing_defaults_to_fashion_mnist_when_installed():
    proc = _script("he_normal", env={"MINIGRAD_EXAMPLE_EPOCHS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dataset: fashion_mnist (the default: it is installed): "
                                  "55000 training and 5000 validation images of 28x28")
    assert "1719/1719" in proc.stdout and "he_normal: validation loss" in proc.stdout


@FASHION
@pytest.mark.parametrize("name", IMAGE_LISTINGS)
def test_listing_one_epoch_on_fashion_mnist(name, capsys):
    result = _load(name).main(epochs=1, verbose=0, dataset="fashion_mnist")
    out = capsys.readouterr().out
    assert out.startswith("dataset: fashion_mnist: 55000 training and 5000 validation")
    if name == "l1_l2_regularization":     # l1(0.1) collapses the kernel, as on digits
        assert result["l2"]["accuracy"] >= 0.75
        assert result["l1"]["mean_abs_w"] < 0.05 * result["l1"]["initial_mean_abs_w"]
        return
    accuracies = result.values() if isinstance(result, dict) else [result]
    threshold = FASHION_ONE_EPOCH.get(name, 0.75 if isinstance(result, dict) else 0.78)
    assert "validation" in out
    for accuracy in accuracies:
        assert accuracy >= threshold, f"{name}: {accuracy:.4f} < {threshold}"
