"""The benchmark suite, ``python -m minigrad bench`` (see ``cli``): minigrad's training step
against numpy by hand, PyTorch, Keras 3 (torch backend), MyGrad and autograd on the lecture,
medium, deep, large and fit workloads, with the fraction of the physical limit."""
from .cli import add_parser, main, run

__all__ = ["add_parser", "main", "run"]
