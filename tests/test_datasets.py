"""minigrad.datasets: shipped digits, the IDX reader behind mnist/fashion_mnist, synthetic sets."""

import gzip

import numpy as np
import pytest

from minigrad import random as mgrandom
from minigrad.datasets import _idx, digits, fashion_mnist, lecture, mnist, synthetic

FASHION = pytest.mark.skipif(not lecture.installed(),
                             reason=f"Fashion-MNIST not installed: {_idx.INSTALL_LINE}")

# ----------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_ranges():
    (x, y), (xt, yt) = digits.load_data()
    assert x.shape == (1500, 8, 8) and xt.shape == (297, 8, 8)
    assert y.shape == (1500,) and yt.shape == (297,)
    assert x.dtype == xt.dtype == np.float32 and y.dtype == yt.dtype == np.uint8
    for a in (x, xt):
        assert a.min() == 0.0 and a.max() == 1.0
        # pixels are counts 0..16 scaled by 1/16: every value is a multiple of 1/16
        np.testing.assert_array_equal(a * 16, np.round(a * 16))
    assert set(np.unique(y)) == set(range(10)) == set(np.unique(yt))


def test_digits_classes_balanced_in_both_splits():
    (_, y), (_, yt) = digits.load_data()
    train, test = np.bincount(y, minlength=10), np.bincount(yt, minlength=10)
    assert train.min() >= 140 and test.min() >= 29 and test.max() <= 30


def test_digits_deterministic_and_fresh():
    (x1, y1), (xt1, yt1) = digits.load_data()
    x1[...] = -1.0  # mutating a result must not leak into later calls
    y1[...] = 99
    (x2, y2), (xt2, yt2) = digits.load_data()
    assert x2.min() == 0.0 and y2.max() == 9
    np.testing.assert_array_equal(xt1, xt2)
    np.testing.assert_array_equal(yt1, yt2)
    (x3, y3), _ = digits.load_data()
    assert np.array_equal(x2, x3) and np.array_equal(y2, y3)


def test_digits_are_real_digits():
    """Known facts of the UCI set: 1,797 images, border columns almost empty, class means differ."""
    (x, y), (xt, yt) = digits.load_data()
    xs, ys = np.concatenate([x, xt]), np.concatenate([y, yt])
    assert np.bincount(ys).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert xs[:, :, 0].mean() < 0.01 and xs[:, 3:5, 3:5].mean() > 0.3
    # a nearest-class-mean classifier fitted on train gets most of the test split right
    means = np.stack([x[y == c].reshape(-1, 64).mean(0) for c in range(10)])
    d = ((xt.reshape(-1, 1, 64) - means) ** 2).sum(-1)
    assert (d.argmin(1) == yt).mean() > 0.85


