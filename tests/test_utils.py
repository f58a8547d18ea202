"""minigrad.utils: to_categorical, normalize, set_random_seed, PyDataset, Progbar (Keras 3.15
utils/numerical_utils.py, utils/rng_utils.py, trainers/data_adapters/py_dataset_adapter.py)."""
import random

import numpy as np
import pytest

import minigrad as mg
from minigrad import utils


def test_to_categorical_as_keras():
    out = utils.to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float64 and np.array_equal(out, np.eye(3)[[0, 2, 1, 2]])
    assert utils.to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)
    assert utils.to_categorical(np.zeros((2, 3), int), 2).shape == (2, 3, 2)
    assert np.array_equal(utils.to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"to_categorical: label 3 is outside \[0, 3\)"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="integer class ids"):
        utils.to_categorical([0.5])


def test_normalize_divides_by_the_norm_and_keeps_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert np.allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    assert np.allclose(utils.normalize(x, axis=-1, order=1), [[3 / 7, 4 / 7], [0, 0]])
    assert np.allclose(utils.normalize(x.T, axis=0), [[0.6, 0.0], [0.8, 0.0]])


def test_set_random_seed_seeds_python_numpy_and_minigrad():
    draws = []
    for _ in range(2):
        utils.set_random_seed(7)
        draws.append((random.random(), np.random.rand(), mg.random.generator().random()))
    assert draws[0] == draws[1]
    with pytest.raises(ValueError, match="set_random_seed: seed must be an integer in"):
        utils.set_random_seed(-1)


def test_pydataset_base_and_public_names():
    class Two(utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.full((1, 1), i), np.zeros(1)

    ds = Two(workers=4, use_multiprocessing=True, max_queue_size=2)
    assert ds.workers == 4 and ds.num_batches == 2 and [b[0][0, 0] for b in ds] == [0, 1]

    class Endless(utils.PyDataset):
        def __getitem__(self, i):
            return i

    assert Endless().num_batches is None
    with pytest.raises(ValueError, match="workers must be an integer in"):
        Two(workers=-1)
    assert utils.Progbar is mg.progbar.Progbar
    assert mg.keras.utils.PyDataset is utils.PyDataset
