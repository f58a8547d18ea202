"""Published vanishing-gradient studies as commands (API §11, ``reproduce``).

``reproduce(name, seeds=10, executor=None, out=None, quick=False, dataset="auto")`` runs a
study's trials on the grid engine (``run_grid``: a local pool, any Executor or a Dask
client) and, with ``out=DIR``, writes ``DIR/<name>.jsonl`` (the records; a rerun with the
same ``out`` resumes), ``DIR/<name>.md`` (the table beside the published numbers) and
``DIR/<name>.png``. ``studies()`` lists the names:

- ``lecture``: the cases of ``gradients --compare`` (``experiments.cases``);
- ``nielsen``: Nielsen, *Neural Networks and Deep Learning*, ch. 5;
- ``glorot2010``: Glorot & Bengio (2010), Fig. 2 and 7;
- ``he2015``: He, Zhang, Ren & Sun (2015), Fig. 2 and 3, fully connected;
- ``ioffe2015``: Ioffe & Szegedy (2015), Fig. 1.
"""
import os
import shlex

from ..._checks import boolean, integer
from .glorot2010 import Glorot2010
from .he2015 import He2015
from .ioffe2015 import Ioffe2015
from .lecture import Lecture
from .nielsen import Nielsen

STUDIES = {s.name: s for s in (Lecture(), Nielsen(), Glorot2010(), He2015(), Ioffe2015())}
DATASETS = ("auto", "digits", "digits28", "mnist")
OWNER = "reproduce"


def studies():
    """The names of the studies ``reproduce`` knows, in the order of the lecture."""
    return list(STUDIES)


def get(name):
    """The Study object of ``name``; ValueError listing the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"{OWNER}: the study name must be a str, got {name!r}")
    if name not in STUDIES:
        raise ValueError(f"{OWNER}: unknown study {name!r}; valid: {', '.join(STUDIES)}")
    return STUDIES[name]


def resolve_dataset(dataset):
    """The data set a study runs on: "auto" is "mnist" when its IDX files are found locally
    (``minigrad.datasets.mnist``'s search path), else the shipped "digits"; "mnist" without
    the files raises FileNotFoundError saying where to put them."""
    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise ValueError(f"{OWNER}: unknown dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    if dataset not in ("auto", "mnist"):
        return dataset
    from ...datasets import lecture, mnist
    if dataset == "auto":     # a look for the files, not a parse of 70,000 images
        return "mnist" if lecture.installed("mnist") else "digits"
    try:
        mnist.load_data()
    except FileNotFoundError as e:
        if dataset == "auto":
            return "digits"
        raise FileNotFoundError(f"{OWNER}: --dataset mnist needs the MNIST IDX files, which "
                                f"minigrad never downloads. {e}") from None
    return "mnist"


def reproduce(name, seeds=10, executor=None, out=None, quick=False, dataset="auto",
              progress=False, workers=None):
    """Run the study ``name`` over ``seeds`` seeds (0 .. seeds-1) and return its Results.

    ``quick``: the same architecture with fewer seeds (at most the study's quick count),
    epochs and training samples: seconds, for tests. ``out``: a directory (created) that
    receives ``<name>.jsonl``, ``<name>.md`` and ``<name>.png``; records already in the
    .jsonl (an interrupted run) are kept and only the missing trials run."""
    from ..run import run_grid
    study = get(name)
    seeds = integer(OWNER, "seeds", seeds, 1)
    quick = boolean(OWNER, "quick", quick)
    data = resolve_dataset(dataset)
    seed_list = list(range(min(seeds, study.quick_seeds) if quick else seeds))
    configs = study.configs(seed_list, quick, data)
    jsonl = None
    if out is not None:
        out = os.fspath(out)
        os.makedirs(out, exist_ok=True)
        jsonl = os.path.join(out, f"{name}.jsonl")
        from ...diagnostics.plot import _pyplot
        _pyplot()                   # the plot extra: checked before the trials run
    try:
        results = run_grid(configs, executor=executor, out=jsonl, resume=jsonl is not None,
                           progress=progress, workers=workers)
    except ValueError as e:
        if "written for another grid" not in str(e):
            raise
        raise ValueError(f"{OWNER}: {jsonl!r} holds records of another setup of {name} "
                         f"(other --quick, --dataset or code); use another --out or remove "
                         f"the file. ({e})") from None
    if out is not None:
        first = next(iter(results))["config"]
        meta = {"quick": quick, "seeds": seed_list, "config": first, "dataset": data,
                "command": command_line(name, seeds, quick, dataset)}
        write_text(os.path.join(out, f"{name}.md"), study.markdown(results, meta))
        study.plot(results, os.path.join(out, f"{name}.png"))
    return results


def command_line(name, seeds, quick, dataset):
    """The command that reproduces a run (for the .md)."""
    parts = ["python", "-m", "minigrad", "reproduce", name]
    if seeds != 10:
        parts += ["--seeds", str(seeds)]
    if dataset != "auto":
        parts += ["--dataset", dataset]
    if quick:
        parts.append("--quick")
    return shlex.join(parts)


def write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