def test_digits_28_is_3x_nearest_upscale_with_2_pixel_border():
    (x8, y8), (xt8, yt8) = digits.load_data(image_size=8)
    (x28, y28), (xt28, yt28) = digits.load_data(image_size=28)
    assert x28.shape == (1500, 28, 28) and xt28.shape == (297, 28, 28)
    assert x28.dtype == np.float32 and np.array_equal(y8, y28) and np.array_equal(yt8, yt28)
    for small, big in ((x8, x28), (xt8, xt28)):
        expected = np.zeros((len(small), 28, 28), np.float32)  # independent: explicit loops
        for i in range(24):
            for j in range(24):
                expected[:, 2 + i, 2 + j] = small[:, i // 3, j // 3]
        np.testing.assert_array_equal(big, expected)
        assert not big[:, :2].any() and not big[:, -2:].any()
        assert not big[:, :, :2].any() and not big[:, :, -2:].any()


@pytest.mark.parametrize("bad", [0, 7, 16, 32, "8", None, True])
def test_digits_bad_image_size(bad):
    # minigrad._checks: a value of another type is a TypeError, a wrong integer a ValueError
    exc = TypeError if bad is None or isinstance(bad, str) else ValueError
    with pytest.raises(exc, match=r"digits\.load_data: image_size must be one of \[8, 28\]"):
        digits.load_data(image_size=bad)


# ----------------------------------------------------------------------------- IDX / mnist


def _idx_bytes(array, magic):
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return magic.to_bytes(4, "big") + dims + np.ascontiguousarray(array, np.uint8).tobytes()


def _write_set(directory, n_train=5, n_test=3, gz=False, seed=0):
    """Write the four IDX files for small random data; return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        data = _idx_bytes(a, 2051 if a.ndim == 3 else 2049)
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return arrays


def _check(result, arrays):
    (x, y), (xt, yt) = result
    for got, name in zip((x, y, xt, yt), arrays, strict=True):
        assert got.dtype == np.uint8 and got.flags.writeable
        np.testing.assert_array_equal(got, arrays[name])


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_idx_roundtrip(tmp_path, gz, module):
    arrays = _write_set(tmp_path, gz=gz)
    _check(module.load_data(path=tmp_path), arrays)
    _check(module.load_data(path=str(tmp_path)), arrays)


def test_idx_mixed_raw_and_gz(tmp_path):
    arrays = _write_set(tmp_path)
    raw = tmp_path / "t10k-images-idx3-ubyte"
    (tmp_path / (raw.name + ".gz")).write_bytes(gzip.compress(raw.read_bytes()))
    raw.unlink()
    _check(mnist.load_data(tmp_path), arrays)


def test_idx_missing_file_lists_the_four_names(tmp_path):
    _write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data(path=tmp_path)
    msg = str(e.value)
    assert str(tmp_path) in msg and "never downloads" in msg
    assert all(name in msg for name in _idx.FILES)
    with pytest.raises(FileNotFoundError, match="does not exist") as e:
        fashion_mnist.load_data(path=tmp_path / "nowhere")
    assert all(name in str(e.value) for name in _idx.FILES)


@pytest.fixture
def no_system_dir(tmp_path, monkeypatch):
    """Point the system dataset directory at an empty folder (the host may have the package)."""
    monkeypatch.setattr(_idx, "SYSTEM_DIR", tmp_path / "usr-share-datasets")
    return tmp_path / "usr-share-datasets"


def test_idx_env_var_and_default_dir(tmp_path, monkeypatch, no_system_dir):
    arrays = _write_set(tmp_path / "fashion_mnist", seed=1)
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    _check(fashion_mnist.load_data(), arrays)
    assert _idx.data_dir("mnist") == tmp_path / "mnist"
    with pytest.raises(FileNotFoundError, match="mnist"):
        mnist.load_data()  # $MINIGRAD_DATA/mnist is absent
    # an explicit path wins over the environment
    other = _write_set(tmp_path / "elsewhere", seed=2)
    _check(fashion_mnist.load_data(tmp_path / "elsewhere"), other)
    # without the variable: ~/.minigrad/datasets/<name>
    monkeypatch.delenv("MINIGRAD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _idx.data_dir("mnist") == tmp_path / "home" / ".minigrad" / "datasets" / "mnist"
    arrays = _write_set(tmp_path / "home" / ".minigrad" / "datasets" / "mnist", seed=3)
    _check(mnist.load_data(), arrays)


def test_installed_agrees_with_what_load_data_reads(tmp_path, monkeypatch, no_system_dir):
    """A partial copy searched first shadows a complete one later: load_data reads (and
    rejects) the partial one, so "installed" must say no too."""
    _write_set(tmp_path / "env" / "fashion_mnist")
    (tmp_path / "env" / "fashion_mnist" / "t10k-labels-idx1-ubyte").unlink()
    _write_set(tmp_path / "home" / ".minigrad" / "datasets" / "fashion_mnist")
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="missing t10k-labels-idx1-ubyte"):
        fashion_mnist.load_data()
    assert not lecture.installed() and lecture.default() == "digits"
    monkeypatch.delenv("MINIGRAD_DATA")
    assert lecture.installed() and lecture.default() == "fashion_mnist"


def test_idx_bad_magic(tmp_path):
    _write_set(tmp_path)
    f = tmp_path / "train-labels-idx1-ubyte"
    data = bytearray(f.read_bytes())
    data[3] = 0x03  # 2051: an image magic in a label file
    f.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*magic number 2051.*2049"):
        mnist.load_data(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated(tmp_path, gz):
    _write_set(tmp_path, n_train=4, gz=gz)
    f = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    data = gzip.decompress(f.read_bytes()) if gz else f.read_bytes()
    cut = data[:-100]
    f.write_bytes(gzip.compress(cut) if gz else cut)
    expected, actual = 16 + 4 * 28 * 28, 16 + 4 * 28 * 28 - 100
    with pytest.raises(ValueError, match=rf"train-images-idx3-ubyte.*truncated.*{expected} "
                                         rf"bytes, got {actual} bytes"):
        mnist.load_data(tmp_path)


def test_idx_truncated_header_and_broken_gzip(tmp_path):
    _write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match=r"t10k-labels.*at least 8 header bytes, got 3"):
        mnist.load_data(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    good = gzip.compress(_idx_bytes(np.zeros(3, np.uint8), 2049))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(good[:-10])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz.*gzip"):
        mnist.load_data(tmp_path)


def test_idx_count_mismatch_shape_and_labels(tmp_path):
    _write_set(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(_idx_bytes(np.zeros(4, np.uint8), 2049))
    with pytest.raises(ValueError, match=r"3 images but .*4 labels"):
        mnist.load_data(tmp_path)
    labels.write_bytes(_idx_bytes(np.full(3, 10, np.uint8), 2049))
    with pytest.raises(ValueError, match=r"label 10, expected labels in \[0, 10\)"):
        mnist.load_data(tmp_path)
    labels.write_bytes(_idx_bytes(np.zeros(3, np.uint8), 2049))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((3, 8, 8)), 2051))
    with pytest.raises(ValueError, match=r"shape \(8, 8\), expected \(28, 28\)"):
        mnist.load_data(tmp_path)


def test_idx_search_order_ends_in_the_system_dir(tmp_path, monkeypatch, no_system_dir):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    env_dir = tmp_path / "env" / "fashion_mnist"
    user_dir = tmp_path / "home" / ".minigrad" / "datasets" / "fashion_mnist"
    system = no_system_dir / "fashion-mnist"        # Debian's name: a hyphen
    assert _idx.search_dirs("fashion_mnist") == [env_dir, user_dir, system]
    assert _idx.search_dirs("mnist")[-1] == no_system_dir / "mnist"
    assert _idx.search_dirs("mnist", path=tmp_path / "p") == [tmp_path / "p"]
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data()
    msg = str(e.value)
    for place in (env_dir, user_dir, system):
        assert f"{place} (the directory does not exist)" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert all(name in msg for name in _idx.FILES)
    with pytest.raises(FileNotFoundError, match=r"Debian ships no mnist package.*apt-get "
                                                r"install dataset-fashion-mnist"):
        mnist.load_data()
    # the system copy is found last; each earlier directory, once filled, wins over it
    monkeypatch.setattr(_idx, "KNOWN", {"fashion_mnist": (5, 3, None)})
    found = []
    for seed, directory in enumerate((system, user_dir, env_dir)):
        found.append(_write_set(directory, gz=True, seed=seed))
        _check(fashion_mnist.load_data(), found[-1])
    assert not lecture.installed("mnist") and lecture.installed("fashion_mnist")


def test_idx_partial_directory_is_an_error_not_skipped(tmp_path, monkeypatch, no_system_dir):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    _write_set(no_system_dir / "fashion-mnist")
    _write_set(tmp_path / "fashion_mnist")
    (tmp_path / "fashion_mnist" / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing train-labels-idx1-ubyte in "
                                                + str(tmp_path / "fashion_mnist")):
        fashion_mnist.load_data()


def test_idx_system_copy_checked_against_the_published_counts(monkeypatch, no_system_dir):
    system = no_system_dir / "fashion-mnist"
    _write_set(system, n_train=20, n_test=3)
    monkeypatch.setattr(_idx, "KNOWN", {"fashion_mnist": (20, 4, None)})
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte holds 3 images, expected 4"):
        fashion_mnist.load_data()
    labels = np.repeat(np.arange(10, dtype=np.uint8), 2)
    labels[0] = 1                                   # class 0 one short, class 1 one over
    (system / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(labels, 2049))
    monkeypatch.setattr(_idx, "KNOWN", {"fashion_mnist": (20, 3, 2)})
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte has class counts "
                                         r"\[1, 3, 2, 2, 2, 2, 2, 2, 2, 2\], expected 2 per"):
        fashion_mnist.load_data()
    labels[0] = 0
    (system / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(labels, 2049))
    (x, y), (xt, _) = fashion_mnist.load_data()
    assert len(x) == 20 and len(xt) == 3 and np.array_equal(y, labels)


@FASHION
def test_fashion_mnist_system_copy():
    """load_data() with no arguments finds the installed package: the published set."""
    (x, y), (xt, yt) = fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y.shape == (60000,) and yt.shape == (10000,)
    assert x.dtype == xt.dtype == y.dtype == yt.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [6000] * 10
    assert np.bincount(yt, minlength=10).tolist() == [1000] * 10
    assert x.max() == 255 and x.min() == 0
    # trousers (1) are tall and narrow, bags (8) wide: a real-content check on class means
    trouser, bag = x[y == 1].mean(0), x[y == 8].mean(0)
    assert trouser[:, 10:18].mean() > 2 * trouser[:, :5].mean()
    assert bag[:, :5].mean() > trouser[:, :5].mean()


@FASHION
def test_lecture_split_and_the_book_model_after_one_epoch():
    data = lecture.load("fashion_mnist", announce=False)
    (x, y), (xv, yv) = data.train, data.held
    assert x.shape == (55000, 28, 28) and xv.shape == (5000, 28, 28)
    assert x.dtype == np.float32 and x.max() == 1.0 and data.held_name == "validation"
    (full, labels), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(xv * 255, full[:5000])
    np.testing.assert_array_equal(y, labels[5000:])
    model = lecture.book_model(seed=0)
    assert [w.shape for w in model.get_weights()] == [(784, 300), (300,), (300, 100), (100,),
                                                      (100, 10), (10,)]
    history = model.fit(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.80


def test_lecture_default_and_choice(monkeypatch, capsys, no_system_dir, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    assert lecture.default() == "digits"
    data = lecture.load()
    out = capsys.readouterr().out
    assert "dataset: digits (the default: Fashion-MNIST is not installed; `apt-get install " \
           "dataset-fashion-mnist`): 1500 training and 297 test images" in out
    assert data.name == "digits" and data.held_name == "test" and data.train[0].shape[1:] == (
        28, 28)
    assert data.epochs(30, 5) == 5
    monkeypatch.setenv("MINIGRAD_EXAMPLE_EPOCHS", "3")
    assert data.epochs(30, 5) == 3
    with pytest.raises(ValueError, match=r"lecture.load: dataset must be one of"):
        lecture.load("mnist")
    args = lecture.parse_args("x", ["--dataset", "digits", "--epochs", "4"])
    assert (args.dataset, args.epochs) == ("digits", 4)
    assert lecture.parse_args("x", []).dataset is None
    with pytest.raises(SystemExit):
        lecture.parse_args("x", ["--epochs", "0"])

# ----------------------------------------------------------------------------- synthetic


GENERATORS = {
    "blobs": lambda n, seed: synthetic.make_blobs(n, centers=4, seed=seed),
    "moons": lambda n, seed: synthetic.make_moons(n, noise=0.1, seed=seed),
    "spirals": lambda n, seed: synthetic.make_spirals(n, n_classes=3, noise=0.05, seed=seed),
}
N_CLASSES = {"blobs": 4, "moons": 2, "spirals": 3}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_synthetic_shapes_counts_and_seed(name):
    X, y = GENERATORS[name](101, 7)
    k = N_CLASSES[name]
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k and counts.max() - counts.min() <= 1 and counts.sum() == 101
    X2, y2 = GENERATORS[name](101, 7)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = GENERATORS[name](101, 8)
    assert not np.array_equal(X, X3)
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", list(GENERATORS))
def test_synthetic_global_generator(name):
    mgrandom.seed(123)
    X1, y1 = GENERATORS[name](50, None)
    mgrandom.seed(123)
    X2, y2 = GENERATORS[name](50, None)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


def test_synthetic_shuffle():
    X, y = synthetic.make_blobs(30, centers=3, shuffle=False, seed=0)
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 10))
    _, y = synthetic.make_moons(30, shuffle=False, seed=0)
    np.testing.assert_array_equal(y, np.repeat([0, 1], 15))
    _, y = synthetic.make_spirals(30, n_classes=3, seed=0)
    assert not np.array_equal(y, np.sort(y))


def test_blobs_given_centers_are_separable():
    centers = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [-6.0, 6.0, 3.0]])
    X, y = synthetic.make_blobs(300, centers=centers, cluster_std=0.5, seed=1)
    assert X.shape == (300, 3)
    assert np.array_equal(((X[:, None, :] - centers) ** 2).sum(-1).argmin(1), y)
    np.testing.assert_allclose(X[y == 1].mean(0), centers[1], atol=0.2)
    np.testing.assert_allclose(X[y == 2].std(0), 0.5, rtol=0.25)


def test_blobs_random_centers_separable():
    X, y = synthetic.make_blobs(400, n_features=5, centers=5, cluster_std=0.1, seed=3)
    assert X.shape == (400, 5) and np.abs(X).max() < 11
    means = np.stack([X[y == k].mean(0) for k in range(5)])
    assert np.array_equal(((X[:, None, :] - means) ** 2).sum(-1).argmin(1), y)
    X, y = synthetic.make_blobs(60, centers=3, cluster_std=[0.0, 1.0, 2.0], seed=0)
    assert np.ptp(X[y == 0], axis=0).max() < 1e-5  # std 0: every point on its center


def test_moons_and_spirals_geometry():
    X, y = synthetic.make_moons(100, shuffle=False, seed=0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1.0, X[y == 1, 1] - 0.5), 1.0, rtol=1e-6)
    X, y = synthetic.make_spirals(90, n_classes=3, shuffle=False, seed=0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[:30], np.linspace(0, 1, 30), atol=1e-6)
    theta = np.arctan2(X[1:30, 1], X[1:30, 0])
    np.testing.assert_allclose(np.unwrap(theta), 4.0 * r[1:30], atol=1e-5)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: synthetic.make_blobs(0), ValueError,
     r"make_blobs: n_samples must be an integer in \[1, inf\], got 0"),
    (lambda: synthetic.make_blobs(2.5), TypeError, r"make_blobs: n_samples .* got 2\.5"),
    (lambda: synthetic.make_blobs(True), TypeError, r"make_blobs: n_samples"),
    (lambda: synthetic.make_blobs(10, centers=0), ValueError, r"make_blobs: centers"),
    (lambda: synthetic.make_blobs(10, n_features=0), ValueError, r"make_blobs: n_features"),
    (lambda: synthetic.make_blobs(10, cluster_std=-1.0), ValueError, r"make_blobs: cluster_std"),
    (lambda: synthetic.make_blobs(10, cluster_std=[1.0, 2.0]), ValueError,
     r"cluster_std must be .* 3 "),
    (lambda: synthetic.make_blobs(10, cluster_std="a"), TypeError, r"make_blobs: cluster_std"),
    (lambda: synthetic.make_blobs(10, center_box=(1.0, 1.0)), ValueError,
     r"make_blobs: center_box"),
    (lambda: synthetic.make_blobs(10, centers=[1.0, 2.0]), ValueError,
     r"make_blobs: centers must be"),
    (lambda: synthetic.make_moons(-5), ValueError, r"make_moons: n_samples .* got -5"),
    (lambda: synthetic.make_moons(10, noise=-0.1), ValueError, r"make_moons: noise"),
    (lambda: synthetic.make_moons(10, noise=float("nan")), ValueError, r"make_moons: noise"),
    (lambda: synthetic.make_spirals(0), ValueError, r"make_spirals: n_samples"),
    (lambda: synthetic.make_spirals(10, n_classes=0), ValueError, r"make_spirals: n_classes"),
    (lambda: synthetic.make_spirals(10, noise="a"), TypeError, r"make_spirals: noise"),
])
def test_synthetic_argument_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@FASHION
def test_demo_runs_the_book_model_on_fashion_mnist():
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root),
                                                       os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "minigrad", "demo", "--dataset",
                           "fashion_mnist", "--epochs", "1", "--verbose", "0"],
                          capture_output=True, text=True, env=env, cwd=root, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("dataset: fashion_mnist: 55000 training and 5000 validation")
    assert "266,610" in out or "266610" in out           # 784*300+300 + 300*100+100 + 1010
    accuracy = float(out.strip().splitlines()[-1].split("test accuracy ")[1])
    assert accuracy >= 0.78
