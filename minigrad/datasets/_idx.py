"""Reader for the IDX files of MNIST and Fashion-MNIST (shared by mnist.py and fashion_mnist.py).

IDX layout (big-endian): a 4-byte magic ``0x00 0x00 <type> <ndim>``, then ``ndim`` uint32
sizes, then ``prod(sizes)`` items. Both data sets use unsigned bytes (type 0x08), so the
magic is 2049 (0x0801) for the 1-d label files and 2051 (0x0803) for the 3-d image files, and
a valid file holds exactly ``4 + 4*ndim + prod(sizes)`` bytes.

Files are read from ``path`` when it is given; otherwise from the first of
``$MINIGRAD_DATA/<name>``, ``~/.minigrad/datasets/<name>`` and the system dataset directory
``/usr/share/datasets/<system name>`` (where Debian's ``dataset-fashion-mnist`` package puts
Fashion-MNIST) that holds any of the four files; each may be raw or gzip-compressed
(``<file>.gz``). A directory holding only some of them is an error, never skipped. Nothing is
ever downloaded.
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
SYSTEM_DIR = Path("/usr/share/datasets")
# the directory name under SYSTEM_DIR, as Debian packages it (hyphen, not underscore)
SYSTEM_NAMES = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}
INSTALL_LINE = "apt-get install dataset-fashion-mnist"
# what the published sets hold: (train count, test count, training labels per class or None)
KNOWN = {"fashion_mnist": (60000, 10000, 6000), "mnist": (60000, 10000, None)}
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def data_dir(name, path=None):
    """The first directory ``name`` is looked for in: ``path``, else $MINIGRAD_DATA/name, else
    ~/.minigrad/datasets/name (the system directory comes after these; see search_dirs)."""
    return search_dirs(name, path)[0]


def search_dirs(name, path=None):
    """Every directory searched for ``name``, in order: ``[path]`` alone when given, else
    $MINIGRAD_DATA/name (when set), ~/.minigrad/datasets/name, /usr/share/datasets/<system>."""
    if path is not None:
        return [Path(os.fspath(path)).expanduser()]
    dirs = []
    root = os.environ.get("MINIGRAD_DATA")
    if root:
        dirs.append(Path(root).expanduser() / name)
    dirs.append(Path.home() / ".minigrad" / "datasets" / name)
    dirs.append(SYSTEM_DIR / SYSTEM_NAMES.get(name, name))
    return dirs


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


def _pick(name, path=None):
    """``(directory, missing stems)``: the first searched directory holding any of the four
    files (the one ``load`` reads), or ``(None, FILES)`` when none does."""
    for directory in search_dirs(name, path):
        missing = [stem for stem in FILES if _find(directory, stem) is None]
        if len(missing) < len(FILES):
            return directory, missing
    return None, list(FILES)


def complete_dir(name, path=None):
    """The directory ``load`` reads for ``name`` if it holds all four files, else None (so
    "installed" never disagrees with what load_data finds)."""
    directory, missing = _pick(name, path)
    return None if missing else directory


def _check_known(name, directory, train, test):
    """The system copy is a published set: its counts and class balance are known."""
    n_train, n_test, per_class = KNOWN[name]
    for (x, _), stem, n in ((train, FILES[0], n_train), (test, FILES[2], n_test)):
        if len(x) != n:
            raise ValueError(f"{name}.load_data: {directory / stem} holds {len(x)} images, "
                             f"expected {n} in the published {name}")
    if per_class is not None:
        counts = np.bincount(train[1], minlength=N_CLASSES)
        if not (counts == per_class).all():
            raise ValueError(f"{name}.load_data: {directory / FILES[1]} has class counts "
                             f"{counts.tolist()}, expected {per_class} per class")


def _described(directory):
    return str(directory) + ("" if directory.is_dir() else " (the directory does not exist)")


def load(name, path=None):
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, (n, 28, 28) and (n,).

    Reads the first searched directory (see search_dirs) that holds any of the four files.
    FileNotFoundError when none does, naming every directory searched, the four expected
    files and the install line; also when the chosen directory lacks one of them. A copy
    in the system directory is also checked against the published counts (KNOWN).
    """
    dirs = search_dirs(name, path)
    if name == "fashion_mnist":
        hint = f" On Debian, `{INSTALL_LINE}` puts it in {SYSTEM_DIR / SYSTEM_NAMES[name]}."
    else:  # Debian packages Fashion-MNIST only
        hint = (f" Debian ships no {name} package; `{INSTALL_LINE}` installs Fashion-MNIST "
                f"in {SYSTEM_DIR / 'fashion-mnist'}.")
    directory, missing = _pick(name, path)
    if directory is None:
        raise FileNotFoundError(
            f"{name}.load_data: none of the four IDX files {', '.join(FILES)} (each raw or "
            f".gz) in any of: {', '.join(_described(d) for d in dirs)}. minigrad never downloads: "
            f"copy them there, pass path=..., or set $MINIGRAD_DATA so that "
            f"$MINIGRAD_DATA/{name} holds them.{hint}"
        )
    if missing:
        raise FileNotFoundError(
            f"{name}.load_data: missing {', '.join(missing)} in {directory}. "
            f"Expected the four IDX files {', '.join(FILES)} (each raw or .gz). "
            f"minigrad never downloads: copy them there, pass path=..., or set "
            f"$MINIGRAD_DATA so that $MINIGRAD_DATA/{name} holds them.{hint}"
        )
    train = _split(directory, FILES[0], FILES[1])
    test = _split(directory, FILES[2], FILES[3])
    if path is None and directory == dirs[-1]:
        _check_known(name, directory, train, test)
    return train, test
