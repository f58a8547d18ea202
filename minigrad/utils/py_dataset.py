"""``PyDataset``: a dataset of batches indexed by position (Keras 3.15
trainers/data_adapters/py_dataset_adapter.py)."""
import itertools

from .. import _checks


class PyDataset:
    """Subclass with ``__len__`` (batches per epoch) and ``__getitem__(i)`` returning batch
    ``i`` as ``(x, y)`` or ``(x, y, sample_weight)`` (``x`` alone for predict), and optionally
    ``on_epoch_begin`` / ``on_epoch_end``. ``workers > 1`` fetches batches ahead on that many
    threads (``use_multiprocessing`` is accepted; threads are used either way);
    ``num_batches`` None (no ``__len__``) makes it infinite (fit then needs
    ``steps_per_epoch``)."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = _checks.integer(type(self).__name__, "workers", workers, lo=0)
        self.use_multiprocessing = _checks.boolean(type(self).__name__, "use_multiprocessing",
                                                   use_multiprocessing)
        self.max_queue_size = _checks.integer(type(self).__name__, "max_queue_size",
                                              max_queue_size, lo=0)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: implement __getitem__(index)")

    @property
    def num_batches(self):
        """len(self), or None when the dataset has no ``__len__`` (infinite)."""
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def __iter__(self):
        n = self.num_batches
        for i in (range(n) if n is not None else itertools.count()):
            yield self[i]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (e.g. to reshuffle)."""
