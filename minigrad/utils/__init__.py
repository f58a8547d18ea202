"""``minigrad.utils`` (Keras 3's ``keras.utils``): ``to_categorical``, ``normalize``,
``set_random_seed``, ``PyDataset`` and ``Progbar``."""
from ..progbar import Progbar
from .numerical import normalize, set_random_seed, to_categorical
from .py_dataset import PyDataset

__all__ = ["PyDataset", "Progbar", "normalize", "set_random_seed", "to_categorical"]
