"""Reader for the IDX files of MNIST and Fashion-MNIST (shared by mnist.py and fashion_mnist.py).

IDX layout (big-endian): a 4-byte magic ``0x00 0x00 <type> <ndim>``, then ``ndim`` uint32
sizes, then ``prod(sizes)`` items. Both data sets use unsigned bytes (type 0x08), so the
magic is 2049 (0x0801) for the 1-d label files and 2051 (0x0803) for the 3-d image files, and
a valid file holds exactly ``4 + 4*ndim + prod(sizes)`` bytes.

Files are found, in order, in ``path``, in ``$MINIGRAD_DATA/<name>``, in
``~/.minigrad/datasets/<name>``; each may be raw or gzip-compressed (``<file>.gz``).
Nothing is ever downloaded.
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IMAGE_SHAPE = (28, 28)
N_CLASSES = 10
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def data_dir(name, path=None):
    """The directory to read ``name`` from: ``path``, else $MINIGRAD_DATA/name, else ~/.minigrad."""
    if path is not None:
        return Path(os.fspath(path)).expanduser()
    root = os.environ.get("MINIGRAD_DATA")
    if root:
        return Path(root).expanduser() / name
    return Path.home() / ".minigrad" / "datasets" / name


def _find(directory, stem):
    """``directory/stem`` or ``directory/stem.gz``, whichever exists (raw first); else None."""
    for candidate in (directory / stem, directory / (stem + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _read_bytes(file):
    """All bytes of ``file``, gunzipped when its name ends in .gz."""
    if file.suffix != ".gz":
        return file.read_bytes()
    try:
        with gzip.open(file, "rb") as f:
            return f.read()
    except (EOFError, OSError, zlib.error) as e:  # truncated stream, bad header, bad CRC
        raise ValueError(f"read_idx: {file} is not a readable gzip file ({e})") from None


def read_idx(file, magic):
    """Parse one IDX file of unsigned bytes; returns a uint8 array of the stored shape.

    Checks, each raising ValueError naming the file: the magic number equals ``magic``
    (2049 labels, 2051 images), and the byte count equals ``4 + 4*ndim + prod(dims)``.
    """
    file = Path(file)
    data = _read_bytes(file)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"read_idx: {file} is truncated: expected at least {header} header bytes, "
            f"got {len(data)} bytes"
        )
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(
            f"read_idx: {file} has magic number {found} (0x{found:08x}), expected {magic} "
            f"(0x{magic:08x}); is it an IDX {'label' if magic == LABEL_MAGIC else 'image'} file?"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "longer than its header says"
        raise ValueError(
            f"read_idx: {file} is {kind}: dims {dims} need {expected} bytes, "
            f"got {len(data)} bytes"
        )
    # frombuffer views immutable bytes; copy so callers get a writable array, as Keras gives.
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def _split(directory, images_name, labels_name):
    """One (x, y) pair, with images checked to be 28x28 and counts and labels to agree."""
    images_file, labels_file = _find(directory, images_name), _find(directory, labels_name)
    x = read_idx(images_file, IMAGE_MAGIC)
    y = read_idx(labels_file, LABEL_MAGIC)
    if x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"read_idx: {images_file} holds images of shape {x.shape[1:]}, "
            f"expected {IMAGE_SHAPE}"
        )
    if len(x) != len(y):
        raise ValueError(
            f"read_idx: {images_file} holds {len(x)} images but {labels_file} holds "
            f"{len(y)} labels; expected equal counts"
        )
    if y.size and y.max() >= N_CLASSES:
        raise ValueError(
            f"read_idx: {labels_file} has label {int(y.max())}, expected labels in "
            f"[0, {N_CLASSES})"
        )
    return x, y


def load(name, path=None):
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, (n, 28, 28) and (n,).

    Raises FileNotFoundError naming the directory and the four expected files when any is
    missing (as raw or .gz).
    """
    directory = data_dir(name, path)
    missing = [stem for stem in FILES if _find(directory, stem) is None]
    if missing:
        where = "" if directory.is_dir() else " (the directory does not exist)"
        raise FileNotFoundError(
            f"{name}.load_data: missing {', '.join(missing)} in {directory}{where}. "
            f"Expected the four IDX files {', '.join(FILES)} (each raw or .gz). "
            f"minigrad never downloads: copy them there, pass path=..., or set "
            f"$MINIGRAD_DATA so that $MINIGRAD_DATA/{name} holds them."
        )
    train = _split(directory, FILES[0], FILES[1])
    test = _split(directory, FILES[2], FILES[3])
    return train, test
