"""Experiment grids: per-layer gradient studies over seeds, locally or on a Dask cluster.

A trial builds a feedforward net from a config, measures per-layer gradients at
initialisation, trains and measures again; a study is a grid of trials (API §11)::

    from minigrad import experiments as ex
    grid = ex.Grid(depth=[5, 10], activation=["sigmoid", "relu"], seed=range(10), epochs=5)
    results = ex.run_grid(grid, out="results.jsonl")
    print(results.summary())
"""
from .cases import LECTURE_CASES, case_grid, lecture_cases
from .config import DEFAULTS, KEYS
from .grid import Grid
from .results import Results, Summary, load
from .run import SerialExecutor, run_grid
from .studies import reproduce, studies
from .trial import run_trial

__all__ = ["Grid", "run_grid", "run_trial", "Results", "Summary", "load", "SerialExecutor",
           "DEFAULTS", "KEYS", "LECTURE_CASES", "lecture_cases", "case_grid", "reproduce",
           "studies"]
